namespace CertIntegration;

/// <summary>PFX encryption profiles.</summary>
public enum PfxEncryption
{
    /// <summary>3DES (pbeWithSHAAnd3-KeyTripleDES-CBC) for key and certificates, HMAC-SHA1 MAC: read by Windows Server 2016, STRUST, Java 8 and OpenSSL 3 without -legacy.</summary>
    TripleDesSha1,

    /// <summary>PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC: what OpenSSL 3 writes by default.</summary>
    Aes256Sha256,
}
