using System.Collections.Generic;

namespace CertIntegration.Core.Tls;

/// <summary>What one probe is asked to do.</summary>
internal sealed class ProbeOptions
{
    public string Method { get; set; } = "GET";

    public byte[]? Body { get; set; }

    public string? ContentType { get; set; }

    /// <summary>Request headers, in the order given; the cmdlet layer turns -Headers into these.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; set; }

    public int TimeoutSec { get; set; } = 30;

    public int[]? ExpectedStatusCodes { get; set; }

    public ServerCertificateValidator Validator { get; set; } = new(null);

    public bool SkipCertificateCheck { get; set; }

    /// <summary>The client certificate to present when the server asks; null to probe without one.</summary>
    public ClientCredential? Credential { get; set; }

    public int MaxBodyBytes { get; set; } = 8 * 1024;

    /// <summary>Observing handshakes already made in this cmdlet call, shared by its probes; null to observe every time.</summary>
    public ObservationCache? Observations { get; set; }

    /// <summary>The HTTP proxy to tunnel through (CONNECT), or null to connect directly.</summary>
    public ProxySettings? Proxy { get; set; }
}
