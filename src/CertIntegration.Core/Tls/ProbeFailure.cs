namespace CertIntegration.Core.Tls;

/// <summary>Why a probe did not succeed (None when it did); <see cref="Diagnoser"/> turns it into the likely cause.</summary>
internal enum ProbeFailure
{
    None,
    DnsFailure,
    ConnectionRefused,
    ConnectFailed,
    Timeout,
    Cancelled,
    HandshakeFailed,
    ServerUntrusted,
    RejectedAfterHandshake,
    NoAnswer,
    NotHttp,
    UnexpectedStatus,
    /// <summary>An HTTP answer came, but the server never asked for the client certificate that was given.</summary>
    ClientCertificateNotRequested,
    /// <summary>The HTTP proxy did not open the tunnel (refused, or asked for authentication).</summary>
    ProxyFailed,
    Unexpected,
}
