using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1.X509;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Chains;

/// <summary>
/// Test-CertificateBundle's checks, without connecting anywhere: expiry (at a chosen moment), key usage for the
/// purpose, key and certificate, the chain (complete, in order, CAs that expire first, trusted root), weak RSA keys,
/// SHA-1 signatures and a service key's certificatedetails. Each problem is a finding with a stable code
/// (<see cref="CertificateFindingCodes"/>) and a message that says what to do next.
/// </summary>
internal static class CertificateBundleCheck
{
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string AnyEkuOid = "2.5.29.37.0";
    private const int MinimumRsaBits = 2048;

    private static readonly HashSet<string> Sha1SignatureOids = new(StringComparer.Ordinal)
    {
        "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
        "1.3.14.3.2.29",        // sha1WithRSASignature (OIW)
        "1.2.840.10045.4.1",    // ecdsa-with-SHA1
        "1.2.840.10040.4.3",    // dsa-with-sha1
    };

    public sealed class Options
    {
        public CertificatePurpose Purpose { get; set; } = CertificatePurpose.Client;

        public int MinimumDaysValid { get; set; } = 30;

        /// <summary>The roots (and CAs) the other side trusts; empty when the root is not to be checked.</summary>
        public IReadOnlyList<X509Certificate2> Trusted { get; set; } = Array.Empty<X509Certificate2>();

        /// <summary>The moment to evaluate at, in UTC.</summary>
        public DateTime AtUtc { get; set; } = DateTime.UtcNow;
    }

    /// <summary>
    /// The moment -At names, in UTC: a UTC time as it is, a local time converted, and a time without a kind (a typed
    /// date such as '2025-07-01') read as local time, as PowerShell shows and compares dates.
    /// </summary>
    public static DateTime ToUtc(DateTime at) => at.Kind switch
    {
        DateTimeKind.Utc => at,
        DateTimeKind.Local => at.ToUniversalTime(),
        _ => DateTime.SpecifyKind(at, DateTimeKind.Local).ToUniversalTime(),
    };

    /// <summary>
    /// The bundles of a file, as Import-CertificateBundle reads them, except that a service key whose private key
    /// belongs to another certificate still gives its certificate (with the mismatch noted for the finding), so the
    /// result names that problem beside the certificate's others.
    /// </summary>
    public static IReadOnlyList<CertificateBundle> ReadFile(string path, System.Security.SecureString? password, Action<string>? verbose, Action<string>? warning)
    {
        try
        {
            return ContainerReader.ReadFile(path, password, verbose, warning);
        }
        catch (CertIntegrationException ex) when (ex.ErrorId == ErrorIds.KeyCertificateMismatch)
        {
            var bundles = new List<CertificateBundle>();
            try
            {
                string text = SafeFile.DecodeText(SafeFile.ReadBounded(path));
                foreach (Newtonsoft.Json.Linq.JObject doc in ServiceKeyFraming.ParseDocuments(text, $"Service key '{path}'"))
                {
                    CertificateBundle bundle = ServiceKeyReader.Read(doc, $"Service key '{path}'", verbose, keepCertificateOfMismatchedKey: true);
                    bundle.Source = path;
                    bundles.Add(bundle);
                }
            }
            catch (CertIntegrationException)
            {
                throw ex;
            }

            return bundles;
        }
    }

    public static CertificateTestResult Check(CertificateBundle bundle, Options options)
    {
        DateTime at = options.AtUtc.Kind == DateTimeKind.Utc ? options.AtUtc : ToUtc(options.AtUtc);
        X509Certificate2 leaf = bundle.Certificate;
        X509Certificate2[] chain = bundle.Chain;
        BcX509[] bc = chain.Select(c => new BcX509(c.RawData)).ToArray();
        var findings = new List<CertificateFinding>();
        string leafName = leaf.Subject;

        CheckValidity(leaf, at, options.MinimumDaysValid, findings);
        CheckPurpose(leaf, options.Purpose, findings);
        CheckKey(bundle, bc[0], findings);
        CheckChain(bundle, chain, bc, options, at, findings);
        CheckAlgorithms(chain, bc, findings);
        if (bundle.CertificateDetails is { } details)
        {
            CheckServiceKeyDetails(details, leaf, bc[0], findings);
        }

        // Errors first, then warnings, then notes; within a severity in the order of the checks.
        List<CertificateFinding> ordered = findings
            .Select((f, i) => (f, i))
            .OrderBy(x => SeverityRank(x.f.Severity)).ThenBy(x => x.i)
            .Select(x => x.f).ToList();

        return new CertificateTestResult
        {
            Passed = ordered.All(f => f.Severity != CertificateFinding.Error),
            CommonName = bundle.CommonName,
            Subject = leafName,
            Issuer = leaf.Issuer,
            Thumbprint = leaf.Thumbprint,
            SerialNumber = leaf.SerialNumber,
            NotBefore = leaf.NotBefore,
            NotAfter = leaf.NotAfter,
            DaysRemaining = CertificateBundle.DaysUntil(leaf.NotAfter, at),
            TestedAt = at.ToLocalTime(),
            Purpose = options.Purpose.ToString(),
            MinimumDaysValid = options.MinimumDaysValid,
            ChainLength = chain.Length,
            HasPrivateKey = bundle.HasPrivateKey,
            Source = bundle.Source,
            ClientId = bundle.ClientId,
            Findings = new CertificateFindingCollection(ordered),
        };
    }

    private static int SeverityRank(string severity) => severity switch
    {
        CertificateFinding.Error => 0,
        CertificateFinding.Warning => 1,
        _ => 2,
    };

    private static string Utc(DateTime local) => local.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    private static void CheckValidity(X509Certificate2 leaf, DateTime at, int minimumDays, List<CertificateFinding> findings)
    {
        DateTime notAfter = leaf.NotAfter.ToUniversalTime();
        DateTime notBefore = leaf.NotBefore.ToUniversalTime();
        int days = CertificateBundle.DaysUntil(leaf.NotAfter, at);
        if (notAfter < at)
        {
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.Expired,
                $"The certificate '{leaf.Subject}' expired on {Utc(leaf.NotAfter)}; servers reject it in the TLS handshake. Create a new one (for a service key: a new service key) and replace it wherever it is used.",
                leaf.Subject));
        }
        else if (notBefore > at)
        {
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.NotYetValid,
                $"The certificate '{leaf.Subject}' is not valid before {Utc(leaf.NotBefore)}; servers reject it until then. Wait until then, or check the clock of the machine that issued it (or of this one).",
                leaf.Subject));
        }
        else if (days < minimumDays)
        {
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.ExpiresSoon,
                $"The certificate '{leaf.Subject}' expires on {Utc(leaf.NotAfter)}, in {days} day(s), within the {minimumDays}-day window. Renew it now (for a service key: create a new service key) and replace it wherever it is used before it expires.",
                leaf.Subject));
        }
    }

    private static void CheckPurpose(X509Certificate2 leaf, CertificatePurpose purpose, List<CertificateFinding> findings)
    {
        if (purpose == CertificatePurpose.Client && !HasEku(leaf, ClientAuthOid))
        {
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.ClientAuthenticationMissing,
                $"The certificate '{leaf.Subject}' lacks the Client Authentication extended key usage ({ClientAuthOid}); SAP's load balancers reject such certificates in the TLS handshake. Have a certificate issued for client authentication.",
                leaf.Subject));
        }
        else if (purpose == CertificatePurpose.Server && !HasEku(leaf, ServerAuthOid))
        {
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.ServerAuthenticationMissing,
                $"The certificate '{leaf.Subject}' lacks the Server Authentication extended key usage ({ServerAuthOid}); TLS clients reject it as a server certificate. Have a certificate issued for server authentication.",
                leaf.Subject));
        }
    }

    /// <summary>True when the EKU extension names <paramref name="oid"/> or anyExtendedKeyUsage, or when there is no EKU extension (no restriction).</summary>
    public static bool HasEku(X509Certificate2 cert, string oid)
    {
        foreach (System.Security.Cryptography.X509Certificates.X509Extension ext in cert.Extensions)
        {
            if (ext is X509EnhancedKeyUsageExtension eku)
            {
                foreach (var o in eku.EnhancedKeyUsages)
                {
                    if (o.Value == oid || o.Value == AnyEkuOid)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        return true;
    }

    private static void CheckKey(CertificateBundle bundle, BcX509 leaf, List<CertificateFinding> findings)
    {
        string? why = bundle.KeyMismatch;
        if (why is null && !bundle.MadeFromCertificate && bundle.Key is { } key && !key.Matches(leaf))
        {
            why = "its public key differs from the certificate's";
        }

        if (why is not null)
        {
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.KeyCertificateMismatch,
                $"The private key given with the certificate '{bundle.Subject}' does not belong to it ({Messages.Clause(why)}); the TLS handshake fails with it. Pair the certificate with the key that was created with it (for a service key: take both fields from the same service key).",
                bundle.Subject));
        }
    }

    private static void CheckChain(CertificateBundle bundle, X509Certificate2[] chain, BcX509[] bc, Options options, DateTime at, List<CertificateFinding> findings)
    {
        X509Certificate2 leaf = chain[0];
        int top = chain.Length - 1;
        BcX509[] trusted = options.Trusted.Select(t => new BcX509(t.RawData)).ToArray();
        bool trustChecked = trusted.Length > 0;

        // A chain is trusted when the other side trusts its root or one of its CAs (a trust anchor below the root).
        if (!ChainBuilder.IsSelfIssued(bc[top]))
        {
            // The chain stops below a root: fine when the other side trusts the missing issuer, else incomplete.
            if (!trusted.Any(t => ChainBuilder.Issued(t, bc[top])))
            {
                string where = bundle.Source is null ? "the bundle" : $"'{bundle.Source}'";
                string advice = trustChecked
                    ? $"Neither the chain nor -TrustedCertificate holds it: add the issuer's certificate to {where}"
                    : $"Add the issuer's certificate to {where}, or give the roots the other side trusts with -TrustedCertificate";
                findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.ChainIncomplete,
                    $"The chain of '{leaf.Subject}' ends at '{chain[top].Subject}' without its issuer '{chain[top].Issuer}'; servers that validate the client chain reject it. {advice}.",
                    chain[top].Subject));
            }
        }
        else if (trustChecked && !bc.Any(c => trusted.Any(t => t.Equals(c) || SameKeyAndName(t, c))))
        {
            string roots = string.Join("; ", options.Trusted.Select(t => t.Subject).Distinct());
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.RootNotTrusted,
                $"The chain of '{leaf.Subject}' ends at the root '{chain[top].Subject}', which is not among the trusted certificates ({roots}); the other side rejects the certificate (for SAP, the classic 401). Have the root added to what the other side trusts, or use a certificate issued under one of those roots.",
                chain[top].Subject));
        }

        if (bundle.SourceOutOfOrder)
        {
            string order = string.Join(" -> ", bundle.SourceOrder ?? Array.Empty<string>());
            findings.Add(new CertificateFinding(CertificateFinding.Warning, CertificateFindingCodes.ChainOutOfOrder,
                $"'{bundle.Source ?? "The input"}' lists the chain of '{leaf.Subject}' out of order ({order}); TLS sends the leaf first and then each issuer, and strict servers and keystores reject other orders. Write the chain leaf first, e.g. with Export-CertificateChain -Format PemBundle.",
                leaf.Subject));
        }

        DateTime leafEnd = leaf.NotAfter.ToUniversalTime();
        for (int i = 1; i < chain.Length; i++)
        {
            X509Certificate2 ca = chain[i];
            // Within a day of the leaf's expiry the leaf's own findings say the same (CAs made moments before it).
            if (ca.NotAfter.ToUniversalTime() > leafEnd.AddDays(-1))
            {
                continue;
            }

            int days = CertificateBundle.DaysUntil(ca.NotAfter, at);
            string role = i == top && ChainBuilder.IsSelfIssued(bc[i]) ? "root" : "intermediate";
            bool soon = days < options.MinimumDaysValid;
            string when = ca.NotAfter.ToUniversalTime() < at ? "has expired" : $"expires in {days} day(s)";
            findings.Add(new CertificateFinding(soon ? CertificateFinding.Error : CertificateFinding.Warning, CertificateFindingCodes.IntermediateExpiresFirst,
                $"The {role} '{ca.Subject}' {when} ({Utc(ca.NotAfter)}), before the certificate '{leaf.Subject}' ({Utc(leaf.NotAfter)}); from then on the chain fails. Get the renewed {role} certificate from its issuer (or a new certificate under a current CA) before then.",
                ca.Subject));
        }
    }

    /// <summary>Two certificates of the same CA: same subject and same public key (a re-issued root).</summary>
    private static bool SameKeyAndName(BcX509 a, BcX509 b) =>
        a.SubjectDN.Equivalent(b.SubjectDN) && PrivateKeyMaterial.PublicKeyIdOf(a) is { } ka && ka == PrivateKeyMaterial.PublicKeyIdOf(b);

    private static void CheckAlgorithms(X509Certificate2[] chain, BcX509[] bc, List<CertificateFinding> findings)
    {
        for (int i = 0; i < chain.Length; i++)
        {
            if (RsaBits(bc[i]) is int bits && bits < MinimumRsaBits)
            {
                findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.WeakRsaKey,
                    $"The certificate '{chain[i].Subject}' has a {bits}-bit RSA key; below {MinimumRsaBits} bits SAP and current TLS stacks refuse it. Create a new key of at least {MinimumRsaBits} bits and have a new certificate issued for it.",
                    chain[i].Subject));
            }

            // A root's own signature is never checked (trust comes from the trust store), so SHA-1 there does no harm.
            bool root = i == chain.Length - 1 && ChainBuilder.IsSelfIssued(bc[i]);
            if (!root && Sha1SignatureOids.Contains(bc[i].SigAlgOid))
            {
                findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.Sha1Signature,
                    $"The certificate '{chain[i].Subject}' is signed with SHA-1 ({bc[i].SigAlgName}); current TLS stacks reject SHA-1 signatures. Have it re-issued with SHA-256 or stronger.",
                    chain[i].Subject));
            }
        }
    }

    private static int? RsaBits(BcX509 cert)
    {
        try
        {
            SubjectPublicKeyInfo spki = cert.CertificateStructure.SubjectPublicKeyInfo;
            string oid = spki.Algorithm.Algorithm.Id;
            if (oid != Org.BouncyCastle.Asn1.Pkcs.PkcsObjectIdentifiers.RsaEncryption.Id && oid != Org.BouncyCastle.Asn1.Pkcs.PkcsObjectIdentifiers.IdRsassaPss.Id)
            {
                return null;
            }

            // The size from the encoding: building the key would run BouncyCastle's primality test of the modulus.
            return RsaPublicKeyStructure.GetInstance(spki.ParsePublicKey())?.Modulus.BitLength;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static void CheckServiceKeyDetails(ServiceKeyCertificateDetails d, X509Certificate2 leaf, BcX509 bcLeaf, List<CertificateFinding> findings)
    {
        var differences = new List<string>();
        if (d.SubjectDN is { Length: > 0 } subject && !SameName(subject, bcLeaf.SubjectDN))
        {
            differences.Add($"subjectdn '{subject}', the certificate's subject '{leaf.Subject}'");
        }

        if (d.IssuerDN is { Length: > 0 } issuer && !SameName(issuer, bcLeaf.IssuerDN))
        {
            differences.Add($"issuerdn '{issuer}', the certificate's issuer '{leaf.Issuer}'");
        }

        if (d.SerialNumber is { Length: > 0 } serial && !SameSerial(serial, bcLeaf.SerialNumber))
        {
            differences.Add($"serialnumber '{serial}', the certificate's serial number '{leaf.SerialNumber}'");
        }

        if (d.ValidUntil is { } until)
        {
            // SAP may give the expiry to the day or to the second; a difference of less than a day is the same expiry.
            if (Math.Abs((until - leaf.NotAfter.ToUniversalTime()).TotalHours) >= 24)
            {
                differences.Add($"validuntil {until:yyyy-MM-dd HH:mm} UTC, the certificate's NotAfter {Utc(leaf.NotAfter)}");
            }
        }
        else if (d.ValidUntilText is { Length: > 0 } text)
        {
            differences.Add($"validuntil '{text}', which is not a date");
        }

        if (differences.Count > 0)
        {
            findings.Add(new CertificateFinding(CertificateFinding.Error, CertificateFindingCodes.ServiceKeyDetailsMismatch,
                $"The service key's certificatedetails disagree with its certificate '{leaf.Subject}' ({string.Join("; ", differences)}); the certificate field was probably replaced or copied from another service key. Create a new service key, or use the certificate the service issued with these details.",
                leaf.Subject));
        }
    }

    /// <summary>Names equal in any order of their parts (SAP writes DNs in either order), case-insensitively.</summary>
    private static bool SameName(string text, X509Name name)
    {
        try
        {
            var parsed = new X509Name(text);
            return parsed.Equivalent(name, false);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            return string.Equals(Normalize(text), Normalize(name.ToString()), StringComparison.OrdinalIgnoreCase);
        }
    }

    private static string Normalize(string dn) => string.Join(",", dn.Split(',').Select(p => p.Trim()).OrderBy(p => p, StringComparer.OrdinalIgnoreCase));

    /// <summary>A serial number as hex (with or without colons, spaces or 0x) or as a decimal number.</summary>
    private static bool SameSerial(string text, Org.BouncyCastle.Math.BigInteger serial)
    {
        string s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            s = s.Substring(2);
        }

        s = new string(s.Where(c => c != ':' && c != ' ' && c != '-').ToArray());
        if (s.Length == 0)
        {
            return false;
        }

        if (s.All(Uri.IsHexDigit) && new Org.BouncyCastle.Math.BigInteger(s, 16).Equals(serial))
        {
            return true;
        }

        return s.All(char.IsDigit) && new Org.BouncyCastle.Math.BigInteger(s, 10).Equals(serial);
    }
}
