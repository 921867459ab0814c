namespace CertIntegration.Internal;

/// <summary>Stable error IDs of Import-CertificateBundle and <see cref="ContainerReader"/>.</summary>
internal static class ImportErrorIds
{
    /// <summary>The bytes are none of the formats read (PEM, DER certificate, PKCS#7, PKCS#12, JKS, service key JSON).</summary>
    public const string NotACertificateContainer = nameof(NotACertificateContainer);

    /// <summary>The format was recognised but the structure is broken or truncated.</summary>
    public const string ContainerCorrupt = nameof(ContainerCorrupt);

    /// <summary>The container was read but holds no certificate (only keys, only a CRL, only public keys...).</summary>
    public const string ContainerHasNoCertificate = nameof(ContainerHasNoCertificate);

    /// <summary>The PKCS#12 file is password-protected and no password (or only the empty one) was given.</summary>
    public const string Pkcs12PasswordRequired = nameof(Pkcs12PasswordRequired);

    /// <summary>The PKCS#12 password is wrong.</summary>
    public const string Pkcs12PasswordIncorrect = nameof(Pkcs12PasswordIncorrect);

    /// <summary>The Java keystore holds a private key and no password was given.</summary>
    public const string KeyStorePasswordRequired = nameof(KeyStorePasswordRequired);

    /// <summary>The Java keystore password (store integrity or key entry) is wrong.</summary>
    public const string KeyStorePasswordIncorrect = nameof(KeyStorePasswordIncorrect);
}
