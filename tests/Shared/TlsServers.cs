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
