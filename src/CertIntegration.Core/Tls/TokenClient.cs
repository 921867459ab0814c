using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Core.Tls;

/// <summary>What one token request needs.</summary>
internal sealed class TokenRequest
{
    public TokenRequest(Uri tokenUrl, string clientId, ClientCredential credential, ServerCertificateValidator validator)
    {
        TokenUrl = tokenUrl;
        ClientId = clientId;
        Credential = credential;
        Validator = validator;
    }

    public Uri TokenUrl { get; }

    public string ClientId { get; }

    public ClientCredential Credential { get; }

    public ServerCertificateValidator Validator { get; }

    public ProxySettings? Proxy { get; set; }

    public int TimeoutSec { get; set; } = 30;
}

/// <summary>
/// The OAuth client-credentials grant over mTLS (RFC 8705): a form POST of grant_type=client_credentials and client_id
/// to the token URL through HttpClient, presenting the client certificate and its intermediates and no secret. The
/// server's certificate is validated (system roots plus -TrustedCertificate). Every failure is a
/// <see cref="CertIntegrationException"/> with a stable ID that names the likely cause; the token never appears in one.
/// </summary>
internal static class TokenClient
{
    /// <summary>Most bytes of an answer read; a token answer is a few kilobytes.</summary>
    public const int MaxAnswerBytes = 1024 * 1024;

    public static async Task<TokenGrant> RequestAsync(TokenRequest request, CancellationToken stop, Action<string>? verbose)
    {
        Uri url = request.TokenUrl;
        string host = url.Host;
        string[]? serverErrors = null;
        bool serverCertificateChecked = false;

        using HttpMessageHandler handler = CreateHandler(request, (certificate, chain, errors) =>
        {
            serverCertificateChecked = true;
            if (certificate is null)
            {
                serverErrors = new[] { "NoCertificate: the server sent no certificate." };
                return false;
            }

            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            var presented = new List<X509Certificate2>();
            if (chain is not null)
            {
                presented.AddRange(chain.ChainPolicy.ExtraStore.Cast<X509Certificate2>());
                presented.AddRange(chain.ChainElements.Cast<X509ChainElement>().Skip(1).Select(e => e.Certificate));
            }

            ServerValidation validation = request.Validator.Validate(certificate, presented, host);
            if (validation.Valid)
            {
                return true;
            }

            serverErrors = validation.Errors;
            return false;
        });
        using var client = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(request.TimeoutSec));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);

        using var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(new[]
            {
                new KeyValuePair<string, string>("grant_type", "client_credentials"),
                new KeyValuePair<string, string>("client_id", request.ClientId),
            }),
        };
        message.Headers.Accept.ParseAdd("application/json");

        int intermediates = request.Credential.Issuers.Count(c => !string.Equals(c.Subject, c.Issuer, StringComparison.Ordinal));
        verbose?.Invoke($"POST {url.GetLeftPart(UriPartial.Path)} (grant_type client_credentials, client_id '{request.ClientId}') with the client certificate '{request.Credential.Subject}'"
            + (intermediates > 0 ? $" and {intermediates} intermediate certificate(s)" : string.Empty)
            + (request.Proxy is null ? string.Empty : $", through the proxy {request.Proxy.Display}") + ".");

        var watch = Stopwatch.StartNew();
        try
        {
            using HttpResponseMessage response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            string body = await ReadBodyAsync(response, linked.Token).ConfigureAwait(false);
            string? contentType = response.Content.Headers.ContentType?.MediaType;
            int status = (int)response.StatusCode;
            verbose?.Invoke($"HTTP {status} {response.ReasonPhrase} from {TokenAnswer.Authority(url)} ({contentType ?? "no content type"}, {Encoding.UTF8.GetByteCount(body)} bytes) after {watch.ElapsedMilliseconds} ms.");
            return TokenAnswer.Read(status, response.ReasonPhrase, contentType, body, url, request.ClientId);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
        {
            throw new CertIntegrationException(ErrorIds.TokenRequestTimedOut, FailureKind.OperationTimeout,
                $"The token server {TokenAnswer.Authority(url)} did not answer within {request.TimeoutSec} s (-TimeoutSec). Likely cause: a firewall drops the connection, or a proxy is needed (-Proxy).", ex);
        }
        catch (HttpRequestException ex)
        {
            throw Explain(ex, url, serverErrors, serverCertificateChecked, request);
        }
    }

    private static HttpMessageHandler CreateHandler(TokenRequest request, Func<X509Certificate2?, X509Chain?, SslPolicyErrors, bool> validate) =>
        HttpHandlers.Create(request.Credential, request.Proxy, cookies: null, (_, certificate, chain, errors) => validate(certificate, chain, errors));

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using Stream stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        while (true)
        {
            int n = await stream.ReadAsync(chunk, 0, chunk.Length, ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            buffer.Write(chunk, 0, (int)Math.Min(n, MaxAnswerBytes - buffer.Length));
            if (buffer.Length >= MaxAnswerBytes)
            {
                break;
            }
        }

        return new UTF8Encoding(false, false).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static CertIntegrationException Explain(HttpRequestException ex, Uri url, string[]? serverErrors, bool serverCertificateChecked, TokenRequest request)
    {
        string at = TokenAnswer.Authority(url);
        string detail = Messages.Clause(Innermost(ex).Message);
        if (serverErrors is { Length: > 0 })
        {
            return new CertIntegrationException(ErrorIds.TokenServerCertificateUntrusted, FailureKind.AuthenticationError,
                $"The token server {at} presented a certificate that is not trusted: {string.Join(" ", serverErrors)} The client certificate was not sent. " +
                "Likely cause: a private token server whose root this machine does not trust (pass it with -TrustedCertificate), a TLS-inspecting proxy, or a wrong host.", ex);
        }

        SocketException? socket = Find<SocketException>(ex);
#if NET8_0_OR_GREATER
        switch (ex.HttpRequestError)
        {
            case HttpRequestError.NameResolutionError:
                return Unreachable(at, $"the host name '{url.Host}' could not be resolved (DNS) ({detail}). Check the token URL's host, or give -Proxy when only a proxy resolves external names.", ex);
            case HttpRequestError.ProxyTunnelError:
                return ProxyFailure(request, at, detail, ex);
            case HttpRequestError.ConnectionError when socket is null && !serverCertificateChecked:
                return Unreachable(at, $"the connection failed ({detail}).", ex);
        }
#endif
        if (socket is not null)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain =>
                    Unreachable(at, $"the host name '{url.Host}' could not be resolved (DNS) ({detail}). Check the token URL's host, or give -Proxy when only a proxy resolves external names.", ex),
                SocketError.ConnectionRefused => Unreachable(at, $"the connection was refused ({detail}): nothing listens on port {url.Port}, or a firewall rejects it.", ex),
                SocketError.TimedOut => Unreachable(at, $"the connection timed out ({detail}): a firewall drops it, or a proxy is needed (-Proxy).", ex),
                _ when !serverCertificateChecked => Unreachable(at, $"the connection failed ({detail}).", ex),
                _ => HandshakeFailed(at, detail, serverCertificateChecked, ex),
            };
        }

        if (request.Proxy is not null && detail.IndexOf("proxy", StringComparison.OrdinalIgnoreCase) >= 0)
        {
            return ProxyFailure(request, at, detail, ex);
        }

        if (Find<AuthenticationException>(ex) is not null || (serverCertificateChecked && Find<IOException>(ex) is not null))
        {
            return HandshakeFailed(at, detail, serverCertificateChecked, ex);
        }

        return Unreachable(at, $"the request failed ({detail}).", ex);
    }

    private static CertIntegrationException HandshakeFailed(string at, string detail, bool serverCertificateChecked, Exception ex) =>
        new(ErrorIds.TlsHandshakeFailed, FailureKind.AuthenticationError, serverCertificateChecked
            ? $"The TLS handshake with the token server {at} failed after its certificate was accepted ({detail}). Likely cause: the server refused the client certificate: " +
              "its root is not among the CAs the load balancer trusts, the intermediates did not reach it, or the certificate has expired."
            : $"The TLS handshake with the token server {at} failed before its certificate was checked ({detail}). Likely cause: no TLS version or cipher in common, or the port does not speak TLS.", ex);

    private static CertIntegrationException Unreachable(string at, string what, Exception ex) =>
        new(ErrorIds.ServerUnreachable, FailureKind.ConnectionError, $"The token server {at} could not be reached: {what}", ex);

    private static CertIntegrationException ProxyFailure(TokenRequest request, string at, string detail, Exception ex)
    {
        string proxy = request.Proxy?.Display ?? "the proxy";
        if (detail.IndexOf("407", StringComparison.Ordinal) >= 0)
        {
            return new CertIntegrationException(ErrorIds.ProxyAuthenticationRequired, FailureKind.AuthenticationError,
                $"The proxy {proxy} refused the tunnel to {at}: it requires authentication" + (request.Proxy?.Credential is null ? "; pass -ProxyCredential." : " and did not accept -ProxyCredential.") + $" ({detail})", ex);
        }

        return new CertIntegrationException(ErrorIds.ProxyRefused, FailureKind.ConnectionError,
            $"The proxy {proxy} refused the tunnel to {at} ({detail}). A proxy answers so when it cannot reach the server (wrong host or port, DNS) or its rules do not allow the destination.", ex);
    }

    private static Exception Innermost(Exception ex)
    {
        Exception e = ex;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static T? Find<T>(Exception ex)
        where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T t)
            {
                return t;
            }
        }

        return null;
    }
}
