// A small HTTP CONNECT proxy on 127.0.0.1 for the Pester tests (loaded with Add-Type). It records every tunnel it is
// asked for, can require Basic credentials (407) or refuse every tunnel (403), and relays bytes both ways: the TLS
// session of the client runs end to end through it. Test-only code: it stops with Stop() and serves nothing else.
#nullable enable
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegrationTests
{
    public sealed class ConnectRequest
    {
        public string Target = "";
        public string? Authorization;
        public int Status;
    }

    public sealed class ConnectProxy : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        public ConnectProxy(string? requiredBasic = null, bool refuseAll = false)
        {
            RequiredBasic = requiredBasic;
            RefuseAll = refuseAll;
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptLoop();
        }

        public int Port { get; }
        public string? RequiredBasic { get; }
        public bool RefuseAll { get; }
        public ConcurrentQueue<ConnectRequest> Requests { get; } = new ConcurrentQueue<ConnectRequest>();
        public string Url => "http://127.0.0.1:" + Port;

        public ConnectRequest[] RequestList() => Requests.ToArray();

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                _ = Serve(client);
            }
        }

        private async Task Serve(TcpClient client)
        {
            using (client)
            {
                NetworkStream s = client.GetStream();
                string head = await ReadHead(s);
                string[] lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None);
                string[] first = lines[0].Split(' ');
                var req = new ConnectRequest { Target = first.Length > 1 ? first[1] : "" };
                foreach (string l in lines)
                {
                    if (l.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase))
                    {
                        req.Authorization = l.Substring(l.IndexOf(':') + 1).Trim();
                    }
                }

                Requests.Enqueue(req);
                if (first[0] != "CONNECT") { req.Status = 405; await Answer(s, "405 Method Not Allowed"); return; }
                if (RefuseAll) { req.Status = 403; await Answer(s, "403 Forbidden"); return; }
                if (RequiredBasic != null && req.Authorization != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(RequiredBasic)))
                {
                    req.Status = 407;
                    await Answer(s, "407 Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"test\"\r\n");
                    return;
                }

                int colon = req.Target.LastIndexOf(':');
                using (var upstream = new TcpClient())
                {
                    try { await upstream.ConnectAsync(req.Target.Substring(0, colon).Trim('[', ']'), int.Parse(req.Target.Substring(colon + 1))); }
                    catch (Exception) { req.Status = 502; await Answer(s, "502 Bad Gateway"); return; }
                    req.Status = 200;
                    await Answer(s, "200 Connection established");
                    NetworkStream u = upstream.GetStream();
                    Task a = s.CopyToAsync(u, 81920, _stop.Token);
                    Task b = u.CopyToAsync(s, 81920, _stop.Token);
                    try { await Task.WhenAny(a, b); } catch (Exception) { }
                }
            }
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

        private static async Task Answer(Stream s, string status, string extra = "")
        {
            byte[] b = Encoding.ASCII.GetBytes("HTTP/1.1 " + status + "\r\n" + extra + "Content-Length: 0\r\n\r\n");
            await s.WriteAsync(b, 0, b.Length);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
