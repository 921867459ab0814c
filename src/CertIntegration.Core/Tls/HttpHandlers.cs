using System;
using System.Net;
using System.Net.Http;
#if NET8_0_OR_GREATER
using System.Net.Security;
using System.Security.Authentication;
#endif
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Tls;

/// <summary>
/// The HttpClient handler every HTTPS client of the module uses (the token request, the Cloud Integration API): no
/// redirects, TLS 1.2/1.3, no revocation downloads, the proxy only when one is given, and the server certificate
/// validated by <paramref name="validate"/> (called with the host asked for). With a client credential the leaf and
/// its intermediates are presented; with a cookie container the handler keeps the session's cookies.
/// </summary>
internal static class HttpHandlers
{
    public static HttpMessageHandler Create(
        ClientCredential? credential,
        ProxySettings? proxy,
        CookieContainer? cookies,
        Func<string, X509Certificate2?, X509Chain?, System.Net.Security.SslPolicyErrors, bool> validate)
    {
        // Direct unless -Proxy is given (as Test-MtlsEndpoint): the answer is then the server's, not a proxy's.
        IWebProxy? webProxy = proxy is { } p ? new WebProxy(p.Address) { Credentials = p.Credential, BypassProxyOnLocal = false } : null;
#if NET8_0_OR_GREATER
        // SocketsHttpHandler with a certificate context: HttpClientHandler would send the leaf alone (its
        // ClientCertificates only pick the leaf), while the load balancer validates the chain against its roots.
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new CookieContainer(),
            MaxResponseHeadersLength = 64,
            UseProxy = webProxy is not null,
            Proxy = webProxy,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = credential?.Context,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    validate((sender as SslStream)?.TargetHostName ?? string.Empty,
                        certificate is null ? null : certificate as X509Certificate2 ?? new X509Certificate2(certificate), chain, errors),
            },
        };
#else
        var handler = new HttpClientHandler
        {
            ClientCertificateOptions = ClientCertificateOption.Manual,
            AllowAutoRedirect = false,
            UseCookies = cookies is not null,
            UseDefaultCredentials = false,
            MaxResponseHeadersLength = 64,
            SslProtocols = System.Security.Authentication.SslProtocols.Tls12,
            CheckCertificateRevocationList = false,
            UseProxy = webProxy is not null,
            Proxy = webProxy,
            ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) => validate(request.RequestUri?.Host ?? string.Empty, certificate, chain, errors),
        };
        if (cookies is not null)
        {
            handler.CookieContainer = cookies;
        }

        if (credential is not null)
        {
            // The leaf with its key, then the intermediates. SChannel (Windows PowerShell) sends with the leaf the
            // intermediates it finds in the Windows stores.
            handler.ClientCertificates.Add(credential.Leaf);
            foreach (X509Certificate2 issuer in credential.Issuers)
            {
                handler.ClientCertificates.Add(issuer);
            }
        }

        return handler;
#endif
    }
}
