using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace CertIntegration.Core.Tls;

/// <summary>The outcome of validating a server certificate.</summary>
internal sealed class ServerValidation
{
    public ServerValidation(bool valid, string[] errors, X509Certificate2? root)
    {
        Valid = valid;
        Errors = errors;
        Root = root;
    }

    public bool Valid { get; }

    public string[] Errors { get; }

    /// <summary>The root the chain was built to (trusted or not), when one was found.</summary>
    public X509Certificate2? Root { get; }

    public bool NameMismatch => Errors.Any(e => e.StartsWith("NameMismatch", StringComparison.Ordinal));
}

/// <summary>
/// Validates a server certificate ourselves, so that the same rules apply inside the client-certificate selection
/// callback (where .NET has not validated anything yet) and in the validation callback: chain to the system roots or
/// to the extra roots from -TrustedCertificate, the Server Authentication EKU, validity dates and the host name.
/// Revocation is not checked (offline-capable, like SAP's own connectivity test by default), and missing intermediates
/// are not downloaded (AIA): what the server does not send counts as missing, as for OpenSSL- and Java-based clients.
/// </summary>
internal sealed class ServerCertificateValidator
{
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private readonly X509Certificate2[] _extraRoots;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ServerValidation> _cache = new(StringComparer.Ordinal);

    public ServerCertificateValidator(IEnumerable<X509Certificate2>? extraRoots)
    {
        _extraRoots = (extraRoots ?? Array.Empty<X509Certificate2>()).ToArray();
    }

    /// <summary>
    /// Validates once per (host, certificates presented) within a cmdlet call: probing many endpoints of one host
    /// must not build the same chain hundreds of times.
    /// </summary>
    public ServerValidation Validate(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, string host)
    {
        string key = host.ToLowerInvariant() + "|" + leaf.Thumbprint + "|" + string.Join(",", presented.Select(p => p.Thumbprint));
        return _cache.GetOrAdd(key, _ => ValidateCore(leaf, presented, host));
    }

    private ServerValidation ValidateCore(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, string host)
    {
        var errors = new List<string>();
        X509Certificate2? root = null;
        try
        {
            bool ok = BuildChain(leaf, presented, useExtraRoots: false, errors, out root);
            if (!ok && _extraRoots.Length > 0)
            {
                var second = new List<string>();
                if (BuildChain(leaf, presented, useExtraRoots: true, second, out X509Certificate2? root2))
                {
                    errors.Clear();
                    root = root2;
                }
                else
                {
                    errors = second;
                    root = root2 ?? root;
                }
            }
        }
        catch (CryptographicException ex)
        {
            errors.Add("ChainBuildFailed: " + ex.Message);
        }

        if (!MatchesHost(leaf, host))
        {
            errors.Add($"NameMismatch: the certificate is not issued for '{host}' (it names {DescribeNames(leaf)}).");
        }

        return new ServerValidation(errors.Count == 0, errors.ToArray(), root);
    }

    private bool BuildChain(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, bool useExtraRoots, List<string> errors, out X509Certificate2? root)
    {
        using var chain = new X509Chain();
        X509ChainPolicy policy = chain.ChainPolicy;
        policy.RevocationMode = X509RevocationMode.NoCheck;
#if NET8_0_OR_GREATER
        // Offline, like OpenSSL-based clients and Java: a server that does not send its intermediate fails there, so it
        // must fail here too; and a download could not be cut short by Ctrl+C or -TimeoutSec.
        policy.DisableCertificateDownloads = true;
#else
        policy.UrlRetrievalTimeout = TimeSpan.FromSeconds(2);
#endif
        policy.ApplicationPolicy.Add(new Oid(ServerAuthOid));
        foreach (X509Certificate2 c in presented)
        {
            policy.ExtraStore.Add(c);
        }

        bool viaExtraStore = false;
        if (useExtraRoots)
        {
#if NET8_0_OR_GREATER
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.AddRange(_extraRoots);

            // Intermediates given with -TrustedCertificate help to build the chain too.
            policy.ExtraStore.AddRange(_extraRoots);
#else
            policy.ExtraStore.AddRange(_extraRoots);
            policy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            viaExtraStore = true;
#endif
        }

        bool ok = chain.Build(leaf);
        X509ChainElementCollection elements = chain.ChainElements;
        root = elements.Count > 0 ? new X509Certificate2(elements[elements.Count - 1].Certificate.RawData) : null;
        if (viaExtraStore && root is not null)
        {
            // AllowUnknownCertificateAuthority accepts any root: accept only ours, and only when that was the sole problem.
            string rootThumbprint = root.Thumbprint;
            bool rootIsOurs = _extraRoots.Any(r => string.Equals(r.Thumbprint, rootThumbprint, StringComparison.OrdinalIgnoreCase));
            var others = chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.UntrustedRoot && s.Status != X509ChainStatusFlags.NoError).ToList();
            ok = rootIsOurs && others.Count == 0;
            if (!rootIsOurs)
            {
                errors.Add("UntrustedRoot: the chain ends in a root that is neither trusted by this machine nor given with -TrustedCertificate.");
            }

            errors.AddRange(others.Select(Describe));
            return ok;
        }

        if (!ok)
        {
            errors.AddRange(chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError).Select(Describe).Distinct());
            if (errors.Count == 0)
            {
                errors.Add("ChainInvalid: the chain could not be validated.");
            }
        }

        return ok;
    }

    private static string Describe(X509ChainStatus s)
    {
        string info = (s.StatusInformation ?? string.Empty).Trim();
        return s.Status switch
        {
            X509ChainStatusFlags.PartialChain => "PartialChain: an intermediate or root certificate is missing (the server did not send it and this machine does not have it).",
            X509ChainStatusFlags.UntrustedRoot => "UntrustedRoot: the chain ends in a root this machine does not trust.",
            X509ChainStatusFlags.NotTimeValid => "NotTimeValid: a certificate of the chain is expired or not yet valid.",
            X509ChainStatusFlags.NotValidForUsage => "NotValidForUsage: the certificate is not issued for server authentication.",
            _ => info.Length > 0 ? $"{s.Status}: {info}" : s.Status.ToString(),
        };
    }

    // ---- host names (RFC 6125: DNS and IP subjectAltNames; the CN only when there are none; one leftmost wildcard) ----

    public static bool MatchesHost(X509Certificate2 cert, string host)
    {
        host = host.TrimEnd('.');
        if (host.StartsWith("[", StringComparison.Ordinal) && host.EndsWith("]", StringComparison.Ordinal))
        {
            host = host.Substring(1, host.Length - 2);
        }

        IPAddress? ip = IPAddress.TryParse(host, out IPAddress? parsed) ? parsed : null;
        GetNames(cert, out List<string> dns, out List<byte[]> ips);
        if (ip is not null)
        {
            byte[] want = ip.GetAddressBytes();
            return ips.Any(b => b.SequenceEqual(want));
        }

        if (dns.Count == 0 && ips.Count == 0)
        {
            string cn = cert.GetNameInfo(X509NameType.SimpleName, false);
            return !string.IsNullOrEmpty(cn) && NameMatches(cn, host);
        }

        return dns.Any(d => NameMatches(d, host));
    }

    private static bool NameMatches(string pattern, string host)
    {
        pattern = pattern.TrimEnd('.');
        if (string.Equals(pattern, host, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (pattern.StartsWith("*.", StringComparison.Ordinal) && pattern.IndexOf('*', 1) < 0)
        {
            int dot = host.IndexOf('.');
            return dot > 0 && string.Equals(pattern.Substring(1), host.Substring(dot), StringComparison.OrdinalIgnoreCase)
                && pattern.Count(c => c == '.') >= 2;
        }

        return false;
    }

    private static void GetNames(X509Certificate2 cert, out List<string> dns, out List<byte[]> ips)
    {
        dns = new List<string>();
        ips = new List<byte[]>();
        System.Security.Cryptography.X509Certificates.X509Extension? ext = cert.Extensions["2.5.29.17"];
        if (ext is null)
        {
            return;
        }

        try
        {
            GeneralNames names = GeneralNames.GetInstance(Asn1Object.FromByteArray(ext.RawData));
            foreach (GeneralName n in names.GetNames())
            {
                if (n.TagNo == GeneralName.DnsName)
                {
                    dns.Add(((IAsn1String)n.Name).GetString());
                }
                else if (n.TagNo == GeneralName.IPAddress)
                {
                    ips.Add(Asn1OctetString.GetInstance(n.Name).GetOctets());
                }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or System.IO.IOException)
        {
            // A malformed SAN matches nothing.
        }
    }

    private static string DescribeNames(X509Certificate2 cert)
    {
        GetNames(cert, out List<string> dns, out List<byte[]> ips);
        var all = dns.Concat(ips.Select(b => new IPAddress(b).ToString())).ToList();
        if (all.Count == 0)
        {
            return "CN=" + cert.GetNameInfo(X509NameType.SimpleName, false);
        }

        return string.Join(", ", all.Take(8)) + (all.Count > 8 ? ", ..." : string.Empty);
    }
}
