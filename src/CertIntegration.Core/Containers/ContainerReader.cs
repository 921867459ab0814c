using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Newtonsoft.Json.Linq;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using BcPemReader = Org.BouncyCastle.Utilities.IO.Pem.PemReader;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Containers;

/// <summary>
/// Reads any certificate container a user is likely to hold (PEM, DER certificate, PKCS#7, PKCS#12, JKS, service-key
/// JSON), recognised from its bytes rather than its name, and groups what it finds into bundles: each certificate
/// that issued none of the others is a leaf with its chain built from the rest, and each key goes with the
/// certificate it belongs to. Everything that goes wrong is a <see cref="CertIntegrationException"/> with a stable ID.
/// </summary>
internal static class ContainerReader
{
    /// <summary>PEM labels of PKCS#7 certificate bundles.</summary>
    internal static readonly string[] Pkcs7Labels = { "PKCS7", "CMS", "PKCS #7 SIGNED DATA", "CERTIFICATE CHAIN" };

    /// <summary>Reads one file (size-bounded). Bundles carry the path as <see cref="CertificateBundle.Source"/>.</summary>
    internal static IReadOnlyList<CertificateBundle> ReadFile(string path, SecureString? password, Action<string>? verbose, Action<string>? warning = null)
    {
        byte[] bytes = SafeFile.ReadBounded(path);
        return ReadBytes(bytes, path, password, verbose, warning);
    }

    /// <summary>
    /// Reads a container held in memory; <paramref name="source"/> names it in messages and becomes the bundles' Source.
    /// <paramref name="warning"/> hears of parts that were left out while the rest was read (a key block that cannot be
    /// decoded, or an encrypted key without a password, beside certificates).
    /// </summary>
    internal static IReadOnlyList<CertificateBundle> ReadBytes(byte[] bytes, string source, SecureString? password, Action<string>? verbose, Action<string>? warning = null)
    {
        if (bytes is null)
        {
            throw new ArgumentNullException(nameof(bytes));
        }

        if (bytes.Length > Limits.MaxInputBytes)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"'{source}' is {bytes.Length} bytes; at most {Limits.MaxInputBytes} are read.");
        }

        string label = $"'{source}'";
        try
        {
            return ReadAny(bytes, source, label, password, verbose, warning, depth: 0);
        }
        catch (CertIntegrationException)
        {
            throw;
        }
        catch (Org.BouncyCastle.Security.SecurityUtilityException ex)
        {
            throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                $"{label} uses an algorithm that is not supported ({Messages.Clause(ex.Message)}).", ex);
        }
        catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex) || ex is CryptographicException or EndOfStreamException or Org.BouncyCastle.Crypto.CryptoException)
        {
            throw Asn1Guard.Corrupt(label, $"it could not be read ({ex.GetType().Name}: {Messages.Clause(ex.Message)})", ex);
        }
    }

    private static IReadOnlyList<CertificateBundle> ReadAny(byte[] bytes, string source, string label, SecureString? password, Action<string>? verbose, Action<string>? warning, int depth)
    {
        if (bytes.Length == 0)
        {
            throw NotAContainer(label, "the file is empty");
        }

        if (JksReader.IsJks(bytes))
        {
            verbose?.Invoke($"{label}: Java keystore (JKS).");
            using PasswordChars? pw = PasswordChars.From(password);
            return ToBundles(JksReader.Read(bytes, label, pw?.Chars, verbose, warning), source, label, verbose, warning);
        }

        if (JksReader.IsJceks(bytes))
        {
            throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                $"{label} is a JCEKS keystore (Java's 'JceKS' format with PBEWithMD5AndTripleDES key protection), which is not supported; convert it with keytool -importkeystore -deststoretype PKCS12.");
        }

        if (bytes[0] == 0x30)
        {
            return ReadDer(bytes, source, label, password, verbose, warning);
        }

        string text = SafeFile.DecodeText(bytes);
        if (LooksBinary(text))
        {
            throw NotAContainer(label, "the bytes are neither ASN.1 (DER/BER), PEM text, a Java keystore nor JSON");
        }

        string trimmed = text.TrimStart();
        if (trimmed.StartsWith("{", StringComparison.Ordinal)
            || (trimmed.StartsWith("Getting key", StringComparison.OrdinalIgnoreCase) && trimmed.IndexOf('{') >= 0))
        {
            verbose?.Invoke($"{label}: service key (JSON).");
            return ReadServiceKey(text, source, label, verbose);
        }

        if (PemText.LooksLikePem(text))
        {
            verbose?.Invoke($"{label}: PEM text.");
            return ReadPem(text, source, label, password, verbose, warning);
        }

        // Bare Base64 of a DER file (a .cer saved without its armour lines).
        string compact = new string(text.Where(c => !char.IsWhiteSpace(c)).ToArray());
        if (depth == 0 && compact.Length >= 64 && compact.All(c => char.IsLetterOrDigit(c) || c == '+' || c == '/' || c == '='))
        {
            byte[] decoded;
            try
            {
                decoded = Convert.FromBase64String(compact);
            }
            catch (FormatException)
            {
                throw NotAContainer(label, "the text is not PEM, JSON or Base64");
            }

            if (decoded.Length > 0 && decoded[0] == 0x30)
            {
                verbose?.Invoke($"{label}: Base64 text without PEM armour; reading the decoded bytes.");
                return ReadAny(decoded, source, label, password, verbose, warning, depth + 1);
            }
        }

        throw NotAContainer(label, "no PEM block, JSON object or ASN.1 structure was found");
    }

    private static IReadOnlyList<CertificateBundle> ReadDer(byte[] bytes, string source, string label, SecureString? password, Action<string>? verbose, Action<string>? warning)
    {
        int end = Asn1Guard.Check(bytes, label);
        if (end < bytes.Length)
        {
            verbose?.Invoke($"{label}: {bytes.Length - end} byte(s) after the ASN.1 structure were ignored.");
        }

        Asn1Object obj;
        try
        {
            using var input = new Asn1InputStream(bytes);
            obj = input.ReadObject() ?? throw NotAContainer(label, "it is empty");
        }
        catch (IOException ex)
        {
            throw Asn1Guard.Corrupt(label, ex.Message, ex);
        }

        if (obj is not Asn1Sequence seq || seq.Count == 0)
        {
            throw NotAContainer(label, "the ASN.1 data is not a certificate, PKCS#7 or PKCS#12 structure");
        }

        if (Pkcs12Reader.LooksLikePfx(obj))
        {
            verbose?.Invoke($"{label}: PKCS#12 (PFX).");
            using PasswordChars? pw = PasswordChars.From(password);
            return ToBundles(Pkcs12Reader.Read(obj, label, pw?.Chars, verbose), source, label, verbose, warning);
        }

        if (seq[0] is DerObjectIdentifier oid)
        {
            if (oid.Equals(PkcsObjectIdentifiers.SignedData))
            {
                verbose?.Invoke($"{label}: PKCS#7 signed data.");
                return ToBundles(new ContainerContents("PKCS#7", ReadPkcs7(obj, label), new List<PrivateKeyMaterial>()), source, label, verbose);
            }

            throw NotAContainer(label, $"it is a CMS/PKCS#7 structure of type {Messages.Quote(oid.Id)}, not signed data with certificates");
        }

        if (seq.Count == 3 && seq[0] is Asn1Sequence && seq[1] is Asn1Sequence && seq[2] is DerBitString)
        {
            Asn1Sequence tbs = (Asn1Sequence)seq[0];
            bool looksLikeCrl = tbs.Count > 0 && (tbs[0] is DerInteger ? tbs.Count > 2 && tbs[2] is Asn1Sequence && !(tbs.Count > 3 && tbs[3] is Asn1Sequence && tbs.Count > 6) : tbs[0] is Asn1Sequence);
            if (tbs.Count >= 6 || !looksLikeCrl)
            {
                verbose?.Invoke($"{label}: DER certificate.");
                BcX509 cert = PemText.ParseCertificate(bytes, label, 1, "DER");
                return ToBundles(new ContainerContents("DER", new List<BcX509> { cert }, new List<PrivateKeyMaterial>()), source, label, verbose);
            }

            throw new CertIntegrationException(ErrorIds.ContainerHasNoCertificate, FailureKind.InvalidData,
                $"{label} is a certificate revocation list or signing request (DER), not a certificate.");
        }

        if (seq.Count >= 3 && seq[0] is DerInteger && (seq[1] is Asn1Sequence || seq[1] is DerInteger))
        {
            throw new CertIntegrationException(ErrorIds.ContainerHasNoCertificate, FailureKind.InvalidData,
                $"{label} is a DER private key without a certificate; import it together with its certificate (for example with New-PfxFromPem -CertificatePath ... -KeyPath ...).");
        }

        if (seq.Count == 2 && seq[0] is Asn1Sequence && seq[1] is DerBitString)
        {
            throw new CertIntegrationException(ErrorIds.ContainerHasNoCertificate, FailureKind.InvalidData,
                $"{label} is a DER public key, not a certificate.");
        }

        if (seq.Count == 2 && seq[0] is Asn1Sequence && seq[1] is Asn1OctetString)
        {
            throw new CertIntegrationException(ErrorIds.ContainerHasNoCertificate, FailureKind.InvalidData,
                $"{label} is an encrypted DER private key without a certificate.");
        }

        throw NotAContainer(label, "the ASN.1 data is not a certificate, PKCS#7 or PKCS#12 structure");
    }

    private static List<BcX509> ReadPkcs7(Asn1Object obj, string label)
    {
        var certs = new List<BcX509>();
        Asn1Set? set;
        try
        {
            var ci = Org.BouncyCastle.Asn1.Pkcs.ContentInfo.GetInstance(obj);
            if (!ci.ContentType.Equals(PkcsObjectIdentifiers.SignedData))
            {
                throw new CertIntegrationException(ErrorIds.ContainerHasNoCertificate, FailureKind.InvalidData,
                    $"{label} is PKCS#7 of type {Messages.Quote(ci.ContentType.Id)}{(ci.ContentType.Equals(PkcsObjectIdentifiers.EnvelopedData) ? " (an encrypted message)" : string.Empty)}, not signed data with certificates.");
            }

            if (ci.Content is null)
            {
                throw Asn1Guard.Corrupt(label, "the PKCS#7 structure has no content");
            }

            set = SignedData.GetInstance(ci.Content).Certificates;
        }
        catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex))
        {
            throw Asn1Guard.Corrupt(label, $"the PKCS#7 structure is invalid ({Messages.Clause(ex.Message)})", ex);
        }

        if (set is null)
        {
            return certs;
        }

        if (set.Count > Limits.MaxPemBlocks)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"{label}: the PKCS#7 structure holds more than {Limits.MaxPemBlocks} certificates.");
        }

        foreach (Asn1Encodable e in set)
        {
            if (e is Asn1Sequence s)
            {
                try
                {
                    certs.Add(new BcX509(X509CertificateStructure.GetInstance(s)));
                }
                catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex))
                {
                    throw new CertIntegrationException(ErrorIds.CertificateMalformed, FailureKind.InvalidData,
                        $"{label}: a certificate in the PKCS#7 structure is not a valid X.509 certificate ({Messages.Clause(ex.Message)}).", ex);
                }
            }
        }

        return certs;
    }

    private static IReadOnlyList<CertificateBundle> ReadPem(string text, string source, string label, SecureString? password, Action<string>? verbose, Action<string>? warning)
    {
        KeySizeGuard.PreScanPem(text, label);

        // A key block that cannot be read does not hide the certificates beside it (decoy blocks, an encrypted key
        // whose password was not given): the certificates are read and the key is reported as left out.
        var leftOut = new List<CertIntegrationException>();
        PemContents pem = PemText.Read(text, label, () => PasswordChars.From(password), leftOut.Add);
        var certs = new List<BcX509>(pem.Certificates);
        string format = "PEM";
        if (pem.Skipped.Any(s => Pkcs7Labels.Contains(s)))
        {
            format = "PEM (PKCS#7)";
            foreach (byte[] der in Pkcs7Blocks(text, label))
            {
                Asn1Object obj = Asn1Guard.Parse(der, label);
                certs.AddRange(ReadPkcs7(obj, label));
            }
        }

        List<string> other = pem.Skipped.Where(s => !Pkcs7Labels.Contains(s)).Distinct().ToList();
        if (other.Count > 0)
        {
            verbose?.Invoke($"{label}: skipped PEM blocks that are not certificates or private keys: {string.Join(", ", other)}.");
        }

        if (certs.Count == 0 && leftOut.Count > 0)
        {
            throw leftOut[0];
        }

        foreach (CertIntegrationException problem in leftOut)
        {
            warning?.Invoke($"{problem.Message} The certificates were read; the key was left out ({problem.ErrorId}).");
        }

        if (certs.Count == 0)
        {
            string what = pem.Keys.Count > 0
                ? $"{pem.Keys.Count} private key(s) ({string.Join(", ", pem.Keys.Select(k => k.Algorithm).Distinct())}) but no certificate"
                : other.Count > 0 ? $"no certificate (only {string.Join(", ", other)})" : "no certificate";
            throw new CertIntegrationException(ErrorIds.ContainerHasNoCertificate, FailureKind.InvalidData, $"{label} holds {what}.");
        }

        return ToBundles(new ContainerContents(format, certs, pem.Keys), source, label, verbose, warning);
    }

    private static IEnumerable<byte[]> Pkcs7Blocks(string text, string label)
    {
        var result = new List<byte[]>();
        using var reader = new BcPemReader(new StringReader(PemText.Normalize(text)));
        for (int i = 0; i <= Limits.MaxPemBlocks; i++)
        {
            Org.BouncyCastle.Utilities.IO.Pem.PemObject? o;
            try
            {
                o = reader.ReadPemObject();
            }
            catch (Exception ex) when (ex is IOException or FormatException or ArgumentException)
            {
                throw new CertIntegrationException(ErrorIds.PemMalformed, FailureKind.InvalidData, $"Malformed PEM in {label}: {Messages.Clause(ex.Message)}.", ex);
            }

            if (o is null)
            {
                break;
            }

            if (Pkcs7Labels.Contains(o.Type))
            {
                result.Add(o.Content);
            }
        }

        return result;
    }

    private static IReadOnlyList<CertificateBundle> ReadServiceKey(string text, string source, string label, Action<string>? verbose)
    {
        var bundles = new List<CertificateBundle>();
        foreach (JObject doc in ServiceKeyFraming.ParseDocuments(text, $"Service key {label}"))
        {
            CertificateBundle bundle = ServiceKeyReader.Read(doc, $"Service key {label}", verbose);
            bundle.Source = source;
            bundles.Add(bundle);
        }

        return bundles;
    }

    /// <summary>
    /// Groups certificates and keys into bundles with <see cref="ChainBuilder"/>. Keys that belong to none of the
    /// certificates are left out, and <paramref name="warning"/> hears of them, like key blocks that cannot be read:
    /// the certificates are still what the file holds (a test file of one certificate beside unrelated keys, a key
    /// pasted from another source).
    /// </summary>
    internal static IReadOnlyList<CertificateBundle> ToBundles(ContainerContents contents, string source, string label, Action<string>? verbose, Action<string>? warning = null)
    {
        if (contents.Certificates.Count == 0)
        {
            string keys = contents.Keys.Count > 0 ? $" ({contents.Keys.Count} private key(s) but no certificate)" : string.Empty;
            throw new CertIntegrationException(ErrorIds.ContainerHasNoCertificate, FailureKind.InvalidData,
                $"{label} ({contents.Format}) holds no certificate{keys}.");
        }

        foreach (BcX509 cert in contents.Certificates)
        {
            KeySizeGuard.Check(cert, label);
        }

        List<ChainBuilder.Chain> chains = ChainBuilder.Build(contents.Certificates, contents.Keys, out List<PrivateKeyMaterial> unmatched);
        if (unmatched.Count > 0)
        {
            warning?.Invoke($"{label} ({contents.Format}) holds {unmatched.Count} private key(s) that belong to none of its certificates " +
                $"({string.Join(", ", unmatched.Select(k => k.Algorithm).Distinct())}); the key and certificate were probably taken from different sources. " +
                $"The certificates were read; the key(s) were left out ({ErrorIds.KeyCertificateMismatch}).");
        }

        var bundles = new List<CertificateBundle>(chains.Count);
        var cache = new Dictionary<BcX509, X509Certificate2>();
        foreach (ChainBuilder.Chain chain in chains)
        {
            var list = chain.Certificates.Select(c => ToX509(c, cache, label)).ToList();
            contents.Aliases.TryGetValue(Convert.ToBase64String(chain.Leaf.GetEncoded()), out string? alias);
            var bundle = new CertificateBundle(list, chain.Key) { Source = source, Alias = alias };
            if (unmatched.Count > 0)
            {
                bundle.KeyMismatch = $"{label} holds {unmatched.Count} private key(s) that belong to none of its certificates";
            }

            // Only PEM keeps an order that matters: PKCS#7 and PKCS#12 hold sets, whose order means nothing.
            if (contents.Format == "PEM" && !chain.InInputOrder)
            {
                bundle.SourceOutOfOrder = true;
                bundle.SourceOrder = chain.InputPositions.Select((p, i) => (p, i)).OrderBy(x => x.p).Select(x => CertificateNames.CommonName(list[x.i])).ToArray();
            }

            bundles.Add(bundle);
        }

        verbose?.Invoke($"{label} ({contents.Format}): {contents.Certificates.Count} certificate(s), {contents.Keys.Count} private key(s), {bundles.Count} bundle(s).");
        return bundles;
    }

    private static X509Certificate2 ToX509(BcX509 cert, Dictionary<BcX509, X509Certificate2> cache, string label)
    {
        if (cache.TryGetValue(cert, out X509Certificate2? x))
        {
            return x;
        }

        x = X509Conversion.ToX509(cert, label);
        cache[cert] = x;
        return x;
    }

    private static bool LooksBinary(string text)
    {
        int control = 0;
        int n = Math.Min(text.Length, 4096);
        for (int i = 0; i < n; i++)
        {
            char c = text[i];
            if (c == '\uFFFD' || (c < 0x20 && c != '\r' && c != '\n' && c != '\t' && c != '\f'))
            {
                control++;
            }
        }

        return n > 0 && control * 10 > n;
    }

    private static CertIntegrationException NotAContainer(string label, string why) =>
        new(ErrorIds.NotACertificateContainer, FailureKind.InvalidData,
            $"{label} is not a certificate container ({why}). Supported: PEM, DER certificate, PKCS#7 (.p7b/.p7c), PKCS#12 (.pfx/.p12), Java keystore (JKS) and service key JSON.");
}
