using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CertIntegration.TestSupport;

/// <summary>Ports and readiness for test servers; everything binds 127.0.0.1 only.</summary>
public static class TestPorts
{
    public static int Free()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:port, or throws.</summary>
    public static void WaitListening(int port, Process? process, TimeSpan max, Func<string>? log = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < max)
        {
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException($"The test server exited with code {process.ExitCode} before listening: {log?.Invoke()}");
            }

            try
            {
                using var c = new TcpClient();
                if (c.ConnectAsync(IPAddress.Loopback, port).Wait(500) && c.Connected)
                {
                    return;
                }
            }
            catch (AggregateException)
            {
            }
            catch (SocketException)
            {
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"Nothing listened on 127.0.0.1:{port} within {max.TotalSeconds} s: {log?.Invoke()}");
    }
}

/// <summary>
/// A server process (openssl s_server, nginx) bounded in time: started under coreutils `timeout` when available, killed
/// with its children on Dispose, its output collected for assertions.
/// </summary>
public abstract class ServerProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    public int Port { get; protected set; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public Process? Process => _process;

    protected void Launch(string file, IEnumerable<string> args, int maxSeconds, string? workDir = null)
    {
        string? timeout = new[] { "/usr/bin/timeout", "/bin/timeout" }.FirstOrDefault(File.Exists);
        var psi = new ProcessStartInfo(timeout ?? file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        if (timeout is not null)
        {
            psi.ArgumentList.Add(maxSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            psi.ArgumentList.Add(file);
        }

        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public virtual void Dispose()
    {
        if (_process is null)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _process = null;
    }
}

/// <summary>openssl s_server with -www on 127.0.0.1 (answers GET / with an HTTP 200 status page).</summary>
public sealed class OpenSslServer : ServerProcess
{
    public static bool Available => Tools.Exists("openssl");

    /// <param name="serverCert">The server's certificate and key.</param>
    /// <param name="sendChain">Certificates the server sends after its own (intermediates).</param>
    /// <param name="extraArgs">e.g. -Verify 2 -CAfile &lt;file&gt;, -tls1_2.</param>
    public static OpenSslServer Start(TempDir dir, Issued serverCert, IEnumerable<Issued> sendChain, params string[] extraArgs)
    {
        string name = "s" + Guid.NewGuid().ToString("N")[..6];
        string cert = dir.Write(name + "-cert.pem", serverCert.CertificatePem);
        string key = dir.Write(name + "-key.pem", serverCert.KeyPemPkcs8);
        var args = new List<string> { "s_server", "-accept", "", "-cert", cert, "-key", key, "-www", "-no_dhe" };
        var chain = sendChain.ToList();
        if (chain.Count > 0)
        {
            args.Add("-cert_chain");
            args.Add(dir.Write(name + "-chain.pem", string.Concat(chain.Select(c => c.CertificatePem))));
        }

        args.AddRange(extraArgs);
        for (int attempt = 0; ; attempt++)
        {
            var server = new OpenSslServer { Port = TestPorts.Free() };
            args[2] = "127.0.0.1:" + server.Port;
            server.Launch("openssl", args, maxSeconds: 180);
            try
            {
                TestPorts.WaitListening(server.Port, server.Process, TimeSpan.FromSeconds(15), () => server.Output);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 2)
            {
                server.Dispose(); // port taken in between: try another
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    public string Url => $"https://127.0.0.1:{Port}/";
}

/// <summary>nginx (foreground, single process) with ssl_verify_client; skipped by tests when nginx is absent.</summary>
public sealed class NginxServer : ServerProcess
{
    public static string? Binary => new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists);

    public static NginxServer Start(TempDir dir, Issued serverCert, IEnumerable<Issued> sendChain, string verifyClient, IEnumerable<Issued> clientCas, int verifyDepth = 3)
    {
        string nginx = Binary ?? throw new InvalidOperationException("nginx is not installed");
        string root = Path.Combine(dir.Path, "nginx-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "fullchain.pem"), serverCert.CertificatePem + string.Concat(sendChain.Select(c => c.CertificatePem)));
        File.WriteAllText(Path.Combine(root, "key.pem"), serverCert.KeyPemPkcs8);
        File.WriteAllText(Path.Combine(root, "clientca.pem"), string.Concat(clientCas.Select(c => c.CertificatePem)));
        for (int attempt = 0; ; attempt++)
        {
            var server = new NginxServer { Port = TestPorts.Free() };
            string conf = $$"""
                daemon off;
                master_process off;
                worker_processes 1;
                pid {{root}}/nginx.pid;
                error_log {{root}}/error.log warn;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path {{root}}/body;
                    proxy_temp_path {{root}}/proxy;
                    server {
                        listen 127.0.0.1:{{server.Port}} ssl;
                        ssl_protocols TLSv1.2 TLSv1.3;
                        ssl_certificate {{root}}/fullchain.pem;
                        ssl_certificate_key {{root}}/key.pem;
                        ssl_verify_client {{verifyClient}};
                        ssl_client_certificate {{root}}/clientca.pem;
                        ssl_verify_depth {{verifyDepth}};
                        default_type text/plain;
                        location / {
                            if ($ssl_client_verify != SUCCESS) { return 401 "no valid client certificate: $ssl_client_verify\n"; }
                            return 200 "hello $ssl_client_s_dn\n";
                        }
                    }
                }
                """;
            string confPath = Path.Combine(root, "nginx.conf");
            File.WriteAllText(confPath, conf);
            server.Launch(nginx, new[] { "-p", root, "-c", confPath, "-e", Path.Combine(root, "error.log") }, maxSeconds: 180, workDir: root);
            try
            {
                TestPorts.WaitListening(server.Port, server.Process, TimeSpan.FromSeconds(15), () => server.Output + ReadLog(root));
                return server;
            }
            catch (InvalidOperationException) when (attempt < 2)
            {
                server.Dispose();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    private static string ReadLog(string root)
    {
        try
        {
            return File.ReadAllText(Path.Combine(root, "error.log"));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    public string Url => $"https://127.0.0.1:{Port}/";
}

/// <summary>
/// An in-process TLS server on 127.0.0.1 (SslStream) whose behaviour is chosen per connection: which certificate it
/// presents, whether it asks for a client certificate, and what it does after the handshake. It records every client
/// certificate it receives, so tests can prove that one was (or was not) presented.
/// </summary>
public sealed class ScriptedTlsServer : IDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<int, System.Net.Security.SslStreamCertificateContext> _certificateFor;
    private readonly System.Security.Authentication.SslProtocols _protocols;
    private readonly Func<int, Stream, CancellationToken, Task>? _afterHandshake;
    private readonly List<string> _clientCertificates = new();
    private readonly Task _loop;
    private int _connections;

    /// <param name="certificateFor">The certificate context (leaf with key, intermediates) to present on connection n (0-based).</param>
    /// <param name="afterHandshake">What to do on connection n after the handshake; default: one HTTP 200 answer.</param>
    public ScriptedTlsServer(Func<int, System.Net.Security.SslStreamCertificateContext> certificateFor,
        System.Security.Authentication.SslProtocols protocols, Func<int, Stream, CancellationToken, Task>? afterHandshake = null)
    {
        _certificateFor = certificateFor;
        _protocols = protocols;
        _afterHandshake = afterHandshake;
        _listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        _listener.Start(256);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    public string Url => $"https://127.0.0.1:{Port}/";

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Subjects of the client certificates received, one per connection that got one.</summary>
    public IReadOnlyList<string> ClientCertificates
    {
        get
        {
            lock (_clientCertificates)
            {
                return _clientCertificates.ToArray();
            }
        }
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            System.Net.Sockets.TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            int n = Interlocked.Increment(ref _connections) - 1;
            _ = Task.Run(() => Serve(client, n));
        }
    }

    private async Task Serve(System.Net.Sockets.TcpClient client, int n)
    {
        using (client)
        {
            try
            {
                using var ssl = new System.Net.Security.SslStream(client.GetStream(), false, (_, cert, _, _) =>
                {
                    if (cert is not null)
                    {
                        lock (_clientCertificates)
                        {
                            _clientCertificates.Add(cert.Subject);
                        }
                    }

                    return true;
                });
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                cts.CancelAfter(TimeSpan.FromSeconds(30));
                await ssl.AuthenticateAsServerAsync(new System.Net.Security.SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _certificateFor(n),
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = _protocols,
                    CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                }, cts.Token);
                if (_afterHandshake is not null)
                {
                    await _afterHandshake(n, ssl, cts.Token);
                    return;
                }

                var buffer = new byte[4096];
                _ = await ssl.ReadAsync(buffer, cts.Token);
                byte[] answer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                await ssl.WriteAsync(answer, cts.Token);
                await ssl.FlushAsync(cts.Token);
            }
            catch (Exception)
            {
                // a client that gives up is part of the tests
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(5000);
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }
}
