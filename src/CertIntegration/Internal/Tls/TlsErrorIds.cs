namespace CertIntegration.Internal.Tls;

/// <summary>Error IDs of Test-MtlsEndpoint and Get-ServerCertificateChain.</summary>
internal static class TlsErrorIds
{
    public const string CertificateInputInvalid = nameof(CertificateInputInvalid);
    public const string CertificateHasNoPrivateKey = nameof(CertificateHasNoPrivateKey);
    public const string UriInvalid = nameof(UriInvalid);
    public const string UriNotHttps = nameof(UriNotHttps);
    public const string UriMissing = nameof(UriMissing);
    public const string RelativeUriWithoutBase = nameof(RelativeUriWithoutBase);
    public const string HeaderInvalid = nameof(HeaderInvalid);
    public const string ServerUnreachable = nameof(ServerUnreachable);
    public const string TlsHandshakeFailed = nameof(TlsHandshakeFailed);
    public const string ParameterConflict = nameof(ParameterConflict);
}
