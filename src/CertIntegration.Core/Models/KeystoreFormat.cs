namespace CertIntegration;

/// <summary>Keystore file formats Export-Keystore writes (both are what the tenant's Keystore Monitor uploads).</summary>
public enum KeystoreFormat
{
    /// <summary>PKCS#12 (.p12, .pfx): key entries and trusted-certificate entries as Java's keytool writes them.</summary>
    Pkcs12,

    /// <summary>Java keystore (.jks, magic bytes FEEDFEED): key entries protected with the store password.</summary>
    Jks,
}
