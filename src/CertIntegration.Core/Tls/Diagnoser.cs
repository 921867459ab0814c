using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Tls;

/// <summary>
/// Turns what a probe observed into plain sentences: the likely cause and the next step. The SAP facts quoted are from
/// SAP's Cloud Integration and SAP BTP documentation.
/// </summary>
internal static class Diagnoser
{
    public static void Explain(MtlsTestResult r, ProbeOptions options)
    {
        var d = new List<string>();
        ClientCredential? cred = options.Credential;
        r.ClientChainMatchesAcceptableIssuers = r.ClientCertificateRequested ? TlsProbe.ChainMatches(cred, r.AcceptableIssuers) : null;
        string where = r.Uri is null ? "the server" : $"{r.Uri.Host}:{r.Uri.Port}";

        // Testing an mTLS endpoint with a certificate the server never asked for tests nothing: a failure, unless
        // the caller said a plain-TLS answer is what they want (-NoClientCertificate, no certificate at all).
        if (cred is not null && r.StatusCode is not null && !r.ClientCertificateRequested && r.Failure is ProbeFailure.None or ProbeFailure.UnexpectedStatus)
        {
            r.Success = false;
            r.Failure = ProbeFailure.ClientCertificateNotRequested;
        }

        switch (r.Failure)
        {
            case ProbeFailure.DnsFailure:
                d.Add($"The host name '{r.Uri?.Host}' could not be resolved (DNS). Check the spelling (for Cloud Integration: the runtime URL 'url' from the service key), your DNS server and VPN. Without -Proxy this cmdlet connects directly; behind a corporate proxy, pass -Proxy (and -ProxyCredential).");
                break;
            case ProbeFailure.ConnectionRefused:
                d.Add($"The connection to {where} was refused: nothing listens on that port, or a firewall rejects it. Check the port in the URL.");
                break;
            case ProbeFailure.ConnectFailed:
                d.Add($"Could not connect to {where}: {r.Error} Check the network path (firewall, VPN; behind a corporate proxy, pass -Proxy).");
                break;
            case ProbeFailure.Timeout:
                d.Add($"No answer within {options.TimeoutSec} s {StageText(r.FailedStage)}. "
                    + (r.FailedStage is "connecting" or "resolving the host name"
                        ? "A firewall that drops packets silently, or a host that is down, looks like this."
                        : "The server accepted the connection but did not go on; raise -TimeoutSec if the endpoint is slow (an iFlow that calls other systems can take long)."));
                break;
            case ProbeFailure.ProxyFailed:
                d.Add(r.Error ?? "The HTTP proxy did not open the tunnel.");
                break;
            case ProbeFailure.Cancelled:
                d.Add("The test was stopped before it finished.");
                break;
            case ProbeFailure.Unexpected:
                d.Add($"The test failed {StageText(r.FailedStage)}: {r.Error}");
                break;
        }

        // Our certificate itself.
        if (cred is not null)
        {
            d.AddRange(cred.LocalProblems(DateTime.UtcNow));
        }

        // The server's certificate.
        if (r.Failure == ProbeFailure.ServerUntrusted)
        {
            var names = r.ServerCertificateErrors.Where(e => e.StartsWith("NameMismatch", StringComparison.Ordinal)).ToList();
            var chain = r.ServerCertificateErrors.Where(e => !e.StartsWith("NameMismatch", StringComparison.Ordinal)).ToList();
            if (chain.Count > 0)
            {
                d.Add(ServerChainAdvice(r, chain));
            }

            if (names.Count > 0)
            {
                d.Add("The server certificate does not name the host in the URL (" + string.Join(" ", names) + ") Use the host name the certificate is issued for.");
            }

            if (r.ServerChangedBetweenConnections)
            {
                d.Add("The server presented a different certificate on the second connection than on the first: another server answers under this name (a pool behind DNS or a load balancer), or something in between intercepts the connection. Compare the chains with Get-ServerCertificateChain, and do not trust this endpoint until the difference is explained.");
            }

            if (cred is not null)
            {
                d.Add(r.ClientCertificateSent
                    ? "With TLS 1.3 the server's certificate is encrypted and .NET checks it only after the handshake: the client certificate (not its private key) was presented to this server before it was found untrusted. No request was sent."
                    : "The client certificate was not presented to a server that failed validation.");
            }
        }

        if (r.Failure == ProbeFailure.HandshakeFailed)
        {
            if (r.ClientCertificateSent)
            {
                d.Add($"The server ended the TLS handshake after receiving the client certificate: it does not accept it (its CA is not trusted there, it lacks the Client Authentication key usage, or it expired). Error: {r.Error}");
            }
            else if (r.ClientCertificateRequested && cred is null)
            {
                d.Add("The server requires a client certificate and none was given: pass -Certificate, or a service key through ConvertFrom-ServiceKey.");
            }
            else
            {
                d.Add($"The TLS handshake failed: {r.Error} The server may not offer TLS 1.2 or 1.3 (older versions are never used), or may not speak TLS on this port.");
            }
        }

        if (r.Failure == ProbeFailure.RejectedAfterHandshake)
        {
            d.Add(r.ClientCertificateSent
                ? "The TLS 1.3 handshake completed, but the server closed the connection on the first read: with TLS 1.3 a server checks the client certificate after the handshake, and this is how it rejects one (CA not trusted by the server, certificate expired or without the Client Authentication key usage)."
                : "The TLS 1.3 handshake completed, but the server closed the connection on the first read: it requires a client certificate and none was sent.");
        }

        // What the server asked for.
        if (r.Failure is ProbeFailure.None or ProbeFailure.UnexpectedStatus or ProbeFailure.ClientCertificateNotRequested or ProbeFailure.RejectedAfterHandshake or ProbeFailure.HandshakeFailed or ProbeFailure.NoAnswer)
        {
            if (cred is not null && !r.ClientCertificateRequested && r.ServerCertificateChain.Length > 0)
            {
                d.Add((r.Failure == ProbeFailure.ClientCertificateNotRequested
                        ? $"The server answered HTTP {r.StatusCode} without asking for a client certificate: this endpoint does not use mTLS, so the certificate was not tested. "
                        : "The server did not ask for a client certificate, so none was sent. ")
                    + "For Cloud Integration, call the runtime URL from the service key (its 'url'), not the design-time (tenant) URL; and check that no proxy or load balancer in between terminates TLS. "
                    + "To test an endpoint without mTLS, use -NoClientCertificate.");
            }

            if (r.ClientChainMatchesAcceptableIssuers == false)
            {
                // An incomplete chain is the cause to fix first: with its intermediates and root, the chain may well
                // reach a CA the server accepts.
                if (!cred!.ChainIsComplete)
                {
                    d.Add("Your certificate's chain is incomplete here: it ends at '" + cred.ChainIssuerNames.Last() + "', which is not a root, so only part of the chain could be sent, and none of it is among the CAs the server accepts ("
                        + string.Join("; ", r.AcceptableIssuers) + "). "
                        + "Pass the certificate with its intermediates (a service key, a PFX or PEM with the whole chain)"
                        + " or, on Windows, install the intermediates in the Intermediate Certification Authorities store.");
                }
                else
                {
                    d.Add("The server asked for a client certificate from these CAs only: " + string.Join("; ", r.AcceptableIssuers)
                        + ". None of them is in your certificate's chain (" + string.Join("; ", cred.ChainIssuerNames) + "), so the server does not trust your root: the request then arrives without a certificate (HTTP 401 on Cloud Integration). "
                        + "Use a certificate issued by one of those CAs (for SAP BTP: a CA from SAP's list of trusted certificate authorities), or have the server trust your root.");
                }
            }
        }

        if (r.StatusCode is int code && !r.Success && r.Failure != ProbeFailure.ClientCertificateNotRequested)
        {
            string body = r.ResponseBody ?? string.Empty;
            bool invalidClient = body.IndexOf("invalid_client", StringComparison.OrdinalIgnoreCase) >= 0;
            if (invalidClient)
            {
                d.Add("The server answered 'invalid_client': the certificate was accepted in the TLS handshake but is not configured for any client. "
                    + "Create a service key for it (key type certificate, or certificate_external with this certificate; only the leaf certificate goes into certificate_external, not the chain), or use the certificate of an existing service key.");
            }
            else if (code == 401)
            {
                d.Add(r.ClientCertificateSent
                    ? "HTTP 401 although the client certificate was sent: the server did not map it to a user. Check that it is the certificate of a service key of the Process Integration Runtime instance (a service key that was deleted or recreated has a new certificate) and that it has not expired."
                    : "HTTP 401: the request arrived without a client certificate. " + (cred is null ? "Pass -Certificate." : "See above why it was not sent."));
            }
            else if (code == 403)
            {
                d.Add("HTTP 403: the certificate was recognised, but its user lacks the authorisation. For Cloud Integration, the service instance needs the role the sender channel requires (by default ESBMessaging.send). After a role change, it can take up to an hour until it applies.");
            }
            else if (code >= 300 && code < 400)
            {
                d.Add($"HTTP {code}: the server redirects to '{r.RedirectLocation}'. Redirects are not followed, so that the certificate is never carried to another host; test that URL directly if it is expected.");
            }
            else if (code == 404)
            {
                d.Add("HTTP 404: authentication passed but there is no endpoint at this path. For Cloud Integration: check that the iFlow is deployed and started and that the path is /http/<address of the HTTPS sender channel>.");
            }
            else if (code == 400 && body.IndexOf("grant", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                d.Add("HTTP 400 about the grant type: SAP has deprecated the client_x509 grant type; with a certificate, request the token with grant_type=client_credentials and your client_id over mTLS.");
            }
            else if (code >= 500)
            {
                d.Add($"HTTP {code}: authentication passed and the server failed while processing the request. For Cloud Integration: look at the message processing log of the iFlow.");
            }
            else
            {
                d.Add($"HTTP {code} {r.ReasonPhrase} is not an expected status" + (options.ExpectedStatusCodes is { Length: > 0 } e ? " (" + string.Join(", ", e) + ")." : " (2xx)."));
            }
        }

        if (r.Failure == ProbeFailure.NoAnswer)
        {
            d.Add($"The server closed the connection without an HTTP answer: {r.Error}");
        }
        else if (r.Failure == ProbeFailure.NotHttp)
        {
            d.Add($"The server's answer is not HTTP: {r.Error}");
        }

        if (options.Body is not null && System.Text.Encoding.UTF8.GetString(options.Body).IndexOf("client_x509", StringComparison.Ordinal) >= 0)
        {
            d.Add("The request uses the client_x509 grant type, which SAP has deprecated; use grant_type=client_credentials with the client certificate instead.");
        }

        r.Diagnosis = d.Distinct().ToArray();
        r.Verdict = r.Success
            ? $"OK {r.StatusCode}"
            : r.Failure == ProbeFailure.ClientCertificateNotRequested ? $"FAILED {r.StatusCode} no mTLS"
            : r.StatusCode is int s ? $"FAILED {s}" : "FAILED " + r.Failure switch
            {
                ProbeFailure.DnsFailure => "DNS",
                ProbeFailure.ConnectionRefused => "refused",
                ProbeFailure.ConnectFailed => "connect",
                ProbeFailure.Timeout => "timeout",
                ProbeFailure.Cancelled => "stopped",
                ProbeFailure.ServerUntrusted => "server certificate",
                ProbeFailure.RejectedAfterHandshake => "rejected after handshake",
                ProbeFailure.HandshakeFailed => "handshake",
                ProbeFailure.NoAnswer => "no answer",
                ProbeFailure.NotHttp => "not HTTP",
                ProbeFailure.ClientCertificateNotRequested => "no mTLS",
                ProbeFailure.ProxyFailed => "proxy",
                ProbeFailure.Unexpected => "error",
                _ => r.Failure.ToString(),
            };
    }

    /// <summary>What to do about a server chain this machine does not trust: the real cause first.</summary>
    private static string ServerChainAdvice(MtlsTestResult r, List<string> errors)
    {
        string all = string.Join(" ", errors) + " ";
        X509Certificate2? leaf = r.ServerCertificateChain.Length > 0 ? r.ServerCertificateChain[0] : null;
        if (all.StartsWith("NotTimeValid", StringComparison.Ordinal) || all.Contains(" NotTimeValid"))
        {
            DateTime now = DateTime.UtcNow;
            X509Certificate2? stale = r.ServerCertificateChain.FirstOrDefault(c => c.NotAfter.ToUniversalTime() < now || c.NotBefore.ToUniversalTime() > now);
            string what = stale is null
                ? "a certificate of the server's chain is expired or not yet valid"
                : stale.NotAfter.ToUniversalTime() < now
                    ? $"the server's certificate '{stale.Subject}' expired on {stale.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC"
                    : $"the server's certificate '{stale.Subject}' is valid only from {stale.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC";
            return $"This machine does not trust the server's certificate: {what}. Trusting its root does not help: the server's operator must renew it (or, when this machine's clock is wrong, correct the clock). ({string.Join(" ", errors)})";
        }

        if (leaf is not null && r.ServerCertificateChain.Length == 1 && string.Equals(leaf.Subject, leaf.Issuer, StringComparison.Ordinal))
        {
            return $"The server presents a self-signed certificate ('{leaf.Subject}', thumbprint {leaf.Thumbprint}), which no machine trusts by itself. "
                + "If this is the right server (ask its operator for the thumbprint), trust that very certificate: 'Get-ServerCertificateChain " + r.Uri + " | Export-CertificateChain' and pass the file with -TrustedCertificate. "
                + $"({string.Join(" ", errors)})";
        }

        if (all.Contains("PartialChain"))
        {
            return "The server does not send the intermediate CA certificate its certificate needs, and this machine does not have it (" + string.Join(" ", errors) + ") "
                + "Strict clients (OpenSSL, Java) fail the same way: the server's operator should send the whole chain. Meanwhile, see what it sends with 'Get-ServerCertificateChain " + r.Uri + "' and pass the missing intermediate and its root with -TrustedCertificate.";
        }

        return "This machine does not trust the server's certificate chain (" + string.Join(" ", errors) + ") A missing root or intermediate CA is what other tools report as an 'SSL handshake error'. "
            + "If this server is the right one, download its chain with 'Get-ServerCertificateChain " + r.Uri + " | Export-CertificateChain' and pass its root with -TrustedCertificate (or install it as a trusted root).";
    }

    /// <summary>"during the TLS handshake", "while connecting": the stage a probe stopped at, as words.</summary>
    private static string StageText(string? stage) => stage switch
    {
        null or "" => "while waiting",
        _ when stage.StartsWith("the ", StringComparison.Ordinal) => "during " + stage,
        _ => "while " + stage,
    };
}
