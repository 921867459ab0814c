// A fake OAuth token endpoint on 127.0.0.1 for the Pester tests of Get-ServiceKeyToken (loaded with Add-Type). It
// speaks TLS with SslStream, asks for a client certificate and accepts only one whose chain, built from the
// certificates the client sent, ends in the configured root; it reads the form body of POST requests, checks
// grant_type and client_id as SAP's token server does, and answers JSON. It also answers an HTTP CONNECT on the same
// port as a proxy to itself, so a test can ask for any host name without DNS. Test-only code: it stops with Dispose().
#nullable enable
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegrationTests
{
    public sealed class FakeTokenRequest
    {
        public string? ConnectTarget;
        public string? Host;
        public string Method = "";
        public string Path = "";
        public string? ContentType;
        public string? GrantType;
        public string? ClientId;
        public string? ClientCertificateSubject;
        public int ClientCertificatesSent;
        public int Status;
        public string? HandshakeError;
    }

    public sealed class FakeTokenServer : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly SslStreamCertificateContext _serverContext;
        private readonly X509Certificate2 _trustedClientRoot;

        /// <param name="server">The server certificate with its private key.</param>
        /// <param name="serverChain">Intermediates the server sends with its certificate.</param>
        /// <param name="trustedClientRoot">The one root a client certificate must chain to.</param>
        public FakeTokenServer(X509Certificate2 server, X509Certificate2[] serverChain, X509Certificate2 trustedClientRoot)
        {
            _serverContext = SslStreamCertificateContext.Create(server, new X509Certificate2Collection(serverChain), offline: true);
            _trustedClientRoot = trustedClientRoot;
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptLoop();
        }

        public int Port { get; }

        /// <summary>The client_id the token is issued to; any other is invalid_client.</summary>
        public string ExpectedClientId { get; set; } = "";

        /// <summary>The access token handed out on success.</summary>
        public string Token { get; set; } = "";

        public long ExpiresIn { get; set; } = 3599;

        public string Scope { get; set; } = "uaa.resource it-rt.ESBMessaging.send";

        /// <summary>False: the server does not ask for a client certificate (like SAP's plain .authentication. host).</summary>
        public bool RequestClientCertificate { get; set; } = true;

        /// <summary>"token" (default), "html" (a login page instead of JSON) or "no-token" (JSON without access_token).</summary>
        public string Answer { get; set; } = "token";

        public string Url => "https://127.0.0.1:" + Port + "/oauth/token";

        public string ProxyUrl => "http://127.0.0.1:" + Port;

        public ConcurrentQueue<FakeTokenRequest> Requests { get; } = new ConcurrentQueue<FakeTokenRequest>();

        public FakeTokenRequest[] RequestList() => Requests.ToArray();

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(() => Serve(client));
            }
        }

        private async Task Serve(TcpClient client)
        {
            var record = new FakeTokenRequest();
            using (client)
            {
                try
                {
                    client.ReceiveTimeout = 20000;
                    NetworkStream network = client.GetStream();
                    int first = network.ReadByte();
                    if (first < 0) return;
                    Stream plain = new PrefixStream((byte)first, network);
                    if (first == 'C')
                    {
                        // CONNECT host:port: a proxy to itself; the TLS session follows on this connection.
                        string head = await ReadHead(plain);
                        string[] parts = head.Split('\r')[0].Split(' ');
                        record.ConnectTarget = parts.Length > 1 ? parts[1] : "";
                        byte[] ok = Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n");
                        await plain.WriteAsync(ok, 0, ok.Length);
                    }

                    using (var tls = new SslStream(plain, false))
                    {
                        X509Certificate2? clientLeaf = null;
                        int sent = 0;
                        var options = new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = _serverContext,
                            ClientCertificateRequired = RequestClientCertificate,
                            // A resumed session brings the client's leaf without its chain: every connection is a full handshake.
                            AllowTlsResume = false,
                            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                            RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                            {
                                if (certificate == null) return true; // answered 401 below
                                clientLeaf = new X509Certificate2(certificate);
                                var received = new X509Certificate2Collection();
                                if (chain != null) received.AddRange(chain.ChainPolicy.ExtraStore);
                                sent = 1 + received.Count;
                                record.ClientCertificateSubject = clientLeaf.Subject;
                                record.ClientCertificatesSent = sent;
                                using (var own = new X509Chain())
                                {
                                    own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                                    own.ChainPolicy.CustomTrustStore.Add(_trustedClientRoot);
                                    own.ChainPolicy.ExtraStore.AddRange(received);
                                    own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                                    own.ChainPolicy.DisableCertificateDownloads = true;
                                    return own.Build(clientLeaf);
                                }
                            },
                        };
                        try
                        {
                            await tls.AuthenticateAsServerAsync(options, _stop.Token);
                        }
                        catch (Exception ex)
                        {
                            record.HandshakeError = ex.Message;
                            return;
                        }

                        record.ClientCertificateSubject = clientLeaf?.Subject;
                        record.ClientCertificatesSent = sent;
                        await ServeHttp(tls, record, clientLeaf != null);
                    }
                }
                catch (Exception ex)
                {
                    record.HandshakeError ??= ex.Message;
                }
                finally
                {
                    Requests.Enqueue(record);
                }
            }
        }

        private async Task ServeHttp(Stream s, FakeTokenRequest record, bool hasClientCertificate)
        {
            string head = await ReadHead(s);
            string[] lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None);
            string[] requestLine = lines[0].Split(' ');
            record.Method = requestLine[0];
            record.Path = requestLine.Length > 1 ? requestLine[1] : "";
            int length = 0;
            foreach (string l in lines)
            {
                int colon = l.IndexOf(':');
                if (colon <= 0) continue;
                string name = l.Substring(0, colon).Trim().ToLowerInvariant();
                string value = l.Substring(colon + 1).Trim();
                if (name == "content-length") int.TryParse(value, out length);
                if (name == "content-type") record.ContentType = value;
                if (name == "host") record.Host = value;
            }

            var body = new byte[Math.Min(length, 65536)];
            int read = 0;
            while (read < body.Length)
            {
                int n = await s.ReadAsync(body, read, body.Length - read);
                if (n == 0) break;
                read += n;
            }

            var form = new Dictionary<string, string>();
            foreach (string pair in Encoding.UTF8.GetString(body, 0, read).Split('&'))
            {
                int eq = pair.IndexOf('=');
                if (eq <= 0) continue;
                form[Unescape(pair.Substring(0, eq))] = Unescape(pair.Substring(eq + 1));
            }

            form.TryGetValue("grant_type", out record.GrantType);
            form.TryGetValue("client_id", out record.ClientId);

            if (record.Method != "POST" || record.Path != "/oauth/token")
            {
                await Respond(s, record, 404, "application/json", "{\"error\":\"not_found\"}");
            }
            else if (!hasClientCertificate)
            {
                await Respond(s, record, 401, "application/json", "{\"error\":\"unauthorized\",\"error_description\":\"Full authentication is required to access this resource\"}");
            }
            else if (record.GrantType != "client_credentials")
            {
                await Respond(s, record, 400, "application/json", "{\"error\":\"unsupported_grant_type\",\"error_description\":\"Unsupported grant type: " + record.GrantType + "\"}");
            }
            else if (record.ClientId != ExpectedClientId)
            {
                await Respond(s, record, 401, "application/json;charset=UTF-8", "{\"error\":\"invalid_client\",\"error_description\":\"Bad credentials\"}");
            }
            else if (Answer == "html")
            {
                await Respond(s, record, 200, "text/html", "<html><body>Log on</body></html>");
            }
            else if (Answer == "no-token")
            {
                await Respond(s, record, 200, "application/json", "{\"token_type\":\"bearer\",\"expires_in\":" + ExpiresIn + "}");
            }
            else
            {
                await Respond(s, record, 200, "application/json;charset=UTF-8",
                    "{\"access_token\":\"" + Token + "\",\"token_type\":\"bearer\",\"expires_in\":" + ExpiresIn + ",\"scope\":\"" + Scope + "\",\"jti\":\"fake\"}");
            }
        }

        private static string Unescape(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));

        private static async Task Respond(Stream s, FakeTokenRequest record, int status, string contentType, string body)
        {
            record.Status = status;
            byte[] content = Encoding.UTF8.GetBytes(body);
            string reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : status == 400 ? "Bad Request" : "Not Found";
            byte[] head = Encoding.ASCII.GetBytes("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + contentType +
                "\r\nContent-Length: " + content.Length + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
            await s.WriteAsync(head, 0, head.Length);
            await s.WriteAsync(content, 0, content.Length);
            await s.FlushAsync();
        }

        private static async Task<string> ReadHead(Stream s)
        {
            var buf = new List<byte>();
            var one = new byte[1];
            while (buf.Count < 16384)
            {
                int n = await s.ReadAsync(one, 0, 1);
                if (n == 0) break;
                buf.Add(one[0]);
                int c = buf.Count;
                if (c >= 4 && buf[c - 4] == 13 && buf[c - 3] == 10 && buf[c - 2] == 13 && buf[c - 1] == 10) break;
            }
            return Encoding.ASCII.GetString(buf.ToArray());
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }

        /// <summary>A stream that gives back one byte already read before the rest of the inner stream.</summary>
        private sealed class PrefixStream : Stream
        {
            private readonly Stream _inner;
            private int _prefix;

            public PrefixStream(byte prefix, Stream inner) { _prefix = prefix; _inner = inner; }

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() => _inner.Flush();
            public override Task FlushAsync(CancellationToken ct) => _inner.FlushAsync(ct);
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (count == 0) return 0;
                if (_prefix >= 0) { buffer[offset] = (byte)_prefix; _prefix = -1; return 1; }
                return _inner.Read(buffer, offset, count);
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct)
            {
                if (count > 0 && _prefix >= 0) { buffer[offset] = (byte)_prefix; _prefix = -1; return Task.FromResult(1); }
                return _inner.ReadAsync(buffer, offset, count, ct);
            }

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
            {
                if (buffer.Length > 0 && _prefix >= 0) { buffer.Span[0] = (byte)_prefix; _prefix = -1; return new ValueTask<int>(1); }
                return _inner.ReadAsync(buffer, ct);
            }

            public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.WriteAsync(buffer, offset, count, ct);
            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _inner.WriteAsync(buffer, ct);
        }
    }
}
