using System.Collections.Generic;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration;

/// <summary>
/// The chain a TLS server presented (Get-ServerCertificateChain), leaf first, with what this machine made of it.
/// It is a bundle without a key, so it pipes into Export-CertificateChain like any other bundle.
/// </summary>
public sealed class ServerCertificateChain : CertificateBundle
{
    internal ServerCertificateChain(IReadOnlyList<X509Certificate2> chain, string hostName, int port)
        : base(chain, null)
    {
        HostName = hostName;
        Port = port;
        Source = $"{hostName}:{port}";
    }

    /// <summary>The server's host name, as connected to.</summary>
    public string HostName { get; }

    public int Port { get; }

    /// <summary>True when the chain validates here (offline: against this machine's roots and -TrustedCertificate).</summary>
    public bool IsTrusted { get; internal set; }

    /// <summary>Why the chain does not validate (e.g. UntrustedRoot, PartialChain, NotTimeValid); empty when trusted.</summary>
    public TextList ValidationErrors { get; internal set; } = TextList.None;

    /// <summary>True when -IncludeRoot appended a root the server did not send, found on this machine.</summary>
    public bool RootAddedFromLocalStore { get; internal set; }

    /// <summary>True when the server asked for a client certificate in the handshake.</summary>
    public bool ClientCertificateRequested { get; internal set; }

    /// <summary>The CAs whose client certificates the server accepts (its CertificateRequest list); empty when it named none.</summary>
    public TextList AcceptableIssuers { get; internal set; } = TextList.None;

    /// <summary>The negotiated TLS version (Tls12, Tls13).</summary>
    public string? TlsProtocol { get; internal set; }

    public override string ToString() => $"{HostName}:{Port} {Subject} trusted={IsTrusted}";
}
