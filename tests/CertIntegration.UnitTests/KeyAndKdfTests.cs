using System.Diagnostics;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Misc;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace CertIntegration.UnitTests;

public class PrivateKeyMaterialTests
{
    private static readonly Lazy<Issued> Ec = new(() => TestPki.IssueLeaf("CN=Unit EC", TestPki.Default.Intermediate, TestPki.KeyKind.EcP256));
    private static readonly Lazy<Issued> Ec2 = new(() => TestPki.IssueLeaf("CN=Unit EC 2", TestPki.Default.Intermediate, TestPki.KeyKind.EcP256));

    private static TestPki Pki => TestPki.Default;

    [Fact]
    public void RsaKeyMatchesItsCertificateOnly()
    {
        var key = new PrivateKeyMaterial(Pki.Leaf.Keys.Private);
        Assert.Equal("RSA", key.Algorithm);
        Assert.Equal(2048, key.KeySize);
        Assert.True(key.Matches(Pki.Leaf.Certificate));
        Assert.True(key.Matches(new System.Security.Cryptography.X509Certificates.X509Certificate2(Pki.Leaf.Der)));
        Assert.False(key.Matches(Pki.Intermediate.Certificate));
        Assert.False(key.Matches(Pki.Server.Certificate));
        Assert.False(key.Matches(Ec.Value.Certificate));
    }

    [Fact]
    public void EcKeyMatchesItsCertificateOnly()
    {
        var key = new PrivateKeyMaterial(Ec.Value.Keys.Private);
        Assert.Equal("EC", key.Algorithm);
        Assert.Equal(256, key.KeySize);
        Assert.True(key.Matches(Ec.Value.Certificate));
        Assert.False(key.Matches(Ec2.Value.Certificate));
        Assert.False(key.Matches(Pki.Leaf.Certificate));
    }

    [Fact]
    public void EcKeyReadFromSec1AndPkcs8MatchesToo()
    {
        // Keys read back from PEM carry curve parameters in a different form than freshly generated ones.
        foreach (string pem in new[] { Ec.Value.KeyPemTraditional, Ec.Value.KeyPemPkcs8 })
        {
            PrivateKeyMaterial k = Assert.Single(PemText.Read(pem, "t").Keys);
            Assert.True(k.Matches(Ec.Value.Certificate));
            Assert.False(k.Matches(Ec2.Value.Certificate));
        }
    }

    [Fact]
    public void EnsureMatchesThrowsKeyCertificateMismatchWithoutKeyMaterial()
    {
        var key = new PrivateKeyMaterial(Ec2.Value.Keys.Private);
        var cert = new System.Security.Cryptography.X509Certificates.X509Certificate2(Pki.Leaf.Der);
        var e = Assert.Throws<CertIntegrationException>(() => PrivateKeyMaterial.EnsureMatches(key, cert));
        Assert.Equal(ErrorIds.KeyCertificateMismatch, e.ErrorId);
        Assert.Contains(cert.Thumbprint, e.Message);
        Assert.DoesNotContain(((ECPrivateKeyParameters)Ec2.Value.Keys.Private).D.ToString(16), e.Message, StringComparison.OrdinalIgnoreCase);
        PrivateKeyMaterial.EnsureMatches(new PrivateKeyMaterial(Pki.Leaf.Keys.Private), cert);
    }

    [Fact]
    public void RsaKeyWithoutCrtIsMalformedAndPublicKeysAreRefused()
    {
        var crt = (RsaPrivateCrtKeyParameters)Pki.Leaf.Keys.Private;
        var bare = new RsaKeyParameters(true, crt.Modulus, crt.Exponent);
        Assert.Equal(ErrorIds.PrivateKeyMalformed, Assert.Throws<CertIntegrationException>(() => new PrivateKeyMaterial(bare)).ErrorId);
        Assert.Throws<ArgumentException>(() => new PrivateKeyMaterial(Pki.Leaf.Keys.Public));
    }

    [Fact]
    public void DaysUntilIsComputedInUtc()
    {
        var now = new DateTime(2026, 3, 29, 0, 30, 0, DateTimeKind.Utc);
        Assert.Equal(10, CertificateBundle.DaysUntil(now.AddDays(10.5), now));
        Assert.Equal(0, CertificateBundle.DaysUntil(now.AddHours(23), now));
        Assert.Equal(-1, CertificateBundle.DaysUntil(now.AddHours(-1), now));
        Assert.Equal(-2, CertificateBundle.DaysUntil(now.AddDays(-1.5), now));

        // NotAfter as X509Certificate2 gives it: local time. The result must not move with the zone.
        DateTime localNotAfter = now.AddDays(10.5).ToLocalTime();
        Assert.Equal(DateTimeKind.Local, localNotAfter.Kind);
        Assert.Equal(10, CertificateBundle.DaysUntil(localNotAfter, now));
    }
}

public class KdfGuardTests
{
    private static readonly byte[] Salt = new byte[16];

    private static AlgorithmIdentifier Pkcs12Pbe(BigInteger iterations) =>
        new(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, new DerSequence(new DerOctetString(Salt), new DerInteger(iterations)));

    /// <summary>PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) with any count, even one no int holds.</summary>
    internal static AlgorithmIdentifier Pbes2(BigInteger iterations) =>
        new(PkcsObjectIdentifiers.IdPbeS2, new DerSequence(
            new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbkdf2, new DerSequence(new DerOctetString(Salt), new DerInteger(iterations),
                new AlgorithmIdentifier(PkcsObjectIdentifiers.IdHmacWithSha256, DerNull.Instance))),
            new AlgorithmIdentifier(NistObjectIdentifiers.IdAes256Cbc, new DerOctetString(new byte[16]))));

    private static AlgorithmIdentifier Pbes1(BigInteger iterations) =>
        new(PkcsObjectIdentifiers.PbeWithSha1AndDesCbc, new DerSequence(new DerOctetString(new byte[8]), new DerInteger(iterations)));

    public static TheoryData<string, long> Hostile => new()
    {
        { "pkcs12", int.MaxValue }, { "pkcs12", 0 }, { "pkcs12", -5 }, { "pkcs12", Limits.MaxKdfIterations + 1L }, { "pkcs12", 1L << 40 },
        { "pbes2", int.MaxValue }, { "pbes2", 0 }, { "pbes2", 1L << 40 },
        { "pbes1", int.MaxValue }, { "pbes1", 0 },
    };

    private static AlgorithmIdentifier Make(string kind, long n) => kind switch
    {
        "pkcs12" => Pkcs12Pbe(BigInteger.ValueOf(n)),
        "pbes2" => Pbes2(BigInteger.ValueOf(n)),
        _ => Pbes1(BigInteger.ValueOf(n)),
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileIterationCountsAreRefusedFast(string kind, long iterations)
    {
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<CertIntegrationException>(() => KdfGuard.Check(Make(kind, iterations), "test key"));
        Assert.True(sw.ElapsedMilliseconds < 500, $"took {sw.ElapsedMilliseconds} ms");
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.Contains("test key", e.Message);
    }

    [Theory]
    [InlineData("pkcs12", 1)]
    [InlineData("pkcs12", 2048)]
    [InlineData("pbes2", 2048)]
    [InlineData("pbes2", 600_000)]
    [InlineData("pbes1", 2048)]
    [InlineData("pkcs12", Limits.MaxKdfIterations)]
    public void OrdinaryCountsPass(string kind, long iterations) => KdfGuard.Check(Make(kind, iterations), "t");

    [Fact]
    public void ScryptCostIsBounded()
    {
        AlgorithmIdentifier Scrypt(int n) => new(PkcsObjectIdentifiers.IdPbeS2, new DerSequence(
            new AlgorithmIdentifier(MiscObjectIdentifiers.id_scrypt, new DerSequence(new DerOctetString(Salt), DerInteger.ValueOf(n), DerInteger.ValueOf(8), DerInteger.ValueOf(1))),
            new AlgorithmIdentifier(NistObjectIdentifiers.IdAes256Cbc, new DerOctetString(new byte[16]))));
        KdfGuard.Check(Scrypt(1 << 14), "t");
        Assert.Equal(ErrorIds.LimitExceeded, Assert.Throws<CertIntegrationException>(() => KdfGuard.Check(Scrypt(1 << 30), "t")).ErrorId);
    }

    [Fact]
    public void UnknownKdfAndGarbageParametersAreClearErrors()
    {
        var unknownKdf = new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbeS2, new DerSequence(
            new AlgorithmIdentifier(new DerObjectIdentifier("1.2.3.4.5"), DerNull.Instance),
            new AlgorithmIdentifier(NistObjectIdentifiers.IdAes256Cbc, new DerOctetString(new byte[16]))));
        Assert.Equal(ErrorIds.UnsupportedAlgorithm, Assert.Throws<CertIntegrationException>(() => KdfGuard.Check(unknownKdf, "t")).ErrorId);

        var garbage = new AlgorithmIdentifier(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, new DerOctetString(new byte[3]));
        Assert.Equal(ErrorIds.PrivateKeyMalformed, Assert.Throws<CertIntegrationException>(() => KdfGuard.Check(garbage, "t")).ErrorId);

        var missing = new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbeS2);
        Assert.Throws<CertIntegrationException>(() => KdfGuard.Check(missing, "t"));
    }

    [Fact]
    public void EncryptedKeyWithHugeCountIsRefusedBeforeThePasswordIsAsked()
    {
        var epki = new EncryptedPrivateKeyInfo(Pbes2(BigInteger.ValueOf(int.MaxValue)), new byte[64]);
        string pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + Convert.ToBase64String(epki.GetEncoded(), Base64FormattingOptions.InsertLineBreaks) + "\n-----END ENCRYPTED PRIVATE KEY-----\n";
        bool asked = false;
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<CertIntegrationException>(() => PemText.Read(pem, "t", () =>
        {
            asked = true;
            return PasswordChars.FromChars("pw".ToCharArray());
        }));
        Assert.True(sw.ElapsedMilliseconds < 1000, $"took {sw.ElapsedMilliseconds} ms");
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.False(asked);
    }
}

public class CompressedPointTests
{
    /// <summary>A certificate whose EC public key is stored as a compressed point (legal per RFC 5480, rare).</summary>
    private static (Org.BouncyCastle.X509.X509Certificate Cert, Org.BouncyCastle.Crypto.AsymmetricCipherKeyPair Keys) CompressedEcCertificate()
    {
        var keys = TestPki.NewKeys(TestPki.KeyKind.EcP256);
        var pub = (ECPublicKeyParameters)keys.Public;
        SubjectPublicKeyInfo uncompressed = Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(pub);
        var spki = new SubjectPublicKeyInfo(uncompressed.Algorithm, pub.Q.GetEncoded(true));
        var tbs = new V3TbsCertificateGenerator();
        tbs.SetSerialNumber(new DerInteger(BigInteger.ValueOf(9001)));
        tbs.SetIssuer(new X509Name("CN=Compressed"));
        tbs.SetSubject(new X509Name("CN=Compressed"));
        tbs.SetStartDate(new Time(DateTime.UtcNow.AddDays(-1)));
        tbs.SetEndDate(new Time(DateTime.UtcNow.AddDays(1)));
        tbs.SetSubjectPublicKeyInfo(spki);
        var sigAlg = new AlgorithmIdentifier(Org.BouncyCastle.Asn1.X9.X9ObjectIdentifiers.ECDsaWithSha256);
        tbs.SetSignature(sigAlg);
        TbsCertificateStructure t = tbs.GenerateTbsCertificate();
        var signer = Org.BouncyCastle.Security.SignerUtilities.GetSigner("SHA256WITHECDSA");
        signer.Init(true, keys.Private);
        byte[] tbsDer = t.GetDerEncoded();
        signer.BlockUpdate(tbsDer, 0, tbsDer.Length);
        var cert = new Org.BouncyCastle.X509.X509Certificate(new X509CertificateStructure(t, sigAlg, new DerBitString(signer.GenerateSignature())));
        return (cert, keys);
    }

    [Fact]
    public void EcKeyMatchesACertificateWithACompressedPoint()
    {
        var (cert, keys) = CompressedEcCertificate();
        Assert.Equal(33, cert.CertificateStructure.SubjectPublicKeyInfo.PublicKey.GetOctets().Length);
        Assert.True(new PrivateKeyMaterial(keys.Private).Matches(cert));
        Assert.False(new PrivateKeyMaterial(TestPki.NewKeys(TestPki.KeyKind.EcP256).Private).Matches(cert));
    }
}
