using System;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration;

/// <summary>
/// The outcome of one Test-MtlsEndpoint probe: what the TLS handshake showed (server chain, whether and from which
/// CAs a client certificate was requested, whether ours was sent), the HTTP answer, and a plain-language diagnosis.
/// Its public properties are text, numbers and dates, so that ConvertTo-Json and Export-Csv give a short readable
/// record; the server's certificates (<see cref="GetServerCertificateChain"/>) and the response body
/// (<see cref="GetResponseBody"/>) are in PowerShell the hidden properties ServerCertificateChain and ResponseBody
/// (CertIntegration.Types.ps1xml).
/// </summary>
public sealed class MtlsTestResult
{
    /// <summary>The endpoint that was tested (after resolving a relative URI against the service key's url).</summary>
    public Uri? Uri { get; internal set; }

    /// <summary>True when the endpoint answered with an expected status code (default: any 2xx).</summary>
    public bool Success { get; internal set; }

    /// <summary>"OK" or "FAILED", followed by the status code or the stage that failed: the verdict at a glance.</summary>
    public string Verdict { get; internal set; } = string.Empty;

    /// <summary>HTTP status code, or null when no HTTP answer arrived.</summary>
    public int? StatusCode { get; internal set; }

    public string? ReasonPhrase { get; internal set; }

    /// <summary>Negotiated TLS version (Tls12, Tls13), or null when no handshake completed.</summary>
    public string? TlsProtocol { get; internal set; }

    public string? CipherSuite { get; internal set; }

    /// <summary>The certificates the server presented, leaf first, in the order it sent them.</summary>
    internal X509Certificate2[] ServerCertificateChain { get; set; } = Array.Empty<X509Certificate2>();

    /// <summary>The certificates the server presented, leaf first, as a copy; in PowerShell the ServerCertificateChain property.</summary>
    public X509Certificate2[] GetServerCertificateChain() => (X509Certificate2[])ServerCertificateChain.Clone();

    /// <summary>Subject of the server's certificate (the first it presented), or null when it presented none.</summary>
    public string? ServerCertificateSubject => ServerLeaf?.Subject;

    /// <summary>Thumbprint of the server's certificate.</summary>
    public string? ServerCertificateThumbprint => ServerLeaf?.Thumbprint;

    /// <summary>Expiry of the server's certificate, in local time.</summary>
    public DateTime? ServerCertificateNotAfter => ServerLeaf?.NotAfter;

    /// <summary>Subject of each certificate the server presented, in the order it sent them.</summary>
    public TextList ServerChainSubjects => new(ServerCertificateChain.Select(c => c.Subject));

    /// <summary>True when the server chain is trusted (system roots plus -TrustedCertificate) and names the host.</summary>
    public bool ServerCertificateValid { get; internal set; }

    public TextList ServerCertificateErrors { get; internal set; } = TextList.None;

    /// <summary>True when the server asked for a client certificate during the handshake.</summary>
    public bool ClientCertificateRequested { get; internal set; }

    /// <summary>Distinguished names of the CAs the server said it accepts client certificates from (may be empty).</summary>
    public TextList AcceptableIssuers { get; internal set; } = TextList.None;

    /// <summary>True when our client certificate (with its intermediates) went out in the handshake.</summary>
    public bool ClientCertificateSent { get; internal set; }

    /// <summary>Subject of the client certificate used, when one was given.</summary>
    public string? ClientCertificateSubject { get; internal set; }

    /// <summary>Thumbprint of the client certificate used, when one was given.</summary>
    public string? ClientCertificateThumbprint { get; internal set; }

    /// <summary>
    /// True when a CA of our chain is among <see cref="AcceptableIssuers"/>, false when the server named CAs and none
    /// of ours is among them, null when it cannot be told (no certificate requested, no CA names sent, no certificate).
    /// </summary>
    public bool? ClientChainMatchesAcceptableIssuers { get; internal set; }

    /// <summary>
    /// True when the server presented another certificate on the real connection than on the observing one (another
    /// server behind the same name, or someone in between).
    /// </summary>
    public bool ServerChangedBetweenConnections { get; internal set; }

    /// <summary>Location header of a redirect (never followed).</summary>
    public string? RedirectLocation { get; internal set; }

    public long ElapsedMilliseconds { get; internal set; }

    /// <summary>The first few KB of the response body, decoded as UTF-8.</summary>
    internal string? ResponseBody { get; set; }

    /// <summary>
    /// The first few KB of the response body, decoded as UTF-8; in PowerShell the hidden property ResponseBody (kept out
    /// of the JSON and CSV record: up to 8 KB of a page is no log line).
    /// </summary>
    public string? GetResponseBody() => ResponseBody;

    /// <summary>Plain sentences naming the likely cause of a failure and the next step.</summary>
    public TextList Diagnosis { get; internal set; } = TextList.None;

    /// <summary>The technical error, when the probe failed before an HTTP answer.</summary>
    public string? Error { get; internal set; }

    internal CertIntegration.Core.Tls.ProbeFailure Failure { get; set; }

    /// <summary>The stage a timeout hit (resolving, connecting, handshake, response).</summary>
    internal string? FailedStage { get; set; }

    private X509Certificate2? ServerLeaf => ServerCertificateChain.Length > 0 ? ServerCertificateChain[0] : null;

    public override string ToString() => $"{Verdict} {Uri}";
}
