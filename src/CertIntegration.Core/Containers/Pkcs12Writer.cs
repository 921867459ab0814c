using System;
using System.Collections.Generic;
using System.Linq;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using BcContentInfo = Org.BouncyCastle.Asn1.Pkcs.ContentInfo;

namespace CertIntegration.Core.Containers;

/// <summary>
/// Builds a PKCS#12 file from BouncyCastle's ASN.1 types and PBE primitives. BouncyCastle's own store writer fixes
/// the MAC at SHA-1 with 1024 iterations and the bag encryption at 1024 iterations; here the profile decides the
/// algorithms and every KDF uses <see cref="Limits.WriteKdfIterations"/> or more.
/// Layout (as Windows and OpenSSL write it): one encrypted SafeContents with all certificate bags, one plain
/// SafeContents with the shrouded key bag; localKeyId on the key and the leaf only, friendlyName on both.
/// </summary>
internal static class Pkcs12Writer
{
    private const int SaltSize = 16;

    /// <summary>The PFX of a bundle with its key: the key, the leaf and the whole chain under one password.</summary>
    public static byte[] Build(CertificateBundle bundle, char[] password, PfxEncryption encryption, string friendlyName)
    {
        if (bundle.Key is null)
        {
            throw new ArgumentException("The bundle has no private key.", nameof(bundle));
        }

        return Build(bundle.Chain.Select(c => new X509Certificate(c.RawData)).ToList(), bundle.Key, password, encryption, friendlyName);
    }

    public static byte[] Build(
        IReadOnlyList<X509Certificate> chain,
        PrivateKeyMaterial key,
        char[] password,
        PfxEncryption encryption,
        string friendlyName,
        int iterations = Limits.WriteKdfIterations,
        SecureRandom? random = null)
    {
        if (chain.Count == 0)
        {
            throw new ArgumentException("The chain is empty.", nameof(chain));
        }

        return BuildStore(new[] { new Pkcs12KeyEntry(friendlyName, key, chain) }, Array.Empty<Pkcs12TrustedEntry>(), password, encryption, iterations, random);
    }

    /// <summary>
    /// A PKCS#12 keystore of several entries under one password, as Java's keytool and the tenant's Keystore Monitor
    /// read it: each key entry is a shrouded key bag and its leaf's certificate bag, both with the alias as
    /// friendlyName and the same localKeyId, plus the CA certificates of its chain (each written once); each trusted
    /// entry is a certificate bag with the alias as friendlyName and Java's trusted-key-usage attribute
    /// (2.16.840.1.113894.746875.1.1 = anyExtendedKeyUsage), without which keytool does not list a certificate as a
    /// trustedCertEntry. Without key entries the file holds only the encrypted certificate safe.
    /// </summary>
    public static byte[] BuildStore(
        IReadOnlyList<Pkcs12KeyEntry> keys,
        IReadOnlyList<Pkcs12TrustedEntry> trusted,
        char[] password,
        PfxEncryption encryption,
        int iterations = Limits.WriteKdfIterations,
        SecureRandom? random = null)
    {
        if (keys.Count == 0 && trusted.Count == 0)
        {
            throw new ArgumentException("The keystore has no entries.", nameof(keys));
        }

        if (iterations < Limits.WriteKdfIterations)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), $"At least {Limits.WriteKdfIterations} iterations are used.");
        }

        random ??= new SecureRandom();
        var certBags = new List<Asn1Encodable>();
        var keyBags = new List<Asn1Encodable>();
        var caWritten = new HashSet<string>(StringComparer.Ordinal);
        foreach (Pkcs12KeyEntry entry in keys)
        {
            if (entry.Chain.Count == 0)
            {
                throw new ArgumentException("A key entry has an empty chain.", nameof(keys));
            }

            // localKeyId: the SHA-1 of the leaf's certificate, as Windows and OpenSSL write it.
            byte[] leafDer = entry.Chain[0].GetEncoded();
            byte[] localKeyId = DigestUtilities.CalculateDigest("SHA-1", leafDer);
            Asn1Set leafAttributes = new DerSet(
                Attribute(PkcsObjectIdentifiers.Pkcs9AtFriendlyName, new DerBmpString(entry.Alias)),
                Attribute(PkcsObjectIdentifiers.Pkcs9AtLocalKeyID, new DerOctetString(localKeyId)));

            // Certificates: leaf first, then the chain in order.
            certBags.Add(new SafeBag(PkcsObjectIdentifiers.CertBag, CertBag(leafDer), leafAttributes));
            for (int i = 1; i < entry.Chain.Count; i++)
            {
                byte[] der = entry.Chain[i].GetEncoded();
                if (caWritten.Add(Convert.ToBase64String(der)))
                {
                    certBags.Add(new SafeBag(PkcsObjectIdentifiers.CertBag, CertBag(der)));
                }
            }

            // Key: a PKCS#8 shrouded key bag.
            PrivateKeyInfo keyInfo = entry.Key.ToPrivateKeyInfo();
            AlgorithmIdentifier keyAlg = PbeAlgorithm(encryption, iterations, random);
            var epki = new EncryptedPrivateKeyInfo(keyAlg, Crypt(keyAlg, password, keyInfo.GetEncoded()));
            keyBags.Add(new SafeBag(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag, epki.ToAsn1Object(), leafAttributes));
        }

        foreach (Pkcs12TrustedEntry entry in trusted)
        {
            Asn1Set attributes = new DerSet(
                Attribute(PkcsObjectIdentifiers.Pkcs9AtFriendlyName, new DerBmpString(entry.Alias)),
                Attribute(OracleTrustedKeyUsage, KeyPurposeID.AnyExtendedKeyUsage));
            certBags.Add(new SafeBag(PkcsObjectIdentifiers.CertBag, CertBag(entry.Certificate.GetEncoded()), attributes));
        }

        byte[] certSafeContents = new DerSequence(certBags.ToArray()).GetDerEncoded();
        AlgorithmIdentifier certAlg = PbeAlgorithm(encryption, iterations, random);
        byte[] encryptedCerts = Crypt(certAlg, password, certSafeContents);
        var encryptedData = new EncryptedData(PkcsObjectIdentifiers.Data, certAlg, new DerOctetString(encryptedCerts));
        var contents = new List<BcContentInfo> { new(PkcsObjectIdentifiers.EncryptedData, encryptedData.ToAsn1Object()) };
        if (keyBags.Count > 0)
        {
            byte[] keySafeContents = new DerSequence(keyBags.ToArray()).GetDerEncoded();
            contents.Add(new BcContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(keySafeContents)));
        }

        byte[] authSafe = new AuthenticatedSafe(contents.ToArray()).GetDerEncoded();

        // MAC over the AuthenticatedSafe, with the PKCS#12 KDF (ID 3) and the profile's digest.
        DerObjectIdentifier macDigest = encryption == PfxEncryption.TripleDesSha1 ? OiwObjectIdentifiers.IdSha1 : NistObjectIdentifiers.IdSha256;
        byte[] macSalt = Salt(random, encryption == PfxEncryption.TripleDesSha1 ? 20 : 32);
        byte[] mac = Mac(macDigest, macSalt, iterations, password, authSafe);
        var macData = new MacData(new DigestInfo(new AlgorithmIdentifier(macDigest, DerNull.Instance), mac), macSalt, iterations);

        var pfx = new Pfx(new BcContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(authSafe)), macData);
        return pfx.GetDerEncoded();
    }

    /// <summary>Oracle's attribute that marks a PKCS#12 certificate bag as a trusted certificate entry for Java.</summary>
    public static readonly DerObjectIdentifier OracleTrustedKeyUsage = new("2.16.840.1.113894.746875.1.1");

    private static Asn1Object CertBag(byte[] der) => new CertBag(PkcsObjectIdentifiers.X509Certificate, new DerOctetString(der)).ToAsn1Object();

    /// <summary>The PKCS#12 MAC (RFC 7292 appendix B key derivation) over <paramref name="data"/>.</summary>
    public static byte[] Mac(DerObjectIdentifier digest, byte[] salt, int iterations, char[] password, byte[] data)
    {
        Asn1Encodable parameters = PbeUtilities.GenerateAlgorithmParameters(digest, salt, iterations);
        ICipherParameters keyParams = PbeUtilities.GenerateCipherParameters(digest, password, false, parameters);
        var mac = (IMac)PbeUtilities.CreateEngine(digest);
        mac.Init(keyParams);
        return MacUtilities.DoFinal(mac, data);
    }

    private static AlgorithmIdentifier PbeAlgorithm(PfxEncryption encryption, int iterations, SecureRandom random)
    {
        if (encryption == PfxEncryption.TripleDesSha1)
        {
            return new AlgorithmIdentifier(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, new Pkcs12PbeParams(Salt(random), iterations));
        }

        Asn1Encodable pbes2 = PbeUtilities.GenerateAlgorithmParameters(
            NistObjectIdentifiers.IdAes256Cbc, PkcsObjectIdentifiers.IdHmacWithSha256, Salt(random), iterations, random);
        return new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbeS2, pbes2);
    }

    private static byte[] Crypt(AlgorithmIdentifier algorithm, char[] password, byte[] data)
    {
        var cipher = (IBufferedCipher)PbeUtilities.CreateEngine(algorithm);
        char[] pw = PbePassword.For(algorithm.Algorithm, password);
        try
        {
            ICipherParameters parameters = PbeUtilities.GenerateCipherParameters(algorithm, pw);
            cipher.Init(true, parameters);
            return cipher.DoFinal(data);
        }
        finally
        {
            PbePassword.Release(pw, password);
        }
    }

    private static DerSequence Attribute(DerObjectIdentifier oid, Asn1Encodable value) => new(oid, new DerSet(value));

    private static byte[] Salt(SecureRandom random, int size = SaltSize)
    {
        byte[] salt = new byte[size];
        random.NextBytes(salt);
        return salt;
    }
}

/// <summary>
/// The password as each PBE scheme turns it into bytes. PKCS#12 PBE (and the PKCS#12 MAC) use the characters as
/// BMPString, which BouncyCastle does itself. PBES2 and PBES1 use bytes; OpenSSL, .NET and Java take the UTF-8 of the
/// password, while BouncyCastle converts each character to one byte (wrong above U+007F, an exception above U+00FF).
/// Handing BouncyCastle one character per UTF-8 byte makes it derive the same key as everyone else.
/// </summary>
internal static class PbePassword
{
    public static char[] For(DerObjectIdentifier scheme, char[] password) =>
        scheme.Id.StartsWith("1.2.840.113549.1.12.1.", StringComparison.Ordinal) ? password : Utf8AsChars(password);

    public static char[] Utf8AsChars(char[] password)
    {
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(password);
        var chars = new char[utf8.Length];
        for (int i = 0; i < utf8.Length; i++)
        {
            chars[i] = (char)utf8[i];
        }

        Array.Clear(utf8, 0, utf8.Length);
        return chars;
    }

    /// <summary>Wipes a converted copy; the caller's own array is left alone.</summary>
    public static void Release(char[] converted, char[] original)
    {
        if (!ReferenceEquals(converted, original))
        {
            Array.Clear(converted, 0, converted.Length);
        }
    }
}

/// <summary>A key entry of a PKCS#12 keystore: its alias (friendlyName), key and chain (leaf first).</summary>
internal sealed class Pkcs12KeyEntry
{
    public Pkcs12KeyEntry(string alias, PrivateKeyMaterial key, IReadOnlyList<X509Certificate> chain)
    {
        Alias = alias;
        Key = key;
        Chain = chain;
    }

    public string Alias { get; }

    public PrivateKeyMaterial Key { get; }

    public IReadOnlyList<X509Certificate> Chain { get; }
}

/// <summary>A trusted-certificate entry of a PKCS#12 keystore.</summary>
internal sealed class Pkcs12TrustedEntry
{
    public Pkcs12TrustedEntry(string alias, X509Certificate certificate)
    {
        Alias = alias;
        Certificate = certificate;
    }

    public string Alias { get; }

    public X509Certificate Certificate { get; }
}
