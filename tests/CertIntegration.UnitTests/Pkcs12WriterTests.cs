using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Xunit;
using BcContentInfo = Org.BouncyCastle.Asn1.Pkcs.ContentInfo;

namespace CertIntegration.UnitTests;

/// <summary>The PKCS#12 layout, decoded with BouncyCastle's ASN.1 types so each algorithm and attribute can be checked.</summary>
public class Pkcs12WriterTests
{
    private static readonly char[] Password = "unit-pw".ToCharArray();

    private static TestPki Pki => TestPki.Default;

    private static List<X509Certificate> Chain => new() { Pki.Leaf.Certificate, Pki.Intermediate.Certificate, Pki.Root.Certificate };

    private static byte[] Build(PfxEncryption enc, string friendly = "unit friendly", int iterations = Limits.WriteKdfIterations) =>
        Pkcs12Writer.Build(Chain, new PrivateKeyMaterial(Pki.Leaf.Keys.Private), Password, enc, friendly, iterations);

    private sealed record Decoded(MacData Mac, AlgorithmIdentifier CertAlgorithm, List<SafeBag> CertBags, AlgorithmIdentifier KeyAlgorithm, SafeBag KeyBag, byte[] AuthSafe);

    private static Decoded Decode(byte[] pfxBytes)
    {
        var pfx = Pfx.GetInstance(Asn1Object.FromByteArray(pfxBytes));
        byte[] authSafe = Asn1OctetString.GetInstance(pfx.AuthSafe.Content).GetOctets();
        BcContentInfo[] infos = AuthenticatedSafe.GetInstance(Asn1Object.FromByteArray(authSafe)).GetContentInfo();
        Assert.Equal(2, infos.Length);

        Assert.Equal(PkcsObjectIdentifiers.EncryptedData, infos[0].ContentType);
        var ed = EncryptedData.GetInstance(infos[0].Content);
        var cipher = (IBufferedCipher)PbeUtilities.CreateEngine(ed.EncryptionAlgorithm);
        cipher.Init(false, PbeUtilities.GenerateCipherParameters(ed.EncryptionAlgorithm, Password));
        byte[] plain = cipher.DoFinal(ed.Content.GetOctets());
        List<SafeBag> certBags = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(plain)).Cast<Asn1Encodable>().Select(SafeBag.GetInstance).ToList();

        Assert.Equal(PkcsObjectIdentifiers.Data, infos[1].ContentType);
        byte[] keyContents = Asn1OctetString.GetInstance(infos[1].Content).GetOctets();
        SafeBag keyBag = SafeBag.GetInstance(Assert.Single(Asn1Sequence.GetInstance(Asn1Object.FromByteArray(keyContents)).Cast<Asn1Encodable>()));
        Assert.Equal(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag, keyBag.BagID);
        var epki = EncryptedPrivateKeyInfo.GetInstance(keyBag.BagValue);
        return new Decoded(pfx.MacData, ed.EncryptionAlgorithm, certBags, epki.EncryptionAlgorithm, keyBag, authSafe);
    }

    private static Asn1Encodable? Attr(SafeBag bag, DerObjectIdentifier oid) =>
        bag.BagAttributes?.Cast<Asn1Encodable>().Select(Asn1Sequence.GetInstance)
            .Where(s => DerObjectIdentifier.GetInstance(s[0]).Equals(oid))
            .Select(s => Asn1Set.GetInstance(s[1])[0]).SingleOrDefault();

    [Theory]
    [InlineData(PfxEncryption.TripleDesSha1)]
    [InlineData(PfxEncryption.Aes256Sha256)]
    public void BouncyCastleReadsKeyAndChain(PfxEncryption enc)
    {
        var store = new Pkcs12StoreBuilder().Build();
        store.Load(new MemoryStream(Build(enc)), Password);
        string alias = Assert.Single(store.Aliases, store.IsKeyEntry);
        Assert.Equal("unit friendly", alias);
        Assert.Equal(((Org.BouncyCastle.Crypto.Parameters.RsaKeyParameters)Pki.Leaf.Keys.Private).Modulus,
            ((Org.BouncyCastle.Crypto.Parameters.RsaKeyParameters)store.GetKey(alias).Key).Modulus);
        Assert.Equal(Chain, store.GetCertificateChain(alias).Select(e => e.Certificate));

        Assert.ThrowsAny<Exception>(() => new Pkcs12StoreBuilder().Build().Load(new MemoryStream(Build(enc)), "wrong".ToCharArray()));
    }

    [Fact]
    public void TripleDesProfile()
    {
        Decoded d = Decode(Build(PfxEncryption.TripleDesSha1));
        Assert.Equal(OiwObjectIdentifiers.IdSha1, d.Mac.Mac.DigestAlgorithm.Algorithm);
        Assert.Equal(20, d.Mac.Mac.Digest.GetOctets().Length);
        Assert.Equal(2048, d.Mac.IterationCount.IntValue);
        Assert.True(d.Mac.GetSalt().Length >= 8);

        Assert.Equal(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, d.CertAlgorithm.Algorithm);
        Assert.Equal(2048, Pkcs12PbeParams.GetInstance(d.CertAlgorithm.Parameters).Iterations.IntValue);
        Assert.Equal(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, d.KeyAlgorithm.Algorithm);
        Assert.Equal(2048, Pkcs12PbeParams.GetInstance(d.KeyAlgorithm.Parameters).Iterations.IntValue);
    }

    [Fact]
    public void AesProfile()
    {
        Decoded d = Decode(Build(PfxEncryption.Aes256Sha256));
        Assert.Equal(NistObjectIdentifiers.IdSha256, d.Mac.Mac.DigestAlgorithm.Algorithm);
        Assert.Equal(32, d.Mac.Mac.Digest.GetOctets().Length);
        Assert.Equal(2048, d.Mac.IterationCount.IntValue);

        foreach (AlgorithmIdentifier alg in new[] { d.CertAlgorithm, d.KeyAlgorithm })
        {
            Assert.Equal(PkcsObjectIdentifiers.IdPbeS2, alg.Algorithm);
            var p = PbeS2Parameters.GetInstance(alg.Parameters);
            Assert.Equal(PkcsObjectIdentifiers.IdPbkdf2, p.KeyDerivationFunc.Algorithm);
            var kdf = Pbkdf2Params.GetInstance(p.KeyDerivationFunc.Parameters);
            Assert.Equal(2048, kdf.IterationCount.IntValue);
            Assert.Equal(PkcsObjectIdentifiers.IdHmacWithSha256, kdf.Prf.Algorithm);
            Assert.Equal(NistObjectIdentifiers.IdAes256Cbc, p.EncryptionScheme.Algorithm);
            Assert.True(kdf.GetSalt().Length >= 8);
        }
    }

    [Theory]
    [InlineData(PfxEncryption.TripleDesSha1)]
    [InlineData(PfxEncryption.Aes256Sha256)]
    public void MacIsTheProfilesHmacOverTheAuthenticatedSafe(PfxEncryption enc)
    {
        Decoded d = Decode(Build(enc));
        byte[] expected = Pkcs12Writer.Mac(d.Mac.Mac.DigestAlgorithm.Algorithm, d.Mac.GetSalt(), d.Mac.IterationCount.IntValue, Password, d.AuthSafe);
        Assert.Equal(expected, d.Mac.Mac.Digest.GetOctets());
        byte[] other = Pkcs12Writer.Mac(d.Mac.Mac.DigestAlgorithm.Algorithm, d.Mac.GetSalt(), d.Mac.IterationCount.IntValue, "x".ToCharArray(), d.AuthSafe);
        Assert.NotEqual(expected, other);
    }

    [Theory]
    [InlineData(PfxEncryption.TripleDesSha1)]
    [InlineData(PfxEncryption.Aes256Sha256)]
    public void LocalKeyIdOnKeyAndLeafOnlyFriendlyNameOnLeafAndKey(PfxEncryption enc)
    {
        Decoded d = Decode(Build(enc, "Ä friendly"));
        Assert.Equal(3, d.CertBags.Count);
        var certs = d.CertBags.Select(b => new X509Certificate(Asn1OctetString.GetInstance(CertBag.GetInstance(b.BagValue).CertValue).GetOctets())).ToList();
        Assert.Equal(Chain, certs);

        byte[] keyId = Asn1OctetString.GetInstance(Attr(d.KeyBag, PkcsObjectIdentifiers.Pkcs9AtLocalKeyID)).GetOctets();
        Assert.Equal(Convert.FromHexString(Pki.Leaf.Thumbprint), keyId);
        Assert.Equal(keyId, Asn1OctetString.GetInstance(Attr(d.CertBags[0], PkcsObjectIdentifiers.Pkcs9AtLocalKeyID)).GetOctets());
        Assert.Equal("Ä friendly", DerBmpString.GetInstance(Attr(d.CertBags[0], PkcsObjectIdentifiers.Pkcs9AtFriendlyName)).GetString());
        Assert.Equal("Ä friendly", DerBmpString.GetInstance(Attr(d.KeyBag, PkcsObjectIdentifiers.Pkcs9AtFriendlyName)).GetString());
        foreach (SafeBag ca in d.CertBags.Skip(1))
        {
            Assert.Null(Attr(ca, PkcsObjectIdentifiers.Pkcs9AtLocalKeyID));
            Assert.Null(Attr(ca, PkcsObjectIdentifiers.Pkcs9AtFriendlyName));
        }
    }

    [Fact]
    public void FewerIterationsThanTheFloorAreRefusedAndMoreAreWritten()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Build(PfxEncryption.Aes256Sha256, iterations: 2047));
        Decoded d = Decode(Build(PfxEncryption.TripleDesSha1, iterations: 4096));
        Assert.Equal(4096, d.Mac.IterationCount.IntValue);
        Assert.Equal(4096, Pkcs12PbeParams.GetInstance(d.KeyAlgorithm.Parameters).Iterations.IntValue);
    }

    [Fact]
    public void SaltsAreFreshForEveryFile()
    {
        Decoded a = Decode(Build(PfxEncryption.Aes256Sha256));
        Decoded b = Decode(Build(PfxEncryption.Aes256Sha256));
        Assert.NotEqual(a.Mac.GetSalt(), b.Mac.GetSalt());
        Assert.NotEqual(a.CertAlgorithm.GetEncoded(), b.CertAlgorithm.GetEncoded());
    }

    [Fact]
    public void EcKeyAndSingleCertificate()
    {
        Issued ec = TestPki.IssueLeaf("CN=Unit Pfx EC", Pki.Intermediate, TestPki.KeyKind.EcP256);
        byte[] pfx = Pkcs12Writer.Build(new[] { ec.Certificate }, new PrivateKeyMaterial(ec.Keys.Private), Password, PfxEncryption.Aes256Sha256, "ec");
        var store = new Pkcs12StoreBuilder().Build();
        store.Load(new MemoryStream(pfx), Password);
        string alias = Assert.Single(store.Aliases, store.IsKeyEntry);
        Assert.Equal(ec.Certificate, Assert.Single(store.GetCertificateChain(alias)).Certificate);
        Assert.Throws<ArgumentException>(() => Pkcs12Writer.Build(Array.Empty<X509Certificate>(), new PrivateKeyMaterial(ec.Keys.Private), Password, PfxEncryption.Aes256Sha256, "x"));
    }

    [Theory]
    [InlineData(PfxEncryption.TripleDesSha1, "pä55wörd")]
    [InlineData(PfxEncryption.Aes256Sha256, "pä55wörd")]
    [InlineData(PfxEncryption.Aes256Sha256, "€uro-Paßwort ✓")]
    [InlineData(PfxEncryption.TripleDesSha1, "€uro-Paßwort ✓")]
    public void NonAsciiPasswordsAreReadByDotNet(PfxEncryption enc, string pw)
    {
        // .NET derives PBES2 keys from the UTF-8 of the password, like OpenSSL and Java.
        byte[] pfx = Pkcs12Writer.Build(Chain, new PrivateKeyMaterial(Pki.Leaf.Keys.Private), pw.ToCharArray(), enc, "x");
        var coll = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12Collection(pfx, pw);
        Assert.Equal(3, coll.Count);
        Assert.Single(coll.Cast<System.Security.Cryptography.X509Certificates.X509Certificate2>(), c => c.HasPrivateKey);
    }

    [Theory]
    [InlineData("key-pä55")]
    [InlineData("k€y ✓")]
    public void NonAsciiKeyPasswordOfADotNetEncryptedPkcs8(string pw)
    {
        var cert = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(Pki.Leaf.Der);
        using var rsa = System.Security.Cryptography.RSA.Create();
        rsa.ImportFromPem(Pki.Leaf.KeyPemPkcs8);
        string pem = rsa.ExportEncryptedPkcs8PrivateKeyPem(pw, new System.Security.Cryptography.PbeParameters(
            System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc, System.Security.Cryptography.HashAlgorithmName.SHA256, 2048));
        PemContents c = PemText.Read(pem, "t", () => PasswordChars.FromChars(pw.ToCharArray()));
        Assert.True(Assert.Single(c.Keys).Matches(Pki.Leaf.Certificate));
        Assert.NotNull(cert);
    }

    [Fact]
    public void DotNetReadsBothProfiles()
    {
        foreach (PfxEncryption enc in Enum.GetValues<PfxEncryption>())
        {
            var coll = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12Collection(Build(enc), new string(Password));
            Assert.Equal(3, coll.Count);
            Assert.Single(coll.Cast<System.Security.Cryptography.X509Certificates.X509Certificate2>(), c => c.HasPrivateKey);
        }
    }
}

/// <summary>The platform's PBKDF2 behind the Aes256Sha256 bags derives exactly what BouncyCastle's does.</summary>
public class PlatformPbkdf2Tests
{
    [Theory]
    [InlineData("unit-pw", 2048, 32)]
    [InlineData("pä55wörd", 2048, 32)]
    [InlineData("€uro-Paßwort ✓", 2049, 32)]
    [InlineData("x", 4096, 48)]
    public void EqualsBouncyCastlesPbkdf2(string password, int iterations, int length)
    {
        byte[] salt = Enumerable.Range(1, 16).Select(i => (byte)(i * 7)).ToArray();
        var bc = new Org.BouncyCastle.Crypto.Generators.Pkcs5S2ParametersGenerator(new Org.BouncyCastle.Crypto.Digests.Sha256Digest());
        bc.Init(Org.BouncyCastle.Crypto.PbeParametersGenerator.Pkcs5PasswordToUtf8Bytes(password.ToCharArray()), salt, iterations);
        byte[] expected = ((Org.BouncyCastle.Crypto.Parameters.KeyParameter)bc.GenerateDerivedMacParameters(length * 8)).GetKey();

        Assert.Equal(expected, PlatformPbkdf2.Sha256(password.ToCharArray(), salt, iterations, length));
    }
}
