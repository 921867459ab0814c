using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security;
#if NET8_0_OR_GREATER
using System.Net.Security;
#endif
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Tls;

/// <summary>
/// A client certificate ready for SslStream: the leaf as an <see cref="X509Certificate2"/> with its private key, and the
/// intermediates to send with it. Made once per cmdlet call and shared by all probes (read-only after construction).
/// </summary>
internal sealed class ClientCredential : IDisposable
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private const string AnyEkuOid = "2.5.29.37.0";
    private readonly bool _ownsLeaf;
#if NET8_0_OR_GREATER
    private readonly object _gate = new();
    private SslStreamCertificateContext? _context;
#endif

    private ClientCredential(X509Certificate2 leaf, X509Certificate2[] issuers, bool ownsLeaf, string? baseUrl)
    {
        Leaf = leaf;
        Issuers = issuers;
        _ownsLeaf = ownsLeaf;
        BaseUrl = baseUrl;
    }

    /// <summary>The leaf with its private key.</summary>
    public X509Certificate2 Leaf { get; }

    /// <summary>The rest of the chain (intermediates, possibly the root), in order.</summary>
    public X509Certificate2[] Issuers { get; }

    /// <summary>The service key's url, the base for relative URIs.</summary>
    public string? BaseUrl { get; }

    public string Subject => Leaf.Subject;

    /// <summary>True when the chain we have ends in a self-signed root.</summary>
    public bool ChainIsComplete
    {
        get
        {
            X509Certificate2 last = Issuers.Length > 0 ? Issuers[Issuers.Length - 1] : Leaf;
            return string.Equals(last.Subject, last.Issuer, StringComparison.Ordinal);
        }
    }

#if NET8_0_OR_GREATER
    /// <summary>A context that makes SslStream send the leaf and the intermediates (offline: no AIA fetching).</summary>
    public SslStreamCertificateContext Context
    {
        get
        {
            lock (_gate)
            {
                return _context ??= SslStreamCertificateContext.Create(Leaf, new X509Certificate2Collection(Issuers), offline: true);
            }
        }
    }
#endif

    /// <summary>Distinguished names of every CA in our chain: the issuer of each certificate.</summary>
    public IEnumerable<string> ChainIssuerNames => new[] { Leaf }.Concat(Issuers).Select(c => c.Issuer).Distinct(StringComparer.OrdinalIgnoreCase);

    /// <summary>Problems with the certificate itself that make servers reject it; checked before connecting.</summary>
    public List<string> LocalProblems(DateTime utcNow)
    {
        var problems = new List<string>();
        if (Leaf.NotAfter.ToUniversalTime() < utcNow)
        {
            problems.Add($"The client certificate '{Leaf.Subject}' expired on {Leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; servers reject it in the TLS handshake. Create a new certificate (for a service key: a new service key).");
        }
        else if (Leaf.NotBefore.ToUniversalTime() > utcNow)
        {
            problems.Add($"The client certificate '{Leaf.Subject}' is not valid before {Leaf.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; check this machine's clock.");
        }

        if (!HasClientAuthEku(Leaf))
        {
            problems.Add($"The client certificate '{Leaf.Subject}' lacks the Client Authentication extended key usage (1.3.6.1.5.5.7.3.2). SAP's load balancers reject such certificates in the TLS handshake; use a certificate issued for client authentication.");
        }

        return problems;
    }

    /// <summary>
    /// Windows PowerShell (SChannel) sends with the leaf only the intermediates it finds in the Windows certificate
    /// stores. Names the intermediates of our chain that are in neither Intermediate Certification Authorities store.
    /// Always empty on PowerShell 7, where the chain is handed to SslStream directly.
    /// </summary>
    public List<string> IntermediatesSChannelCannotFind()
    {
        var missing = new List<string>();
#if !NET8_0_OR_GREATER
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return missing;
        }

        var known = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (StoreLocation location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
        {
            try
            {
                using var store = new X509Store(StoreName.CertificateAuthority, location);
                store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                foreach (X509Certificate2 c in store.Certificates)
                {
                    known.Add(c.Thumbprint);
                }
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // store not readable: treat as empty
            }
        }

        foreach (X509Certificate2 issuer in Issuers)
        {
            if (!string.Equals(issuer.Subject, issuer.Issuer, StringComparison.Ordinal) && !known.Contains(issuer.Thumbprint))
            {
                missing.Add(issuer.Subject);
            }
        }
#endif
        return missing;
    }

    public static bool HasClientAuthEku(X509Certificate2 cert)
    {
        foreach (X509Extension ext in cert.Extensions)
        {
            if (ext is X509EnhancedKeyUsageExtension eku)
            {
                foreach (var oid in eku.EnhancedKeyUsages)
                {
                    if (oid.Value == ClientAuthOid || oid.Value == AnyEkuOid)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        // No EKU extension: the certificate is not restricted.
        return true;
    }

    /// <summary>From -Certificate: a bundle with its key, or an X509Certificate2 with its private key (already unwrapped from PowerShell's wrapper).</summary>
    public static ClientCredential FromObject(object? value)
    {
        switch (value)
        {
            case CertificateBundle bundle:
                return FromBundle(bundle);
            case X509Certificate2 cert:
                if (!cert.HasPrivateKey)
                {
                    throw new CertIntegrationException(ErrorIds.CertificateHasNoPrivateKey, FailureKind.InvalidArgument,
                        $"The certificate '{cert.Subject}' has no private key available, so it cannot authenticate a client. Pass a certificate with its private key (e.g. from Cert:\\CurrentUser\\My), a bundle from ConvertFrom-ServiceKey, or -PfxPath.");
                }

                return new ClientCredential(cert, FindIssuers(cert), ownsLeaf: false, baseUrl: null);
            case null:
                throw new CertIntegrationException(ErrorIds.CertificateInputInvalid, FailureKind.InvalidArgument, "-Certificate is null.");
            default:
                throw new CertIntegrationException(ErrorIds.CertificateInputInvalid, FailureKind.InvalidArgument,
                    $"-Certificate takes a CertificateBundle (from ConvertFrom-ServiceKey or Import-CertificateBundle) or an X509Certificate2 with a private key, not a {value.GetType().Name}.");
        }
    }

    public static ClientCredential FromBundle(CertificateBundle bundle)
    {
        if (bundle.MadeFromCertificate)
        {
            // An X509Certificate2 given for -Certificate: its key stays where the platform keeps it, and its
            // intermediates come from the platform's stores, with the same checks and words as before.
            return FromObject(bundle.Certificate);
        }

        if (bundle.Key is null)
        {
            throw new CertIntegrationException(ErrorIds.BundleHasNoPrivateKey, FailureKind.InvalidArgument,
                $"The bundle '{bundle.Subject}' has no private key, so it cannot authenticate a client. Read the certificate together with its key (a service key, a PFX, or PEM with the key).");
        }

        X509Certificate2 leaf = CertificateWithKey.Load(bundle, CertificateWithKey.SslStreamFlags(), "CertIntegration probe");
        return new ClientCredential(leaf, bundle.Chain.Skip(1).ToArray(), ownsLeaf: true, baseUrl: bundle.Url);
    }

    /// <summary>
    /// Reads a certificate container (PFX, or any other form Import-CertificateBundle reads) into a credential: the
    /// first bundle that carries a private key. Hostile files fail fast in the shared reader.
    /// </summary>
    public static ClientCredential FromPfx(string path, SecureString? password)
    {
        var leftOut = new List<string>();
        IReadOnlyList<CertificateBundle> bundles = ContainerReader.ReadFile(path, password, verbose: null, leftOut.Add);
        CertificateBundle? withKey = bundles.FirstOrDefault(b => b.HasPrivateKey);
        if (withKey is null)
        {
            // Keys that were left out (one of another certificate, one that could not be read) say why there is none.
            throw new CertIntegrationException(ErrorIds.PemNoPrivateKey, FailureKind.InvalidData,
                $"'{path}' contains no private key; a client certificate needs one (a PFX exported with its key).{string.Concat(leftOut.Select(w => " " + w))}");
        }

        return FromBundle(withKey);
    }

    /// <summary>For a store certificate: the intermediates this machine can find (stores, offline).</summary>
    private static X509Certificate2[] FindIssuers(X509Certificate2 leaf)
    {
        try
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllFlags;
#if NET8_0_OR_GREATER
            // Offline: an AIA download would block the pipeline thread beyond Ctrl+C and -TimeoutSec.
            chain.ChainPolicy.DisableCertificateDownloads = true;
#else
            chain.ChainPolicy.UrlRetrievalTimeout = TimeSpan.FromSeconds(2);
#endif
            chain.Build(leaf);
            return chain.ChainElements.Cast<X509ChainElement>().Skip(1).Select(e => new X509Certificate2(e.Certificate.RawData)).ToArray();
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return Array.Empty<X509Certificate2>();
        }
    }

    public void Dispose()
    {
#if NET8_0_OR_GREATER
        _context = null;
#endif
        if (_ownsLeaf)
        {
            Leaf.Dispose();
        }
    }
}
