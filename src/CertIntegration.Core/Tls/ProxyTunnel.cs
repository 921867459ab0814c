using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Core.Tls;

/// <summary>An HTTP proxy to reach servers through (-Proxy, -ProxyCredential).</summary>
internal sealed class ProxySettings
{
    public ProxySettings(Uri address, NetworkCredential? credential)
    {
        Address = address;
        Credential = credential;
    }

    /// <summary>http://host:port of the proxy.</summary>
    public Uri Address { get; }

    /// <summary>Basic credentials for the proxy, or null.</summary>
    public NetworkCredential? Credential { get; }

    /// <summary>The proxy as shown to users: scheme, host and port, never credentials in the URL.</summary>
    public string Display => $"{Address.Scheme}://{Address.Host}:{Address.Port}";
}

/// <summary>
/// An HTTP CONNECT tunnel: the TLS session then runs end to end between this machine and the server, through the
/// proxy, which sees only the host name and port. There is no library call for a raw tunnel (HttpClient tunnels
/// only its own requests), so the CONNECT request is written here and its answer read by <see cref="MiniHttp"/>.
/// </summary>
internal static class ProxyTunnel
{
    /// <summary>How much of a refusing proxy's answer is kept for the message.</summary>
    private const int MaxAnswerBody = 2048;

    public static async Task<Socket> OpenAsync(ProxySettings proxy, string host, int port, CancellationToken ct, Action<string> stage)
    {
        Socket socket = await TlsProbe.ConnectAsync(proxy.Address.IdnHost, proxy.Address.Port, ct, s => stage(s + " (to the proxy)")).ConfigureAwait(false);
        try
        {
            stage("opening the tunnel through the proxy");
            using var stream = new NetworkStream(socket, ownsSocket: false);
            using (ct.Register(() => socket.Dispose()))
            {
                byte[] request = BuildConnect(host, port, proxy.Credential);
                await stream.WriteAsync(request, 0, request.Length, ct).ConfigureAwait(false);
                HttpAnswer answer = await MiniHttp.ReadAnswerAsync(stream, headRequest: true, MaxAnswerBody, ct).ConfigureAwait(false);
                if (answer.StatusCode is >= 200 and < 300)
                {
                    return socket;
                }

                throw Refused(proxy, host, port, answer);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    internal static byte[] BuildConnect(string host, int port, NetworkCredential? credential)
    {
        string authority = (host.IndexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n");
        sb.Append("Host: ").Append(authority).Append("\r\n");
        if (credential is not null)
        {
            string user = string.IsNullOrEmpty(credential.Domain) ? credential.UserName : credential.Domain + "\\" + credential.UserName;
            sb.Append("Proxy-Authorization: Basic ").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + credential.Password))).Append("\r\n");
        }

        sb.Append("\r\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static CertIntegrationException Refused(ProxySettings proxy, string host, int port, HttpAnswer answer)
    {
        string status = $"HTTP {answer.StatusCode} {answer.ReasonPhrase}".Trim();
        if (answer.StatusCode == 407)
        {
            string schemes = answer.Header("Proxy-Authenticate") is { Length: > 0 } a ? $" It asks for: {Printable(a)}." : string.Empty;
            return new CertIntegrationException(ErrorIds.ProxyAuthenticationRequired, FailureKind.AuthenticationError,
                $"The proxy {proxy.Display} refused the tunnel to {host}:{port} ({status}): it requires authentication"
                + (proxy.Credential is null ? "; pass -ProxyCredential." : " and did not accept the -ProxyCredential given (only Basic authentication is sent).") + schemes);
        }

        return new CertIntegrationException(ErrorIds.ProxyRefused, FailureKind.ConnectionError,
            $"The proxy {proxy.Display} refused the tunnel to {host}:{port} ({status}). A proxy answers so when it cannot reach the server (wrong host or port, DNS) or its rules do not allow the destination.");
    }

    private static string Printable(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s)
        {
            if (sb.Length >= 120)
            {
                break;
            }

            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return sb.ToString();
    }
}
