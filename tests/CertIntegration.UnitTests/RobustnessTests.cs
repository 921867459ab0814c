using System.Diagnostics;
using System.Security;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Misc;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Xunit;
using BcContentInfo = Org.BouncyCastle.Asn1.Pkcs.ContentInfo;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace CertIntegration.UnitTests;

/// <summary>
/// The defects of the robustness issue, each with an input made here (no files needed): certificates with an empty
/// RSA key, iteration counts as huge INTEGERs, files that declare more key-derivation work than one input may cost,
/// PBES1 with MD2, scrypt-encrypted keys. The fuzz finds themselves are in <see cref="FuzzFindTests"/>.
/// </summary>
[Collection(Timing.Collection)]
public class RobustnessTests
{
    private const string Password = "pw";
    private static readonly byte[] Salt = new byte[8];

    private static TestPki Pki => TestPki.Default;

    internal static SecureString Secure(string s) => new System.Net.NetworkCredential(string.Empty, s).SecurePassword;

    private static (Exception? Error, IReadOnlyList<CertificateBundle>? Bundles, TimeSpan Elapsed) Read(byte[] bytes, string? password = Password, List<string>? warnings = null)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            var bundles = ContainerReader.ReadBytes(bytes, "input", password is null ? null : Secure(password), null, warnings is null ? null : warnings.Add);
            return (null, bundles, sw.Elapsed);
        }
        catch (Exception ex)
        {
            return (ex, null, sw.Elapsed);
        }
    }

    /// <summary>Fails with a categorised error within <paramref name="seconds"/>, with no crash type inside.</summary>
    private static CertIntegrationException Fails(byte[] bytes, double seconds = 2, string? password = Password)
    {
        Exception? error = null;
        TimeSpan elapsed = Timing.Fastest(TimeSpan.FromSeconds(seconds), () => error = Read(bytes, password).Error);
        var cie = Assert.IsType<CertIntegrationException>(error);
        Assert.True(elapsed < TimeSpan.FromSeconds(seconds), $"took {elapsed.TotalMilliseconds:F0} ms of CPU time at best of three runs: {cie.ErrorId}: {cie.Message}");
        for (Exception? e = cie; e is not null; e = e.InnerException)
        {
            Assert.False(ContainerCorpusTests.IsCrash(e), e.ToString());
        }

        return cie;
    }

    internal static string Pem(string label, byte[] der) =>
        $"-----BEGIN {label}-----\n{Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks)}\n-----END {label}-----\n";

    internal static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    // ------------------------------------------------------------------ 1. empty RSA public keys

    /// <summary>A certificate like <paramref name="like"/> (same names), whose RSA or RSA-PSS key BIT STRING is empty.</summary>
    private static BcX509 WithEmptyKey(BcX509 like, AsymmetricKeyParameter signer, DerObjectIdentifier keyAlgorithm)
    {
        var tbs = new V3TbsCertificateGenerator();
        tbs.SetSerialNumber(new DerInteger(like.SerialNumber));
        tbs.SetIssuer(like.IssuerDN);
        tbs.SetSubject(like.SubjectDN);
        tbs.SetStartDate(new Time(DateTime.UtcNow.AddDays(-1)));
        tbs.SetEndDate(new Time(DateTime.UtcNow.AddDays(30)));
        tbs.SetSubjectPublicKeyInfo(new SubjectPublicKeyInfo(keyAlgorithm.Equals(PkcsObjectIdentifiers.RsaEncryption)
            ? new AlgorithmIdentifier(keyAlgorithm, DerNull.Instance) : new AlgorithmIdentifier(keyAlgorithm), Array.Empty<byte>()));
        var sigAlg = new AlgorithmIdentifier(PkcsObjectIdentifiers.Sha256WithRsaEncryption, DerNull.Instance);
        tbs.SetSignature(sigAlg);
        TbsCertificateStructure t = tbs.GenerateTbsCertificate();
        ISigner s = SignerUtilities.GetSigner("SHA256WITHRSA");
        s.Init(true, signer);
        byte[] der = t.GetDerEncoded();
        s.BlockUpdate(der, 0, der.Length);
        return new BcX509(new X509CertificateStructure(t, sigAlg, new DerBitString(s.GenerateSignature())));
    }

    public static TheoryData<string, string, string> EmptyKeyCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string position in new[] { "leaf", "intermediate", "root" })
        {
            foreach (string algorithm in new[] { "rsa", "rsa-pss" })
            {
                foreach (string format in new[] { "pem", "der", "pfx" })
                {
                    data.Add(position, algorithm, format);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EmptyKeyCases))]
    public void CertificateWithAnEmptyRsaKeyIsMalformedNotACrash(string position, string algorithm, string format)
    {
        DerObjectIdentifier oid = algorithm == "rsa" ? PkcsObjectIdentifiers.RsaEncryption : PkcsObjectIdentifiers.IdRsassaPss;
        var chain = new List<BcX509> { Pki.Leaf.Certificate, Pki.Intermediate.Certificate, Pki.Root.Certificate };
        int at = position == "leaf" ? 0 : position == "intermediate" ? 1 : 2;
        AsymmetricKeyParameter signer = at == 2 ? Pki.Root.Keys.Private : chain[at] == Pki.Leaf.Certificate ? Pki.Intermediate.Keys.Private : Pki.Root.Keys.Private;
        chain[at] = WithEmptyKey(chain[at], signer, oid);
        byte[] bytes = format switch
        {
            "pem" => Ascii(string.Concat(chain.Select(c => Pem("CERTIFICATE", c.GetEncoded())))),
            "der" => chain[at].GetEncoded(),
            _ => Pkcs12Writer.Build(chain, new PrivateKeyMaterial(Pki.Leaf.Keys.Private), Password.ToCharArray(), PfxEncryption.Aes256Sha256, "t"),
        };

        CertIntegrationException e = Fails(bytes);
        Assert.Equal(ErrorIds.CertificateMalformed, e.ErrorId);
        Assert.Contains("RSA public key is empty", e.Message);
        Assert.Contains(chain[at].SubjectDN.ToString(), e.Message);
    }

    // ------------------------------------------------------------------ 2. iteration counts as huge INTEGERs

    [Theory]
    [InlineData(40_000, false)]
    [InlineData(40_000, true)]
    [InlineData(160_000, false)]
    public void HugeIterationCountsAreRefusedFastWithAShortMessage(int bytes, bool negative)
    {
        BigInteger n = BigInteger.One.ShiftLeft(8 * bytes).Subtract(BigInteger.One);
        n = negative ? n.Negate() : n;
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<CertIntegrationException>(() => KdfGuard.CheckCount(n, "'x.pfx' (the MAC)"));
        Assert.True(sw.ElapsedMilliseconds < 200, $"took {sw.ElapsedMilliseconds} ms");
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.True(e.Message.Length < 300, $"{e.Message.Length} characters");
        Assert.Contains($"{8 * bytes}", e.Message);
    }

    [Fact]
    public void HugeIterationCountInAnEncryptedKeyOrPfxMacIsRefusedFast()
    {
        BigInteger huge = BigInteger.One.ShiftLeft(8 * 40_000);
        CertIntegrationException e = Fails(Ascii(Pem("ENCRYPTED PRIVATE KEY", new EncryptedPrivateKeyInfo(KdfGuardTests.Pbes2(huge), new byte[32]).GetEncoded())));
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.True(e.Message.Length < 300, e.Message);

        byte[] pfx = Pkcs12Writer.Build(new[] { Pki.Leaf.Certificate }, new PrivateKeyMaterial(Pki.Leaf.Keys.Private), Password.ToCharArray(), PfxEncryption.Aes256Sha256, "t");
        var parsed = Pfx.GetInstance(Asn1Object.FromByteArray(pfx));
        var mac = MacData.GetInstance(new DerSequence(parsed.MacData.Mac, new DerOctetString(parsed.MacData.GetSalt()), new DerInteger(huge)));
        e = Fails(new Pfx(parsed.AuthSafe, mac).GetEncoded());
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.True(e.Message.Length < 300, e.Message);
    }

    // ------------------------------------------------------------------ 3. one key-derivation budget per input

    private static string CostlyKeyPem(AlgorithmIdentifier alg) => Pem("ENCRYPTED PRIVATE KEY", new EncryptedPrivateKeyInfo(alg, new byte[48]).GetEncoded());

    /// <summary>Encrypts with a BouncyCastle PBE algorithm (PBES1, PBES2 with PBKDF2, PKCS#12 PBE), password as UTF-8.</summary>
    private static byte[] Encrypt(AlgorithmIdentifier alg, byte[] plain)
    {
        var cipher = (IBufferedCipher)PbeUtilities.CreateEngine(alg);
        cipher.Init(true, PbeUtilities.GenerateCipherParameters(alg, Password.ToCharArray()));
        return cipher.DoFinal(plain);
    }

    private static byte[] LeafKeyInfo => PrivateKeyInfoFactory.CreatePrivateKeyInfo(Pki.Leaf.Keys.Private).GetEncoded();

    internal static BcContentInfo DataSafe(IEnumerable<SafeBag> bags) => new(PkcsObjectIdentifiers.Data, new DerOctetString(new DerSequence(bags.ToArray()).GetEncoded()));

    private static BcContentInfo EncryptedSafe(IEnumerable<SafeBag> bags)
    {
        var alg = new AlgorithmIdentifier(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, new Pkcs12PbeParams(Salt, 2048));
        return new BcContentInfo(PkcsObjectIdentifiers.EncryptedData,
            new EncryptedData(PkcsObjectIdentifiers.Data, alg, new BerOctetString(Encrypt(alg, new DerSequence(bags.ToArray()).GetEncoded()))));
    }

    internal static byte[] PfxOf(params BcContentInfo[] safes) =>
        new Pfx(new BcContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(new AuthenticatedSafe(safes).GetEncoded())), null).GetEncoded();

    internal static SafeBag CertBagOf(BcX509 cert) =>
        new(PkcsObjectIdentifiers.CertBag, new CertBag(PkcsObjectIdentifiers.X509Certificate, new DerOctetString(cert.GetEncoded())));

    [Theory]
    [InlineData(5)]
    [InlineData(100)]
    public void PemKeysThatTogetherDeclareTooMuchWorkFailBeforeAnyIsDecrypted(int keys)
    {
        string text = Pki.Leaf.CertificatePem + string.Concat(Enumerable.Repeat(CostlyKeyPem(KdfGuardTests.Pbes2(BigInteger.ValueOf(1_000_000))), keys));
        CertIntegrationException e = Fails(Ascii(text), seconds: 1);
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.True(e.Message.Length < 300, e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PkcsTwelveKeyBagsThatTogetherDeclareTooMuchWorkFailBeforeAnyIsDecrypted(bool insideAnEncryptedSafe)
    {
        var bags = Enumerable.Range(0, 40)
            .Select(_ => new SafeBag(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag, new EncryptedPrivateKeyInfo(KdfGuardTests.Pbes2(BigInteger.ValueOf(1_000_000)), new byte[48])))
            .Prepend(CertBagOf(Pki.Leaf.Certificate));
        byte[] pfx = PfxOf(insideAnEncryptedSafe ? EncryptedSafe(bags) : DataSafe(bags));
        Assert.Equal(ErrorIds.LimitExceeded, Fails(pfx, seconds: 1).ErrorId);
    }

    [Fact]
    public void TheBudgetHoldsFourKeysAtTheHighestCountAndNoMore()
    {
        var budget = new KdfBudget("'t'");
        for (int i = 0; i < 4; i++)
        {
            budget.Commit(KdfGuard.Check(KdfGuardTests.Pbes2(BigInteger.ValueOf(Limits.MaxKdfIterations)), "t"));
        }

        var e = Assert.Throws<CertIntegrationException>(() => budget.Commit(1));
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.StartsWith("'t': ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length < 300, e.Message);
    }

    [Fact]
    public void LegitimateCountsPassTheBudget()
    {
        // A PFX at 10,000 iterations in its MAC, certificate safe and key.
        var chain = new[] { Pki.Leaf.Certificate, Pki.Intermediate.Certificate, Pki.Root.Certificate };
        byte[] pfx = Pkcs12Writer.Build(chain, new PrivateKeyMaterial(Pki.Leaf.Keys.Private), Password.ToCharArray(), PfxEncryption.Aes256Sha256, "t", iterations: 10_000);
        var (error, bundles, _) = Read(pfx);
        Assert.Null(error);
        Assert.True(Assert.Single(bundles!).HasPrivateKey);

        // An encrypted PKCS#8 key at 600,000 PBKDF2-HMAC-SHA256 iterations, beside its chain.
        AlgorithmIdentifier alg = KdfGuardTests.Pbes2(BigInteger.ValueOf(600_000));
        string key = Pem("ENCRYPTED PRIVATE KEY", new EncryptedPrivateKeyInfo(alg, Encrypt(alg, LeafKeyInfo)).GetEncoded());
        (error, bundles, _) = Read(Ascii(Pki.ChainPem() + key));
        Assert.Null(error);
        Assert.True(Assert.Single(bundles!).HasPrivateKey);
    }

    // ------------------------------------------------------------------ 4. PBES1 with MD2

    [Fact]
    public void Pbes1WithMd2IsWeighedByItsCost()
    {
        var costly = new AlgorithmIdentifier(PkcsObjectIdentifiers.PbeWithMD2AndDesCbc, new PbeParameter(Salt, 1_000_000));
        Assert.Equal(ErrorIds.LimitExceeded, Fails(Ascii(Pki.Leaf.CertificatePem + CostlyKeyPem(costly)), seconds: 1).ErrorId);

        // At an ordinary count it is still read.
        var ordinary = new AlgorithmIdentifier(PkcsObjectIdentifiers.PbeWithMD2AndDesCbc, new PbeParameter(Salt, 2048));
        string key = Pem("ENCRYPTED PRIVATE KEY", new EncryptedPrivateKeyInfo(ordinary, Encrypt(ordinary, LeafKeyInfo)).GetEncoded());
        var (error, bundles, _) = Read(Ascii(Pki.Leaf.CertificatePem + key));
        Assert.Null(error);
        Assert.True(Assert.Single(bundles!).HasPrivateKey);
    }

    // ------------------------------------------------------------------ 5. scrypt

    /// <summary>PBES2 with scrypt and AES-256-CBC, as RFC 7914 section 7 and `openssl pkcs8 -scrypt` write it.</summary>
    private static EncryptedPrivateKeyInfo ScryptEncrypted(byte[] keyInfo, string password, int n = 16384, int r = 8, int p = 1)
    {
        byte[] salt = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        byte[] iv = Enumerable.Range(100, 16).Select(i => (byte)i).ToArray();
        byte[] key = SCrypt.Generate(System.Text.Encoding.UTF8.GetBytes(password), salt, n, r, p, 32);
        IBufferedCipher cipher = CipherUtilities.GetCipher("AES/CBC/PKCS7Padding");
        cipher.Init(true, new ParametersWithIV(new KeyParameter(key), iv));
        var alg = new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbeS2, new DerSequence(
            new AlgorithmIdentifier(MiscObjectIdentifiers.id_scrypt, new DerSequence(new DerOctetString(salt), DerInteger.ValueOf(n), DerInteger.ValueOf(r), DerInteger.ValueOf(p))),
            new AlgorithmIdentifier(NistObjectIdentifiers.IdAes256Cbc, new DerOctetString(iv))));
        return new EncryptedPrivateKeyInfo(alg, cipher.DoFinal(keyInfo));
    }

    [Theory]
    [InlineData("pw")]
    [InlineData("pässwört")]
    public void ScryptEncryptedKeysAreRead(string password)
    {
        string key = Pem("ENCRYPTED PRIVATE KEY", ScryptEncrypted(LeafKeyInfo, password).GetEncoded());
        var (error, bundles, _) = Read(Ascii(Pki.ChainPem()).Concat(System.Text.Encoding.UTF8.GetBytes(key)).ToArray(), password);
        Assert.Null(error);
        Assert.True(Assert.Single(bundles!).HasPrivateKey);

        Assert.Equal(ErrorIds.PrivateKeyPasswordIncorrect, Fails(Ascii(Pki.ChainPem() + key), password: "wrong").ErrorId);

        var bag = new SafeBag(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag, ScryptEncrypted(LeafKeyInfo, password));
        (error, bundles, _) = Read(PfxOf(DataSafe(new[] { CertBagOf(Pki.Leaf.Certificate), bag })), password);
        Assert.Null(error);
        Assert.True(Assert.Single(bundles!).HasPrivateKey);
    }

    [SkippableFact]
    public void ScryptKeyWrittenByOpenSslIsRead()
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        string plain = tmp.Write("key.pem", Pki.Leaf.KeyPemPkcs8);
        ToolResult r = Tools.OpenSsl("pkcs8", "-topk8", "-scrypt", "-in", plain, "-passout", "pass:" + Password, "-out", tmp.File("enc.pem"));
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("ENCRYPTED PRIVATE KEY", File.ReadAllText(tmp.File("enc.pem")));
        var (error, bundles, _) = Read(Ascii(Pki.ChainPem() + File.ReadAllText(tmp.File("enc.pem"))));
        Assert.Null(error);
        Assert.True(Assert.Single(bundles!).HasPrivateKey);
    }

    [Theory]
    [InlineData(1 << 14, 8, 1, false)] // openssl's default, 16 MiB
    [InlineData(1 << 17, 8, 1, false)] // 128 MiB
    [InlineData(1 << 18, 8, 1, true)] // just over 256 MiB
    [InlineData(1 << 20, 8, 1, true)] // 1 GiB
    [InlineData(2, 1, 1 << 22, true)] // memory through p
    [InlineData(1 << 10, 1 << 20, 1, true)] // memory through r
    public void ScryptMemoryIsBounded(int n, int r, int p, bool refused)
    {
        var alg = new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbeS2, new DerSequence(
            new AlgorithmIdentifier(MiscObjectIdentifiers.id_scrypt, new DerSequence(new DerOctetString(Salt), DerInteger.ValueOf(n), DerInteger.ValueOf(r), DerInteger.ValueOf(p))),
            new AlgorithmIdentifier(NistObjectIdentifiers.IdAes256Cbc, new DerOctetString(new byte[16]))));
        if (refused)
        {
            Assert.Equal(ErrorIds.LimitExceeded, Assert.Throws<CertIntegrationException>(() => KdfGuard.Check(alg, "t")).ErrorId);
        }
        else
        {
            Assert.Equal((long)n * r * p / 2, KdfGuard.Check(alg, "t"));
        }
    }

    // ------------------------------------------------------------------ 6. keys of no certificate

    [Fact]
    public void KeysOfNoCertificateAreLeftOutWithAWarningAndTheCertificateComesBack()
    {
        var warnings = new List<string>();
        string text = Pki.Leaf.CertificatePem + Pki.Server.KeyPemPkcs8 + Pki.Root.KeyPemTraditional;
        var (error, bundles, _) = Read(Ascii(text), password: null, warnings);
        Assert.Null(error);
        CertificateBundle b = Assert.Single(bundles!);
        Assert.False(b.HasPrivateKey);
        Assert.Equal(Pki.Leaf.Thumbprint, b.Thumbprint, ignoreCase: true);
        string w = Assert.Single(warnings);
        Assert.Contains("2 private key(s) that belong to none of its certificates", w);
        Assert.Contains(ErrorIds.KeyCertificateMismatch, w);
    }
}
