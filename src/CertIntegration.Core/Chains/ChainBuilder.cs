using System;
using System.Collections.Generic;
using System.Linq;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Security.Certificates;
using Org.BouncyCastle.X509;
using Org.BouncyCastle.X509.Extension;

namespace CertIntegration.Core.Chains;

/// <summary>
/// Orders loose certificates into chains: each certificate that issued none of the others is a leaf, and its chain
/// is walked issuer by issuer through the rest, whatever order the input had. Issuers are matched by name and key
/// identifier, and confirmed by signature, so two CAs that share a name are not confused.
/// </summary>
internal static class ChainBuilder
{
    public sealed class Chain
    {
        public Chain(List<X509Certificate> certificates) => Certificates = certificates;

        public List<X509Certificate> Certificates { get; }

        public X509Certificate Leaf => Certificates[0];

        public PrivateKeyMaterial? Key { get; set; }

        /// <summary>Where each certificate of <see cref="Certificates"/> stood in the input (duplicates dropped).</summary>
        public List<int> InputPositions { get; } = new();

        /// <summary>True when the input listed this chain leaf first, then each issuer (other certificates may stand between).</summary>
        public bool InInputOrder
        {
            get
            {
                for (int i = 1; i < InputPositions.Count; i++)
                {
                    if (InputPositions[i] <= InputPositions[i - 1])
                    {
                        return false;
                    }
                }

                return true;
            }
        }
    }

    /// <summary>
    /// True when <paramref name="issuer"/> issued <paramref name="cert"/>: the names match and the signature verifies
    /// (or its algorithm cannot be checked here).
    /// </summary>
    public static bool Issued(X509Certificate issuer, X509Certificate cert) =>
        issuer.SubjectDN.Equivalent(cert.IssuerDN) && VerifiesWith(cert, issuer) != false;

    /// <summary>
    /// Groups .NET certificates (no keys) into chains, each leaf first, and returns them as .NET certificates: for
    /// callers that hold X509Certificate2 objects (piped certificates, a server's presented chain).
    /// </summary>
    public static List<List<System.Security.Cryptography.X509Certificates.X509Certificate2>> Group(
        IEnumerable<System.Security.Cryptography.X509Certificates.X509Certificate2> certificates)
    {
        var bc = certificates.Select(c => new X509Certificate(c.RawData)).ToList();
        return Build(bc, Array.Empty<PrivateKeyMaterial>(), out _)
            .Select(chain => chain.Certificates.Select(c => X509Conversion.ToX509(c)).ToList())
            .ToList();
    }

    /// <summary>
    /// A server's presented certificates in chain order: its leaf (the first one sent) and then the issuers that
    /// link up from it; certificates that do not belong to the leaf's chain are left out.
    /// </summary>
    public static List<System.Security.Cryptography.X509Certificates.X509Certificate2> OrderFromLeaf(
        IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> presented)
    {
        byte[] leaf = presented[0].RawData;
        foreach (List<System.Security.Cryptography.X509Certificates.X509Certificate2> chain in Group(presented))
        {
            int start = chain.FindIndex(x => x.RawData.SequenceEqual(leaf));
            if (start >= 0)
            {
                return chain.Skip(start).ToList();
            }
        }

        return new List<System.Security.Cryptography.X509Certificates.X509Certificate2> { presented[0] };
    }

    /// <summary>Drops exact duplicates, keeping first-seen order.</summary>
    public static List<X509Certificate> Distinct(IEnumerable<X509Certificate> certificates)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<X509Certificate>();
        foreach (X509Certificate c in certificates)
        {
            if (seen.Add(Convert.ToBase64String(c.GetEncoded())))
            {
                list.Add(c);
            }
        }

        return list;
    }

    /// <summary>
    /// Groups certificates (and keys) into chains. A key goes with the certificate it matches; a certificate with a
    /// key starts a chain of its own even if it issued others. Keys that match nothing are returned in
    /// <paramref name="unmatchedKeys"/>.
    /// </summary>
    public static List<Chain> Build(IReadOnlyList<X509Certificate> input, IReadOnlyList<PrivateKeyMaterial> keys, out List<PrivateKeyMaterial> unmatchedKeys)
    {
        List<X509Certificate> certs = Distinct(input);
        int n = certs.Count;
        int[] issuerOf = new int[n];
        bool[] issuesOthers = new bool[n];
        var bySubject = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            string key = NameKey(certs[i].SubjectDN);
            if (!bySubject.TryGetValue(key, out var list))
            {
                bySubject[key] = list = new List<int>();
            }

            list.Add(i);
        }

        // Signature checks are bounded: crafted input (thousands of certificates that all name each other as issuer, with
        // signatures that never verify) would otherwise cost n*n checks, i.e. hours. Real input needs about one check per
        // certificate; once the budget is spent, issuers are matched by name and key identifier alone.
        // Each first look at a certificate's RSA public key also costs BouncyCastle a primality test of the modulus
        // (about 15 ms at 2048 bits, seconds at 8192), so the checks are bounded in time as well as in number.
        var budget = new VerifyBudget((4 * n) + 64, VerifyTimeBudget);
        byte[]?[] skis = certs.Select(SubjectKeyId).ToArray();
        for (int i = 0; i < n; i++)
        {
            issuerOf[i] = FindIssuer(certs, skis, i, bySubject, budget);
            if (issuerOf[i] >= 0)
            {
                issuesOthers[issuerOf[i]] = true;
            }
        }

        // Keys are paired through their public keys, each encoded once: comparing every key with every certificate
        // decoded each certificate's public key once per key (k*n decodings for crafted PEM with thousands of both).
        var byPublicKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            if (PrivateKeyMaterial.PublicKeyIdOf(certs[i]) is { } id)
            {
                if (!byPublicKey.TryGetValue(id, out var same))
                {
                    byPublicKey[id] = same = new List<int>();
                }

                same.Add(i);
            }
        }

        var keyOf = new PrivateKeyMaterial?[n];
        unmatchedKeys = new List<PrivateKeyMaterial>();
        foreach (PrivateKeyMaterial k in keys)
        {
            int match = -1;
            if (byPublicKey.TryGetValue(k.PublicKeyId, out var candidates))
            {
                foreach (int i in candidates)
                {
                    if (keyOf[i] is null)
                    {
                        match = i;
                        break;
                    }
                }
            }

            if (match >= 0)
            {
                keyOf[match] = k;
            }
            else
            {
                unmatchedKeys.Add(k);
            }
        }

        var chains = new List<Chain>();
        var covered = new bool[n];
        for (int i = 0; i < n; i++)
        {
            if (!issuesOthers[i] || keyOf[i] is not null)
            {
                chains.Add(Walk(certs, issuerOf, i, keyOf[i], covered));
            }
        }

        // Certificates in an issuing cycle have no leaf: give each uncovered one a chain so nothing is lost.
        for (int i = 0; i < n; i++)
        {
            if (!covered[i])
            {
                chains.Add(Walk(certs, issuerOf, i, keyOf[i], covered));
            }
        }

        return chains;
    }

    /// <summary>
    /// A certificate that <paramref name="issuer"/> issued in any of the chains, or null. A key that pairs with a CA
    /// of the input rather than with its end-entity certificate is not the client's key.
    /// </summary>
    public static X509Certificate? FirstIssuedBy(IEnumerable<Chain> chains, X509Certificate issuer)
    {
        foreach (Chain c in chains)
        {
            for (int i = 1; i < c.Certificates.Count; i++)
            {
                if (c.Certificates[i].Equals(issuer))
                {
                    return c.Certificates[i - 1];
                }
            }
        }

        return null;
    }

    private static Chain Walk(List<X509Certificate> certs, int[] issuerOf, int start, PrivateKeyMaterial? key, bool[] covered)
    {
        var list = new List<X509Certificate>();
        var positions = new List<int>();
        var visited = new HashSet<int>();
        int cur = start;
        while (cur >= 0 && visited.Add(cur) && list.Count < Limits.MaxChainLength)
        {
            list.Add(certs[cur]);
            positions.Add(cur);
            covered[cur] = true;
            cur = issuerOf[cur];
        }

        var chain = new Chain(list) { Key = key };
        chain.InputPositions.AddRange(positions);
        return chain;
    }

    /// <summary>Time that signature checks of one <see cref="Build"/> may take before issuers are matched by name alone.</summary>
    internal static readonly TimeSpan VerifyTimeBudget = TimeSpan.FromSeconds(5);

    private sealed class VerifyBudget
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private readonly TimeSpan _time;
        private int _left;

        public VerifyBudget(int count, TimeSpan time)
        {
            _left = count;
            _time = time;
        }

        public bool Take()
        {
            if (_left <= 0 || _clock.Elapsed > _time)
            {
                _left = 0;
                return false;
            }

            _left--;
            return true;
        }
    }

    private static int FindIssuer(List<X509Certificate> certs, byte[]?[] skis, int i, Dictionary<string, List<int>> bySubject, VerifyBudget budget)
    {
        X509Certificate cert = certs[i];
        if (IsSelfIssued(cert))
        {
            return -1;
        }

        if (!bySubject.TryGetValue(NameKey(cert.IssuerDN), out var candidates))
        {
            return -1;
        }

        byte[]? aki = AuthorityKeyId(cert);
        int fallback = -1;
        foreach (int c in candidates)
        {
            if (c == i)
            {
                continue;
            }

            byte[]? ski = skis[c];
            if (aki is not null && ski is not null)
            {
                // Name and key identifier agree: that names the issuer. The signature is checked only where the
                // identifiers are missing, because building an RSA public key runs BouncyCastle's Miller-Rabin
                // check of the modulus, the slowest step when hundreds of keys are read.
                if (aki.SequenceEqual(ski))
                {
                    return c;
                }

                continue;
            }

            if (!budget.Take())
            {
                fallback = fallback < 0 ? c : fallback;
                break;
            }

            switch (VerifiesWith(cert, certs[c]))
            {
                case true:
                    return c;
                case null:
                    fallback = fallback < 0 ? c : fallback;
                    break;
            }
        }

        return fallback;
    }

    /// <summary>True when signed by the issuer's key, false when not, null when the algorithm cannot be checked.</summary>
    private static bool? VerifiesWith(X509Certificate cert, X509Certificate issuer)
    {
        AsymmetricKeyParameter pub;
        try
        {
            pub = issuer.GetPublicKey();
        }
        catch (Exception)
        {
            return null;
        }

        try
        {
            cert.Verify(pub);
            return true;
        }
        catch (Exception ex) when (ex is InvalidKeyException or SignatureException or CertificateException or CryptoException)
        {
            return false;
        }
        catch (Exception)
        {
            return null; // unknown signature algorithm or parameters: fall back to the name match
        }
    }

    public static bool IsSelfIssued(X509Certificate cert) => cert.SubjectDN.Equivalent(cert.IssuerDN);

    // Canonical text of a name, case-folded: issuer and subject fields that differ only in string type or case match.
    private static string NameKey(X509Name name) => name.ToString(false, X509Name.DefaultSymbols).ToUpperInvariant();

    private static byte[]? SubjectKeyId(X509Certificate cert)
    {
        try
        {
            Asn1OctetString? ext = cert.GetExtensionValue(X509Extensions.SubjectKeyIdentifier);
            return ext is null ? null : SubjectKeyIdentifier.GetInstance(X509ExtensionUtilities.FromExtensionValue(ext)).GetKeyIdentifier();
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static byte[]? AuthorityKeyId(X509Certificate cert)
    {
        try
        {
            Asn1OctetString? ext = cert.GetExtensionValue(X509Extensions.AuthorityKeyIdentifier);
            return ext is null ? null : AuthorityKeyIdentifier.GetInstance(X509ExtensionUtilities.FromExtensionValue(ext)).KeyIdentifier?.GetOctets();
        }
        catch (Exception)
        {
            return null;
        }
    }
}
