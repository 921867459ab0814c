namespace CertIntegration;

/// <summary>What Test-CertificateBundle checks a certificate for: a TLS client (mTLS to SAP) or a TLS server.</summary>
public enum CertificatePurpose
{
    /// <summary>TLS client authentication: the Client Authentication EKU (1.3.6.1.5.5.7.3.2) is required.</summary>
    Client,

    /// <summary>TLS server authentication: the Server Authentication EKU (1.3.6.1.5.5.7.3.1) is required.</summary>
    Server,
}
