using System.Diagnostics;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>Import-CertificateBundle through the real engine, on every format made at test time.</summary>
public class ImportTests
{
    private const string Pw = "Imp0rt-s3cret!";

    private static TestPki Pki => TestPki.Default;

    private static PsResult Import(string script, params object?[] args)
    {
        using var ps = new PsEngine();
        ps.SetVariable("pw", PsEngine.Secure(Pw));
        ps.SetVariable("emptypw", PsEngine.Secure(string.Empty));
        ps.SetVariable("wrongpw", PsEngine.Secure("not-the-password"));
        return ps.Run(script, args);
    }

    private static BundleView Single(PsResult r)
    {
        Assert.Null(r.Terminating);
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e.Exception)));
        return Assert.Single(Bundles(r));
    }

    internal static List<BundleView> Bundles(PsResult r) => BundleView.From(r);

    private static void AssertFullChain(BundleView b, bool key)
    {
        Assert.Equal(Pki.Leaf.Thumbprint, b.Thumbprint);
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, Pki.Intermediate.Thumbprint, Pki.Root.Thumbprint }, b.Chain.Select(c => c.Thumbprint).ToArray());
        Assert.Equal(key, b.HasPrivateKey);
    }

    private static string WriteChainAndKey(TempDir tmp)
    {
        tmp.Write("leaf.pem", Pki.Leaf.CertificatePem);
        tmp.Write("ca.pem", Pki.ChainPem(Pki.Intermediate, Pki.Root));
        return tmp.Write("key.pem", Pki.Leaf.KeyPemPkcs8);
    }

    private static string OpenSslPfx(TempDir tmp, string name, string password, params string[] extra)
    {
        WriteChainAndKey(tmp);
        string outFile = tmp.File(name);
        var args = new List<string> { "pkcs12", "-export", "-inkey", tmp.File("key.pem"), "-in", tmp.File("leaf.pem"), "-certfile", tmp.File("ca.pem"), "-passout", "pass:" + password, "-out", outFile };
        args.AddRange(extra);
        ToolResult r = Tools.Run("openssl", args);
        Assert.True(r.ExitCode == 0, r.All);
        return outFile;
    }

    [Fact]
    public void PemChainWithKeyGivesOneBundleWithItsChainAndKey()
    {
        using var tmp = new TempDir();
        // Junk text, CRLF line ends and an unusual order around the blocks.
        string text = "subject=CN=whatever\r\n" + Pki.ChainPem(Pki.Root, Pki.Leaf, Pki.Intermediate).Replace("\n", "\r\n") + "Bag Attributes: none\r\n" + Pki.Leaf.KeyPemTraditional;
        string path = tmp.Write("client-chain.txt", text);
        PsResult r = Import("Import-CertificateBundle -Path $args[0] -Verbose", path);
        BundleView b = Single(r);
        AssertFullChain(b, key: true);
        Assert.Equal(path, b.Source);
        Assert.Contains(r.Verbose, v => v.Contains("PEM", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void EncryptedPemKeyOpensWithThePassword()
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        WriteChainAndKey(tmp);
        ToolResult t = Tools.OpenSsl("pkcs8", "-topk8", "-in", tmp.File("key.pem"), "-v2", "aes-256-cbc", "-passout", "pass:" + Pw, "-out", tmp.File("enc.pem"));
        Assert.True(t.ExitCode == 0, t.All);
        string path = tmp.Write("client.pem", Pki.ChainPem() + File.ReadAllText(tmp.File("enc.pem")));
        AssertFullChain(Single(Import("Import-CertificateBundle $args[0] -Password $pw", path)), key: true);
        // Without a password the certificates still come back, and a warning says the key was left out.
        PsResult noPassword = Import("Import-CertificateBundle $args[0]", path);
        Assert.Empty(noPassword.Errors);
        Assert.False(Single(noPassword).HasPrivateKey);
        Assert.Contains(noPassword.Warnings, w => w.Contains("PrivateKeyPasswordRequired", StringComparison.Ordinal));
        Assert.Equal("PrivateKeyPasswordIncorrect", Assert.Single(Import("Import-CertificateBundle $args[0] -Password $wrongpw", path).ErrorIds));
    }

    [Fact]
    public void DerCertificateIsRecognisedWhateverItsExtension()
    {
        using var tmp = new TempDir();
        string path = tmp.Write("leaf.pem", Pki.Leaf.Der); // DER bytes under a .pem name
        BundleView b = Single(Import("Import-CertificateBundle -LiteralPath $args[0]", path));
        Assert.Equal(Pki.Leaf.Thumbprint, b.Thumbprint);
        Assert.Equal(1, b.ChainLength);
        Assert.False(b.HasPrivateKey);
    }

    [SkippableTheory]
    [InlineData("DER")]
    [InlineData("PEM")]
    public void Pkcs7FromOpenSslGivesTheChain(string form)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        string chain = tmp.Write("chain.pem", Pki.ChainPem());
        string p7b = tmp.File("sap_cloudintegrationcertificate.p7b");
        ToolResult t = Tools.OpenSsl("crl2pkcs7", "-nocrl", "-certfile", chain, "-outform", form, "-out", p7b);
        Assert.True(t.ExitCode == 0, t.All);
        AssertFullChain(Single(Import("Import-CertificateBundle $args[0]", p7b)), key: false);
    }

    [Fact]
    public void Pkcs7UnderTheCmsLabelIsRead()
    {
        using var tmp = new TempDir();
        var certs = new DerSet(Pki.Chain.Select(i => (Asn1Encodable)i.Certificate.CertificateStructure).ToArray());
        var sd = new SignedData(DerInteger.ValueOf(1), new DerSet(), new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.Data, null), certs, null, new DerSet());
        byte[] der = new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.SignedData, sd).GetEncoded();
        string path = tmp.Write("chain.cms", "-----BEGIN CMS-----\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\n-----END CMS-----\n");
        AssertFullChain(Single(Import("Import-CertificateBundle $args[0]", path)), key: false);
    }

    [SkippableTheory]
    [InlineData("default-aes")]
    [InlineData("-legacy")]
    [InlineData("3des")]
    [InlineData("rc2-40")]
    public void Pkcs12FromOpenSslIsRead(string variant)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        string[] extra = variant switch
        {
            "-legacy" => new[] { "-legacy" },
            "3des" => new[] { "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1" },
            "rc2-40" => new[] { "-legacy", "-certpbe", "PBE-SHA1-RC2-40", "-keypbe", "PBE-SHA1-RC2-40" },
            _ => Array.Empty<string>(),
        };
        string pfx = OpenSslPfx(tmp, "passport.pfx", Pw, extra);
        PsResult r = Import("Import-CertificateBundle .\\passport.pfx -Password $pw -Verbose".Replace(".\\passport.pfx", "$args[0]"), pfx);
        BundleView b = Single(r);
        AssertFullChain(b, key: true);
        Assert.Equal(pfx, b.Source);
        Assert.DoesNotContain(Pw, r.AllText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Pkcs12WrongAndMissingPasswordsAreNamed()
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        string pfx = OpenSslPfx(tmp, "client.pfx", Pw);

        PsResult wrong = Import("Import-CertificateBundle $args[0] -Password $wrongpw", pfx);
        Assert.Empty(Bundles(wrong));
        Assert.Equal("Pkcs12PasswordIncorrect", Assert.Single(wrong.ErrorIds));
        Assert.Contains("wrong password", wrong.Errors[0].Exception.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(pfx, wrong.Errors[0].TargetObject);
        Assert.DoesNotContain("not-the-password", wrong.AllText, StringComparison.Ordinal);

        PsResult missing = Import("Import-CertificateBundle $args[0]", pfx);
        Assert.Equal("Pkcs12PasswordRequired", Assert.Single(missing.ErrorIds));

        PsResult empty = Import("Import-CertificateBundle $args[0] -Password $emptypw", pfx);
        Assert.Equal("Pkcs12PasswordRequired", Assert.Single(empty.ErrorIds));
    }

    [SkippableFact]
    public void EmptyPasswordPfxOpensWithTheEmptyOrNoPassword()
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        string pfx = OpenSslPfx(tmp, "empty.pfx", string.Empty);
        AssertFullChain(Single(Import("Import-CertificateBundle $args[0]", pfx)), key: true);
        AssertFullChain(Single(Import("Import-CertificateBundle $args[0] -Password $emptypw", pfx)), key: true);
        Assert.Equal("Pkcs12PasswordIncorrect", Assert.Single(Import("Import-CertificateBundle $args[0] -Password $wrongpw", pfx).ErrorIds));
    }

    [Fact]
    public void Pkcs12WrittenByBouncyCastleWithoutMacOrEncryptionIsReadWithoutPassword()
    {
        using var tmp = new TempDir();
        var store = new Org.BouncyCastle.Pkcs.Pkcs12StoreBuilder().Build();
        store.SetKeyEntry("client", new Org.BouncyCastle.Pkcs.AsymmetricKeyEntry(Pki.Leaf.Keys.Private),
            Pki.Chain.Select(i => new Org.BouncyCastle.Pkcs.X509CertificateEntry(i.Certificate)).ToArray());
        using var ms = new MemoryStream();
        store.Save(ms, null, new Org.BouncyCastle.Security.SecureRandom());
        string path = tmp.Write("nopass.p12", ms.ToArray());
        AssertFullChain(Single(Import("Import-CertificateBundle $args[0]", path)), key: true);
    }

    [SkippableFact]
    public void JavaKeystoresAreRead()
    {
        Skip.IfNot(Tools.Exists("keytool"), "keytool is not installed");
        using var tmp = new TempDir();
        tmp.Write("root.pem", Pki.Root.CertificatePem);
        tmp.Write("int.pem", Pki.Intermediate.CertificatePem);
        string jks = tmp.File("trust.jks");
        foreach (var (alias, file) in new[] { ("root", "root.pem"), ("intermediate", "int.pem") })
        {
            ToolResult r = Tools.Run("keytool", new[] { "-importcert", "-noprompt", "-storetype", "JKS", "-keystore", jks, "-storepass", Pw, "-alias", alias, "-file", tmp.File(file) });
            Assert.True(r.ExitCode == 0, r.All);
        }

        BundleView trust = Single(Import("Import-CertificateBundle $args[0] -Password $pw", jks));
        Assert.Equal(new[] { Pki.Intermediate.Thumbprint, Pki.Root.Thumbprint }, trust.Chain.Select(c => c.Thumbprint).ToArray());

        // Without a password the certificates are still read (integrity not verified, and said so); a wrong one is refused.
        PsResult unchecked_ = Import("Import-CertificateBundle $args[0] -Verbose", jks);
        Single(unchecked_);
        Assert.Contains(unchecked_.Warnings, w => w.Contains("integrity was not checked", StringComparison.Ordinal));
        Assert.Equal("KeyStorePasswordIncorrect", Assert.Single(Import("Import-CertificateBundle $args[0] -Password $wrongpw", jks).ErrorIds));

        // A key entry, converted from an openssl PFX.
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        string pfx = OpenSslPfx(tmp, "client.pfx", Pw, "-legacy");
        string keyJks = tmp.File("client.jks");
        ToolResult conv = Tools.Run("keytool", new[] { "-importkeystore", "-noprompt", "-srckeystore", pfx, "-srcstoretype", "PKCS12", "-srcstorepass", Pw, "-destkeystore", keyJks, "-deststoretype", "JKS", "-deststorepass", Pw, "-destkeypass", Pw });
        Assert.True(conv.ExitCode == 0, conv.All);
        AssertFullChain(Single(Import("Import-CertificateBundle $args[0] -Password $pw", keyJks)), key: true);
        Assert.Equal("KeyStorePasswordRequired", Assert.Single(Import("Import-CertificateBundle $args[0]", keyJks).ErrorIds));
    }

    [Fact]
    public void ServiceKeyJsonIsReadLikeConvertFromServiceKey()
    {
        using var tmp = new TempDir();
        string path = tmp.Write("cpi-cert-key.json", Pki.ServiceKeyJson());
        BundleView b = Single(Import("Import-CertificateBundle $args[0]", path));
        AssertFullChain(b, key: true);
        Assert.StartsWith("sb-", b.ClientId, StringComparison.Ordinal);
        Assert.Equal(path, b.Source);
    }

    [Fact]
    public void JunkKeyOnlyAndTruncatedFilesGiveCategorisedErrors()
    {
        using var tmp = new TempDir();
        string junk = tmp.Write("notes.pfx", "These are not the certificates you are looking for.\n");
        string binary = tmp.Write("random.p12", Enumerable.Range(0, 300).Select(i => (byte)(i * 37 % 251 + 1)).ToArray());
        string keyOnly = tmp.Write("key.pem", Pki.Leaf.KeyPemPkcs8);
        byte[] pfx = BcPfx(Pw);
        string truncated = tmp.Write("truncated.pfx", pfx.Take(pfx.Length / 2).ToArray());
        PsResult r = Import("$args | Import-CertificateBundle -Password $pw", junk, binary, keyOnly, truncated);
        Assert.Null(r.Terminating);
        Assert.Empty(Bundles(r));
        Assert.Equal(new[] { "NotACertificateContainer", "NotACertificateContainer", "ContainerHasNoCertificate", "ContainerCorrupt" }, r.ErrorIds);
        Assert.Equal(new object[] { junk, binary, keyOnly, truncated }, r.Errors.Select(e => e.TargetObject).ToArray());
        Assert.All(r.Errors, e => Assert.IsNotType<NullReferenceException>(e.Exception));
    }

    [Fact]
    public void CraftedHighIterationPkcs12FailsFastWithLimitExceeded()
    {
        using var tmp = new TempDir();
        // 1: MAC with 2^31-1 iterations over an empty authenticated safe (about 80 bytes).
        byte[] authSafe = new AuthenticatedSafe(Array.Empty<Org.BouncyCastle.Asn1.Pkcs.ContentInfo>()).GetEncoded();
        var mac = new MacData(new DigestInfo(new AlgorithmIdentifier(OiwObjectIdentifiers.IdSha1, DerNull.Instance), new byte[20]), new byte[8], int.MaxValue);
        byte[] macBomb = new Pfx(new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(authSafe)), mac).GetEncoded();
        Assert.True(macBomb.Length < 120, $"the crafted file is {macBomb.Length} bytes");

        // 2: no MAC, one encrypted safe whose PBE asks for 2^31-1 iterations.
        var pbe = new AlgorithmIdentifier(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, new Pkcs12PbeParams(new byte[8], int.MaxValue));
        var enc = new EncryptedData(PkcsObjectIdentifiers.Data, pbe, new DerOctetString(new byte[16]));
        byte[] authSafe2 = new AuthenticatedSafe(new[] { new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.EncryptedData, enc) }).GetEncoded();
        byte[] pbeBomb = new Pfx(new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(authSafe2)), null).GetEncoded();

        string a = tmp.Write("mac-bomb.pfx", macBomb);
        string b = tmp.Write("pbe-bomb.pfx", pbeBomb);
        var sw = Stopwatch.StartNew();
        PsResult r = Import("Import-CertificateBundle -LiteralPath $args[0], $args[1] -Password $pw", a, b);
        sw.Stop();
        Assert.Equal(new[] { "LimitExceeded", "LimitExceeded" }, r.ErrorIds);
        Assert.Contains("2147483647", r.Errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
    }

    [Fact]
    public void TwoLeavesUnderOneCaGiveTwoBundlesAndKeysFollowTheirCertificates()
    {
        using var tmp = new TempDir();
        Issued second = TestPki.IssueLeaf("CN=Second Client,O=CertIntegration Tests,C=DE", Pki.Intermediate);
        string pem = Pki.ChainPem(Pki.Root, Pki.Leaf, Pki.Intermediate) + second.CertificatePem + second.KeyPemPkcs8;
        string path = tmp.Write("two-clients.pem", pem);
        PsResult r = Import("Import-CertificateBundle $args[0]", path);
        Assert.Empty(r.Errors);
        var bundles = Bundles(r).ToList();
        Assert.Equal(2, bundles.Count);
        BundleView first = bundles.Single(b => b.Thumbprint == Pki.Leaf.Thumbprint);
        BundleView other = bundles.Single(b => b.Thumbprint == second.Thumbprint);
        Assert.Equal(3, first.ChainLength);
        Assert.Equal(3, other.ChainLength);
        Assert.False(first.HasPrivateKey);
        Assert.True(other.HasPrivateKey);
    }

    [Fact]
    public void GetChildItemOutputAndWildcardsBind()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File("certs"));
        File.WriteAllBytes(Path.Combine(tmp.File("certs"), "leaf.cer"), Pki.Leaf.Der);
        File.WriteAllText(Path.Combine(tmp.File("certs"), "chain.pem"), Pki.ChainPem());
        File.WriteAllText(Path.Combine(tmp.File("certs"), "readme.txt"), "hello");
        // Get-ChildItem output binds through PSPath; plain FileInfo objects (no provider properties) through FullName.
        PsResult gci = Import("if (Get-Command Get-ChildItem -ErrorAction SilentlyContinue) { Get-ChildItem -LiteralPath $args[0] | Import-CertificateBundle } else { 'no Get-ChildItem' }", tmp.File("certs"));
        PsResult fi = Import("([System.IO.DirectoryInfo]::new($args[0])).GetFiles() | Import-CertificateBundle", tmp.File("certs"));
        foreach (PsResult r in new[] { gci, fi })
        {
            if (r.Output.Count == 1 && r.Output[0].BaseObject is string)
            {
                continue; // the test engine has no Get-ChildItem
            }

            Assert.Equal(2, Bundles(r).Count);
            Assert.Equal("NotACertificateContainer", Assert.Single(r.ErrorIds));
            Assert.All(Bundles(r), b => Assert.StartsWith(tmp.File("certs"), b.Source, StringComparison.Ordinal));
        }

        PsResult w = Import("Import-CertificateBundle -Path ($args[0] + '/*.pem')", tmp.File("certs"));
        AssertFullChain(Single(w), key: false);

        PsResult none = Import("Import-CertificateBundle -Path ($args[0] + '/missing.pfx')", tmp.File("certs"));
        Assert.Equal("FileNotFound", Assert.Single(none.ErrorIds));
    }

    /// <summary>A PFX with key and chain written by BouncyCastle (3DES, SHA-1 MAC).</summary>
    private static byte[] BcPfx(string password)
    {
        var store = new Org.BouncyCastle.Pkcs.Pkcs12StoreBuilder().Build();
        store.SetKeyEntry("client", new Org.BouncyCastle.Pkcs.AsymmetricKeyEntry(Pki.Leaf.Keys.Private),
            Pki.Chain.Select(i => new Org.BouncyCastle.Pkcs.X509CertificateEntry(i.Certificate)).ToArray());
        using var ms = new MemoryStream();
        store.Save(ms, password.ToCharArray(), new Org.BouncyCastle.Security.SecureRandom());
        return ms.ToArray();
    }
}
