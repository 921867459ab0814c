using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration;

/// <summary>
/// A certificate with its chain (leaf first, then each issuer up to the root) and, when known, its private key.
/// This is the object the CertIntegration cmdlets pass to each other. The private key stays inside: it is never
/// exposed as a property, printed or serialised; only Export-PrivateKey and New-PfxFromPem write it out.
/// </summary>
public class CertificateBundle
{
    private readonly X509Certificate2[] _chain;

    internal CertificateBundle(IReadOnlyList<X509Certificate2> chain, PrivateKeyMaterial? key)
    {
        if (chain is null || chain.Count == 0)
        {
            throw new ArgumentException("A bundle needs at least one certificate.", nameof(chain));
        }

        _chain = chain.ToArray();
        _key = key;
    }

    /// <summary>
    /// A bundle of one certificate, e.g. from Cert:\CurrentUser\My or Get-PfxCertificate: its private key, when it
    /// has one, stays with the platform (a Windows key container, an OpenSSL key) and is used from there to
    /// authenticate; it is copied out only where a file needs it (New-PfxFromPem, Export-PrivateKey), and only when
    /// the platform allows its export. PowerShell uses this constructor to pass an X509Certificate2 to parameters
    /// that take a bundle.
    /// </summary>
    public CertificateBundle(X509Certificate2 certificate)
    {
        if (certificate is null)
        {
            throw new ArgumentNullException(nameof(certificate));
        }

        _chain = new[] { certificate };
        MadeFromCertificate = true;
        PlatformCertificate = certificate.HasPrivateKey ? certificate : null;
    }

    /// <summary>The leaf (end-entity) certificate.</summary>
    public X509Certificate2 Certificate => _chain[0];

    /// <summary>The leaf and each issuer up to the root, in order. A copy: changing it does not change the bundle.</summary>
    public X509Certificate2[] Chain => (X509Certificate2[])_chain.Clone();

    /// <summary>True when the bundle carries the leaf's private key (or the platform holds it for the leaf).</summary>
    public bool HasPrivateKey => _key is not null || PlatformCertificate is not null;

    public string Subject => Certificate.Subject;

    public string Issuer => Certificate.Issuer;

    /// <summary>Expiry in local time, like <see cref="X509Certificate2.NotAfter"/>.</summary>
    public DateTime NotAfter => Certificate.NotAfter;

    public DateTime NotBefore => Certificate.NotBefore;

    /// <summary>Whole days until expiry (negative once expired), computed in UTC so the time zone does not shift it.</summary>
    public int DaysRemaining => DaysUntil(Certificate.NotAfter, DateTime.UtcNow);

    public string Thumbprint => Certificate.Thumbprint;

    /// <summary>Common name of the leaf, or its whole subject when it has none.</summary>
    public string CommonName => CertificateNames.CommonName(Certificate);

    /// <summary>Number of certificates in <see cref="Chain"/>.</summary>
    public int ChainLength => _chain.Length;

    /// <summary>OAuth client ID of the service key this bundle came from.</summary>
    public string? ClientId { get; internal set; }

    /// <summary>Runtime URL of the service key (the base for /http/... endpoints).</summary>
    public string? Url { get; internal set; }

    /// <summary>Token URL of the service key.</summary>
    public string? TokenUrl { get; internal set; }

    /// <summary>Service key type: certificate or certificate_external; empty when the bundle did not come from a service key.</summary>
    public string? KeyType { get; internal set; }

    /// <summary>The name the container gave the leaf: its JKS alias or PKCS#12 friendlyName; null when it had none.</summary>
    public string? Alias { get; internal set; }

    /// <summary>The file this bundle was read from, when it came from a file.</summary>
    public string? Source { get; internal set; }

    /// <summary>
    /// The certificatedetails SAP put beside the certificate in the service key this bundle came from (issuer,
    /// subject, serial number, expiry); null when the bundle did not come from a service key that has them.
    /// </summary>
    public ServiceKeyCertificateDetails? CertificateDetails { get; internal set; }

    /// <summary>Why the private key that came with this certificate was left out: it belongs to another certificate.</summary>
    internal string? KeyMismatch { get; set; }

    /// <summary>True when the file or service key listed this chain in another order than leaf first, then each issuer.</summary>
    internal bool SourceOutOfOrder { get; set; }

    /// <summary>The common names of the chain in the order the source listed them, when <see cref="SourceOutOfOrder"/>.</summary>
    internal string[]? SourceOrder { get; set; }

    /// <summary>
    /// The key as the core handles it: read with the bundle, or exported from the platform on first use. Null when
    /// there is none, or when the platform holds one it will not export (see <see cref="PlatformCertificate"/>).
    /// </summary>
    internal PrivateKeyMaterial? Key => _key ??= PlatformCertificate is { } c ? PlatformKey.TryExport(c) : null;

    /// <summary>The leaf with its key in the platform, for a bundle made from an X509Certificate2 with a private key.</summary>
    internal X509Certificate2? PlatformCertificate { get; }

    /// <summary>True for a bundle PowerShell made from an X509Certificate2 (with or without a key).</summary>
    internal bool MadeFromCertificate { get; }

    private PrivateKeyMaterial? _key;

    internal static int DaysUntil(DateTime notAfter, DateTime utcNow) =>
        (int)Math.Floor((notAfter.ToUniversalTime() - utcNow).TotalDays);

    public override string ToString() =>
        $"{Subject} [{Thumbprint}] chain={_chain.Length} key={(HasPrivateKey ? "yes" : "no")} expires={NotAfter:yyyy-MM-dd}";
}
