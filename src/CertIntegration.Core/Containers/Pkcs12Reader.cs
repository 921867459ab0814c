using System;
using System.Collections.Generic;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Utilities;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Containers;

/// <summary>
/// Reads a PKCS#12 (PFX) file with BouncyCastle's ASN.1 types and PBE primitives. Every iteration count (MAC and each
/// password-based encryption) is checked by <see cref="KdfGuard"/>, and the work of all of them is committed to the
/// file's <see cref="KdfBudget"/> before any key is derived, so a crafted file fails in milliseconds. Password
/// handling follows RFC 7292 plus the usual deviation: an empty password may have been encoded as an empty byte
/// string (the "null" password of some Windows and Java exports) rather than as the two-byte BMP terminator; both are
/// tried.
/// </summary>
internal sealed class Pkcs12Reader
{
    /// <summary>Most bags (certificates, keys...) read from one file.</summary>
    public const int MaxBags = 5000;

    private const int MaxNestedSafeContents = 4;

    private readonly string _source;
    private readonly Action<string>? _verbose;
    private readonly List<BcX509> _certs = new();
    private readonly List<KeyValuePair<BcX509, string>> _names = new();
    private readonly List<PrivateKeyMaterial> _keys = new();
    private readonly KdfBudget _budget;
    private int _bags;

    private Pkcs12Reader(string source, Action<string>? verbose)
    {
        _source = source;
        _verbose = verbose;
        _budget = new KdfBudget(source);
    }

    public static bool LooksLikePfx(Asn1Object obj)
    {
        // PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData MacData OPTIONAL }
        return obj is Asn1Sequence seq && seq.Count is 2 or 3
            && seq[0] is DerInteger version && version.HasValue(3) && seq[1] is Asn1Sequence ci && ci.Count >= 1 && ci[0] is DerObjectIdentifier;
    }

    /// <summary>Reads the PFX. <paramref name="password"/> null means none was given.</summary>
    public static ContainerContents Read(Asn1Object obj, string source, char[]? password, Action<string>? verbose)
    {
        var reader = new Pkcs12Reader(source, verbose);
        reader.ReadPfx(obj, password);
        var contents = new ContainerContents("PKCS#12", reader._certs, reader._keys);
        foreach (KeyValuePair<BcX509, string> n in reader._names)
        {
            contents.Name(n.Key, n.Value);
        }

        return contents;
    }

    private void ReadPfx(Asn1Object obj, char[]? password)
    {
        Pfx pfx;
        ContentInfo authSafe;
        MacData? mac;
        byte[] authSafeData;
        try
        {
            pfx = Pfx.GetInstance(obj);
            authSafe = pfx.AuthSafe;
            mac = pfx.MacData;
            if (!authSafe.ContentType.Equals(PkcsObjectIdentifiers.Data))
            {
                throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                    $"{_source}: the PKCS#12 file uses public-key integrity mode (content type {Messages.Quote(authSafe.ContentType.Id)}); only password integrity is supported.");
            }

            if (authSafe.Content is null)
            {
                throw Asn1Guard.Corrupt(_source, "the PKCS#12 authenticated safe has no content");
            }

            authSafeData = Asn1OctetString.GetInstance(authSafe.Content).GetOctets();
        }
        catch (Exception ex) when (IsFormatError(ex))
        {
            throw Asn1Guard.Corrupt(_source, $"the PKCS#12 structure is invalid ({Messages.Clause(ex.Message)})", ex);
        }

        // First pass, before any key derivation: the MAC's iteration count, and every PBE algorithm visible without decrypting.
        ContentInfo[] infos;
        long macCost = 0;
        try
        {
            if (mac is not null)
            {
                macCost = KdfGuard.CheckMac(mac, $"{_source} (the MAC)");
                _budget.Commit(macCost);
            }

            infos = AuthenticatedSafe.GetInstance(Asn1Guard.Parse(authSafeData, _source)).GetContentInfo();
        }
        catch (Exception ex) when (IsFormatError(ex))
        {
            throw Asn1Guard.Corrupt(_source, $"the PKCS#12 authenticated safe is invalid ({Messages.Clause(ex.Message)})", ex);
        }

        if (infos.Length > MaxBags)
        {
            throw TooMany();
        }

        foreach (ContentInfo ci in infos)
        {
            PreCheck(ci);
        }

        // Which password bytes work: with a MAC, it decides; without one, the first decryption does.
        List<PasswordVariant> candidates = Candidates(password);
        if (mac is not null)
        {
            PasswordVariant? ok = null;
            for (int i = 0; i < candidates.Count; i++)
            {
                if (i > 0)
                {
                    _budget.Commit(macCost); // the first try was committed with the rest of the file
                }

                if (MacMatches(mac, authSafeData, candidates[i]))
                {
                    ok = candidates[i];
                    break;
                }
            }

            if (ok is null)
            {
                throw password is null || password.Length == 0
                    ? new CertIntegrationException(ErrorIds.Pkcs12PasswordRequired, FailureKind.AuthenticationError,
                        $"{_source} is a password-protected PKCS#12 file{(password is null ? string.Empty : " and the empty password is not it")}; give its password with -Password.")
                    : new CertIntegrationException(ErrorIds.Pkcs12PasswordIncorrect, FailureKind.AuthenticationError,
                        $"{_source}: wrong password for the PKCS#12 file (its integrity check (MAC) does not match; either the password is wrong or the file is corrupted).");
            }

            _verbose?.Invoke($"{_source}: PKCS#12 integrity check passed ({DigestName(mac)}, {mac.IterationCount} iterations){(ok.Value.WrongZero ? " using the zero-length encoding of the empty password" : string.Empty)}.");
            candidates = new List<PasswordVariant> { ok.Value };
        }
        else
        {
            _verbose?.Invoke($"{_source}: the PKCS#12 file has no integrity check (MAC).");
        }

        bool passwordConfirmed = mac is not null;
        foreach (ContentInfo ci in infos)
        {
            ReadContentInfo(ci, ref candidates, ref passwordConfirmed, password);
        }
    }

    /// <summary>
    /// The EncryptedData of a safe, its shape checked first: BouncyCastle indexes the EncryptedContentInfo sequence
    /// without checking its length (a crafted safe gave an IndexOutOfRangeException).
    /// </summary>
    private EncryptedData EncryptedDataOf(ContentInfo ci)
    {
        Asn1Encodable content = ci.Content ?? throw Asn1Guard.Corrupt(_source, "an encrypted safe has no content");
        if (content is not Asn1Sequence outer || outer.Count < 2 || outer[1] is not Asn1Sequence info || info.Count < 2 || info.Count > 3)
        {
            throw Asn1Guard.Corrupt(_source, "an encrypted safe is not an EncryptedData structure");
        }

        return EncryptedData.GetInstance(content);
    }

    private void PreCheck(ContentInfo ci)
    {
        try
        {
            if (ci.ContentType.Equals(PkcsObjectIdentifiers.EncryptedData))
            {
                EncryptedData d = EncryptedDataOf(ci);
                _budget.Commit(GuardAlgorithm(d.EncryptionAlgorithm, "an encrypted safe"));
            }
            else if (ci.ContentType.Equals(PkcsObjectIdentifiers.Data))
            {
                CommitKeyBags(Asn1OctetString.GetInstance(ci.Content ?? throw Asn1Guard.Corrupt(_source, "a safe has no content")).GetOctets());
            }
        }
        catch (Exception ex) when (IsFormatError(ex))
        {
            throw Asn1Guard.Corrupt(_source, $"a PKCS#12 safe is invalid ({Messages.Clause(ex.Message)})", ex);
        }
    }

    /// <summary>Commits the work of every shrouded key bag of one safe contents, before any of them is decrypted.</summary>
    private void CommitKeyBags(byte[] safeContents)
    {
        foreach (SafeBag bag in Bags(safeContents))
        {
            if (bag.BagID.Equals(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag))
            {
                _budget.Commit(GuardAlgorithm(EncryptedPrivateKeyInfo.GetInstance(bag.BagValue).EncryptionAlgorithm, "a key bag"));
            }
        }
    }

    private void ReadContentInfo(ContentInfo ci, ref List<PasswordVariant> candidates, ref bool confirmed, char[]? password)
    {
        byte[] octets;
        bool bagsCommitted = false;
        try
        {
            if (ci.ContentType.Equals(PkcsObjectIdentifiers.Data))
            {
                octets = Asn1OctetString.GetInstance(ci.Content).GetOctets();
                bagsCommitted = true; // by PreCheck
            }
            else if (ci.ContentType.Equals(PkcsObjectIdentifiers.EncryptedData))
            {
                EncryptedData d = EncryptedDataOf(ci);
                if (d.Content is null)
                {
                    _verbose?.Invoke($"{_source}: an encrypted safe has no content; skipped.");
                    return;
                }

                octets = DecryptWithCandidates(d.EncryptionAlgorithm, d.Content.GetOctets(), "an encrypted safe", ref candidates, ref confirmed, password);
            }
            else
            {
                throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                    $"{_source}: a PKCS#12 safe has content type {Messages.Quote(ci.ContentType.Id)} ({(ci.ContentType.Equals(PkcsObjectIdentifiers.EnvelopedData) ? "public-key privacy mode" : "unknown")}), which is not supported.");
            }
        }
        catch (Exception ex) when (IsFormatError(ex))
        {
            throw Asn1Guard.Corrupt(_source, $"a PKCS#12 safe is invalid ({Messages.Clause(ex.Message)})", ex);
        }

        ReadSafeContents(octets, 0, bagsCommitted, ref candidates, ref confirmed, password);
    }

    private void ReadSafeContents(byte[] octets, int depth, bool bagsCommitted, ref List<PasswordVariant> candidates, ref bool confirmed, char[]? password)
    {
        if (!bagsCommitted)
        {
            try
            {
                CommitKeyBags(octets);
            }
            catch (Exception ex) when (IsFormatError(ex))
            {
                throw Asn1Guard.Corrupt(_source, $"a PKCS#12 safe is invalid ({Messages.Clause(ex.Message)})", ex);
            }
        }

        foreach (SafeBag bag in Bags(octets))
        {
            if (++_bags > MaxBags)
            {
                throw TooMany();
            }

            DerObjectIdentifier id = bag.BagID;
            try
            {
                if (id.Equals(PkcsObjectIdentifiers.CertBag))
                {
                    CertBag cb = CertBag.GetInstance(bag.BagValue);
                    if (!cb.CertID.Equals(PkcsObjectIdentifiers.X509Certificate))
                    {
                        _verbose?.Invoke($"{_source}: skipped a certificate bag of type {Messages.Quote(cb.CertID.Id)} (not X.509).");
                        continue;
                    }

                    byte[] der = Asn1OctetString.GetInstance(cb.CertValue).GetOctets();
                    Asn1Guard.Check(der, _source);
                    BcX509 parsed = PemText.ParseCertificate(der, _source, 0, "PKCS#12 certificate bag");
                    _certs.Add(parsed);
                    if (FriendlyName(bag) is { } friendly)
                    {
                        _names.Add(new KeyValuePair<BcX509, string>(parsed, friendly));
                    }
                }
                else if (id.Equals(PkcsObjectIdentifiers.KeyBag))
                {
                    AddKey(bag.BagValue, "key bag");
                }
                else if (id.Equals(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag))
                {
                    var epki = EncryptedPrivateKeyInfo.GetInstance(bag.BagValue);
                    byte[] plain = DecryptWithCandidates(epki.EncryptionAlgorithm, epki.GetEncryptedData(), "a private key", ref candidates, ref confirmed, password);
                    try
                    {
                        AddKey(Asn1Guard.Parse(plain, _source), "shrouded key bag");
                    }
                    finally
                    {
                        Array.Clear(plain, 0, plain.Length);
                    }
                }
                else if (id.Equals(PkcsObjectIdentifiers.SafeContentsBag))
                {
                    if (depth >= MaxNestedSafeContents)
                    {
                        throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                            $"{_source}: PKCS#12 safe contents are nested more than {MaxNestedSafeContents} levels deep.");
                    }

                    ReadSafeContents(bag.BagValue.GetEncoded(), depth + 1, bagsCommitted: false, ref candidates, ref confirmed, password);
                }
                else
                {
                    _verbose?.Invoke($"{_source}: skipped a PKCS#12 bag of type {Messages.Quote(id.Id)} (CRL or secret).");
                }
            }
            catch (Exception ex) when (IsFormatError(ex))
            {
                throw Asn1Guard.Corrupt(_source, $"a PKCS#12 bag ({Messages.Quote(id.Id)}) is invalid ({Messages.Clause(ex.Message)})", ex);
            }
        }
    }

    private void AddKey(Asn1Encodable keyInfo, string bag)
    {
        string subject = $"{_source}: a {bag}";
        _keys.Add(PrivateKeyShape.FromPkcs8(PrivateKeyShape.Info(keyInfo, subject), subject));
    }

    private IEnumerable<SafeBag> Bags(byte[] octets)
    {
        Asn1Sequence seq = Asn1Sequence.GetInstance(Asn1Guard.Parse(octets, _source));
        if (seq.Count > MaxBags)
        {
            throw TooMany();
        }

        foreach (Asn1Encodable e in seq)
        {
            yield return SafeBag.GetInstance(e);
        }
    }

    /// <summary>
    /// Decrypts with the password variant already known to work, or (no MAC) tries each: the first that decrypts to
    /// well-formed DER is kept for the rest of the file. The first try's work was committed before any derivation;
    /// each further try is committed before it runs.
    /// </summary>
    private byte[] DecryptWithCandidates(AlgorithmIdentifier alg, byte[] data, string what, ref List<PasswordVariant> candidates, ref bool confirmed, char[]? password)
    {
        Exception? last = null;
        for (int i = 0; i < candidates.Count; i++)
        {
            PasswordVariant v = candidates[i];
            if (i > 0)
            {
                _budget.Commit(GuardAlgorithm(alg, what));
            }

            try
            {
                byte[] plain = Decrypt(alg, data, v);
                Asn1Guard.Check(plain, _source);

                if (!confirmed)
                {
                    candidates = new List<PasswordVariant> { v };
                    confirmed = true;
                }

                return plain;
            }
            catch (CertIntegrationException ex) when (ex.ErrorId == ErrorIds.ContainerCorrupt)
            {
                last = ex;
            }
            catch (Exception ex) when (ex is InvalidCipherTextException or DataLengthException or ArgumentException or InvalidOperationException)
            {
                last = ex;
            }
        }

        if (confirmed)
        {
            // The password is known to be right (MAC or an earlier part), so this part is damaged.
            throw Asn1Guard.Corrupt(_source, $"{what} does not decrypt with the password that opens the rest of the file ({Messages.Clause(last?.Message)})", last);
        }

        if (password is null || password.Length == 0)
        {
            throw new CertIntegrationException(ErrorIds.Pkcs12PasswordRequired, FailureKind.AuthenticationError,
                $"{_source}: {what} in the PKCS#12 file is encrypted{(password is null ? string.Empty : " and the empty password does not open it")}; give its password with -Password.", last);
        }

        throw new CertIntegrationException(ErrorIds.Pkcs12PasswordIncorrect, FailureKind.AuthenticationError,
            $"{_source}: wrong password for the PKCS#12 file ({what} does not decrypt with it).", last);
    }

    private byte[] Decrypt(AlgorithmIdentifier alg, byte[] data, PasswordVariant v)
    {
        if (ScryptPbes2.Uses(alg))
        {
            return ScryptPbes2.Decrypt(alg, data, v.Chars, _source);
        }

        object? engine;
        try
        {
            engine = PbeUtilities.CreateEngine(alg);
        }
        catch (Exception ex) when (ex is SecurityUtilityException or ArgumentException or InvalidCastException)
        {
            throw Unsupported(alg, ex);
        }

        if (engine is not IBufferedCipher cipher)
        {
            throw Unsupported(alg, null);
        }

        ICipherParameters parameters;
        char[] chars = PbePassword.For(alg.Algorithm, v.Chars);
        try
        {
            parameters = PbeUtilities.GenerateCipherParameters(alg, chars, v.WrongZero);
        }
        catch (Exception ex) when (ex is SecurityUtilityException or NotSupportedException)
        {
            throw Unsupported(alg, ex);
        }
        finally
        {
            PbePassword.Release(chars, v.Chars);
        }

        if (parameters is null)
        {
            throw Unsupported(alg, null);
        }

        cipher.Init(false, parameters);
        return cipher.DoFinal(data);
    }

    private CertIntegrationException Unsupported(AlgorithmIdentifier alg, Exception? ex)
    {
        string name = alg.Algorithm.Id;
        if (alg.Algorithm.Equals(PkcsObjectIdentifiers.IdPbeS2))
        {
            try
            {
                var p = PbeS2Parameters.GetInstance(alg.Parameters);
                name += $" (PBES2 with cipher {Messages.Quote(p.EncryptionScheme.Algorithm.Id)})";
            }
            catch (Exception inner) when (IsFormatError(inner))
            {
                // keep the outer OID
            }
        }

        return new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
            $"{_source}: the PKCS#12 file is encrypted with algorithm {name}, which is not supported.", ex);
    }

    private bool MacMatches(MacData mac, byte[] data, PasswordVariant v)
    {
        DerObjectIdentifier digestOid = mac.Mac.DigestAlgorithm.Algorithm;
        IDigest digest;
        try
        {
            digest = DigestUtilities.GetDigest(digestOid);
        }
        catch (SecurityUtilityException ex)
        {
            string hint = digestOid.Id == "1.2.840.113549.1.5.14" ? " (PBMAC1)" : string.Empty;
            throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                $"{_source}: the PKCS#12 integrity check uses algorithm {Messages.Quote(digestOid.Id)}{hint}, which is not supported.", ex);
        }

        var generator = new Pkcs12ParametersGenerator(digest);
        byte[] pw = PbeParametersGenerator.Pkcs12PasswordToBytes(v.Chars, v.WrongZero);
        try
        {
            generator.Init(pw, mac.GetSalt(), mac.IterationCount.IntValue);
            var key = (KeyParameter)generator.GenerateDerivedMacParameters(digest.GetDigestSize() * 8);
            var hmac = new HMac(DigestUtilities.GetDigest(digestOid));
            hmac.Init(key);
            hmac.BlockUpdate(data, 0, data.Length);
            byte[] result = new byte[hmac.GetMacSize()];
            hmac.DoFinal(result, 0);
            return Arrays.FixedTimeEquals(result, mac.Mac.Digest.GetOctets());
        }
        finally
        {
            Array.Clear(pw, 0, pw.Length);
        }
    }

    private static string DigestName(MacData mac)
    {
        try
        {
            return DigestUtilities.GetAlgorithmName(mac.Mac.DigestAlgorithm.Algorithm) ?? mac.Mac.DigestAlgorithm.Algorithm.Id;
        }
        catch (Exception)
        {
            return mac.Mac.DigestAlgorithm.Algorithm.Id;
        }
    }

    private long GuardAlgorithm(AlgorithmIdentifier alg, string what) => KdfGuard.Check(alg, $"{_source} ({what})");

    private CertIntegrationException TooMany() =>
        new(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded, $"{_source}: the PKCS#12 file holds more than {MaxBags} entries; it was not read.");

    private static List<PasswordVariant> Candidates(char[]? password)
    {
        char[] pw = password ?? Array.Empty<char>();
        var list = new List<PasswordVariant> { new(pw, false) };
        if (pw.Length == 0)
        {
            list.Add(new PasswordVariant(pw, true));
        }

        return list;
    }

    internal static bool IsFormatError(Exception ex) =>
        ex is ArgumentException or InvalidCastException or InvalidOperationException or FormatException
            or System.IO.IOException or OverflowException or Asn1Exception or NotSupportedException
            or Org.BouncyCastle.Security.Certificates.CertificateException;

    private readonly struct PasswordVariant
    {
        public PasswordVariant(char[] chars, bool wrongZero)
        {
            Chars = chars;
            WrongZero = wrongZero;
        }

        public char[] Chars { get; }

        public bool WrongZero { get; }
    }

    /// <summary>The bag's friendlyName attribute (PKCS#9 BMPString), at most 256 characters; null when absent or malformed.</summary>
    private static string? FriendlyName(SafeBag bag)
    {
        if (bag.BagAttributes is not { } attributes)
        {
            return null;
        }

        foreach (Asn1Encodable item in attributes)
        {
            if (Org.BouncyCastle.Asn1.Pkcs.AttributePkcs.GetInstance(item) is { } a
                && a.AttrType.Equals(PkcsObjectIdentifiers.Pkcs9AtFriendlyName)
                && a.AttrValues.Count > 0 && a.AttrValues[0] is IAsn1String text)
            {
                string name = text.GetString();
                return name.Length == 0 ? null : name.Length > 256 ? name.Substring(0, 256) : name;
            }
        }

        return null;
    }
}

/// <summary>Certificates and keys found in one container, before they are grouped into bundles.</summary>
internal sealed class ContainerContents
{
    public ContainerContents(string format, List<BcX509> certificates, List<PrivateKeyMaterial> keys)
    {
        Format = format;
        Certificates = certificates;
        Keys = keys;
    }

    public string Format { get; }

    public List<BcX509> Certificates { get; }

    public List<PrivateKeyMaterial> Keys { get; }

    /// <summary>
    /// The names the container gives its certificates (JKS aliases, PKCS#12 friendlyName), by the certificate's
    /// DER in Base64; a bundle takes the name of its leaf as <see cref="CertificateBundle.Alias"/>.
    /// </summary>
    public Dictionary<string, string> Aliases { get; } = new(StringComparer.Ordinal);

    public void Name(BcX509 certificate, string? alias)
    {
        if (!string.IsNullOrEmpty(alias))
        {
            string key = Convert.ToBase64String(certificate.GetEncoded());
            if (!Aliases.ContainsKey(key))
            {
                Aliases[key] = alias!;
            }
        }
    }
}
