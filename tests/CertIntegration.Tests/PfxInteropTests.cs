using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Pkcs;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// New-PfxFromPem through the real engine, with every PFX read back by the consumers that matter: openssl (no -legacy),
/// keytool, .NET and BouncyCastle; the layout (algorithms, iterations, bag attributes) checked from openssl's own report;
/// and a real mTLS handshake against openssl s_server.
/// </summary>
public class PfxInteropTests : IClassFixture<EngineFixture>
{
    private const string Password = "Pfx-pa55 w0rd!";
    private const string KeyPassword = "key-pa55";

    private static readonly Lazy<Issued> EcLeaf = new(() =>
        TestPki.IssueLeaf("CN=EC Pfx Client,OU=Tests,O=CertIntegration Tests,C=DE", TestPki.Default.Intermediate, TestPki.KeyKind.EcP256));

    private static readonly Lazy<Issued> OtherLeaf = new(() =>
        TestPki.IssueLeaf("CN=Other Pfx Client,OU=Tests,O=CertIntegration Tests,C=DE", TestPki.Default.Intermediate, TestPki.KeyKind.EcP256));

    private readonly PsEngine _ps;

    public PfxInteropTests(EngineFixture fixture)
    {
        _ps = fixture.Engine;
        _ps.SetVariable("pw", PsEngine.Secure(Password));
        _ps.SetVariable("kpw", PsEngine.Secure(KeyPassword));
        _ps.SetVariable("wrongpw", PsEngine.Secure("not-the-password"));
    }

    private static TestPki Pki => TestPki.Default;

    private static Issued LeafFor(string kind) => kind == "ec" ? EcLeaf.Value : Pki.Leaf;

    private static string[] ExpectedChain(Issued leaf) => new[] { leaf.Thumbprint, Pki.Intermediate.Thumbprint, Pki.Root.Thumbprint };

    private static string CommonName(Issued i) => Regex.Match(i.Certificate.SubjectDN.ToString(), "CN=([^,]+)").Groups[1].Value;

    /// <summary>Writes a service key for the leaf and pipes it into New-PfxFromPem; returns the PFX path.</summary>
    private string MakePfx(TempDir tmp, Issued leaf, string encryption, string? friendlyName = null, string name = "client.pfx")
    {
        string key = tmp.Write(Path.GetFileNameWithoutExtension(name) + ".json",
            Pki.ServiceKeyJson(certificate: Pki.ChainPem(leaf, Pki.Intermediate, Pki.Root), key: leaf.KeyPemTraditional));
        string outFile = tmp.File(name);
        string fn = friendlyName is null ? string.Empty : " -FriendlyName $args[3]";
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw -Encryption $args[2] -Verbose" + fn,
            key, outFile, encryption, friendlyName);
        r.AssertClean();
        Assert.DoesNotContain(Password, r.AllText);
        EngineTestHelpers.AssertNoSecret(r, leaf.KeyPemTraditional);
        Assert.Contains(r.Verbose, v => v.Contains(encryption, StringComparison.Ordinal));
        var fi = Assert.IsType<FileInfo>(Assert.Single(r.Output).BaseObject);
        Assert.Equal(outFile, fi.FullName);
        Assert.True(File.Exists(outFile));
        return outFile;
    }

    private static void AssertOnlyFiles(string dir, params string[] names) =>
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal),
            Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));

    // ---------------------------------------------------------------- the issue's pipeline

    [Fact]
    public void TheIssuesPipelineWithRelativePaths()
    {
        using var tmp = new TempDir();
        tmp.Write("cpi-cert-key.json", Pki.ServiceKeyJson());
        PsResult r = _ps.Run("""
            $here = $PWD.Path
            $ExecutionContext.SessionState.Path.SetLocation($args[0]) | Out-Null
            try { ConvertFrom-ServiceKey .\cpi-cert-key.json | New-PfxFromPem -OutFile .\client.pfx -Password $pw }
            finally { $ExecutionContext.SessionState.Path.SetLocation($here) | Out-Null }
            """, tmp.Path);
        r.AssertClean();
        var fi = Assert.IsType<FileInfo>(Assert.Single(r.Output).BaseObject);
        Assert.Equal(tmp.File("client.pfx"), fi.FullName);
        var certs = X509CertificateLoader.LoadPkcs12CollectionFromFile(fi.FullName, Password);
        Assert.Equal(3, certs.Count);
        Assert.True(certs.Single(c => c.Thumbprint == Pki.Leaf.Thumbprint).HasPrivateKey);
        AssertOnlyFiles(tmp.Path, "cpi-cert-key.json", "client.pfx");
    }

    // ---------------------------------------------------------------- every reader, both encryptions

    public static TheoryData<string, string> Profiles => new()
    {
        { "TripleDesSha1", "rsa" }, { "Aes256Sha256", "rsa" }, { "TripleDesSha1", "ec" }, { "Aes256Sha256", "ec" },
    };

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void OpenSslReadsItWithoutLegacyAndReportsTheProfile(string encryption, string kind)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        Issued leaf = LeafFor(kind);
        string pfx = MakePfx(tmp, leaf, encryption);

        ToolResult info = Tools.OpenSsl("pkcs12", "-info", "-noout", "-in", pfx, "-passin", "pass:" + Password);
        Assert.True(info.ExitCode == 0, info.All);
        string all = info.All;
        if (encryption == "Aes256Sha256")
        {
            Assert.Contains("MAC: sha256, Iteration 2048", all);
            Assert.Contains("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256", all);
            Assert.Contains("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256", all);
            Assert.DoesNotContain("TripleDES", all);
        }
        else
        {
            Assert.Contains("MAC: sha1, Iteration 2048", all);
            Assert.Contains("PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048", all);
            Assert.Contains("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048", all);
            Assert.DoesNotContain("PBES2", all);
        }

        Assert.DoesNotContain("RC2", all, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(3, Regex.Matches(all, "^Certificate bag", RegexOptions.Multiline).Count);
        Assert.Single(Regex.Matches(all, "^Shrouded Keybag", RegexOptions.Multiline));
        Assert.Matches(encryption == "Aes256Sha256" ? "MAC length: 32," : "MAC length: 20,", all);

        // Certificates: exactly the chain.
        ToolResult certs = Tools.OpenSsl("pkcs12", "-in", pfx, "-passin", "pass:" + Password, "-nokeys");
        Assert.True(certs.ExitCode == 0, certs.All);
        string[] found = PemCertificates(certs.StdOut).Select(c => c.Thumbprint).ToArray();
        Assert.Equal(3, found.Length);
        Assert.Equal(ExpectedChain(leaf).OrderBy(t => t), found.OrderBy(t => t));

        // The key: the leaf's own.
        ToolResult key = Tools.OpenSsl("pkcs12", "-in", pfx, "-passin", "pass:" + Password, "-nocerts", "-nodes");
        Assert.True(key.ExitCode == 0, key.All);
        string keyPem = Regex.Match(key.StdOut, "-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----").Value;
        Assert.NotEmpty(keyPem);
        AssertKeyMatches(keyPem, leaf);
    }

    private static List<X509Certificate2> PemCertificates(string text) =>
        Regex.Matches(text, "-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")
            .Select(m => X509Certificate2.CreateFromPem(m.Value)).ToList();

    private static void AssertKeyMatches(string keyPem, Issued leaf)
    {
        var cert = X509CertificateLoader.LoadCertificate(leaf.Der);
        byte[] data = Encoding.ASCII.GetBytes("proof of possession");
        if (cert.GetRSAPublicKey() is { } rsaPub)
        {
            using RSA rsa = RSA.Create();
            rsa.ImportFromPem(keyPem);
            byte[] sig = rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            Assert.True(rsaPub.VerifyData(data, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }
        else
        {
            using ECDsa ec = ECDsa.Create();
            ec.ImportFromPem(keyPem);
            byte[] sig = ec.SignData(data, HashAlgorithmName.SHA256);
            Assert.True(cert.GetECDsaPublicKey()!.VerifyData(data, sig, HashAlgorithmName.SHA256));
        }
    }

    /// <summary>The bags openssl prints with -info -nodes: the attribute lines above each PEM block, and the block.</summary>
    private static List<(string Attributes, string Pem)> Bags(string output)
    {
        var bags = new List<(string, string)>();
        foreach (Match m in Regex.Matches(output, @"(?s)(?<attrs>.*?)(?<pem>-----BEGIN (?<label>[A-Z ]+)-----.*?-----END \k<label>-----)"))
        {
            bags.Add((m.Groups["attrs"].Value, m.Groups["pem"].Value));
        }

        return bags;
    }

    [SkippableTheory]
    [InlineData("TripleDesSha1", null)]
    [InlineData("Aes256Sha256", null)]
    [InlineData("TripleDesSha1", "SAP CPI client (dev) – Ä")]
    [InlineData("Aes256Sha256", "my alias")]
    public void LocalKeyIdOnKeyAndLeafOnlyAndFriendlyNameOnTheLeaf(string encryption, string? friendlyName)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        string pfx = MakePfx(tmp, Pki.Leaf, encryption, friendlyName);
        string expectedName = friendlyName ?? CommonName(Pki.Leaf);
        ToolResult r = Tools.OpenSsl("pkcs12", "-in", pfx, "-passin", "pass:" + Password, "-nodes", "-info");
        Assert.True(r.ExitCode == 0, r.All);
        var bags = Bags(r.StdOut);
        Assert.Equal(4, bags.Count);

        var keyBag = Assert.Single(bags, b => b.Pem.Contains("PRIVATE KEY"));
        var certBags = bags.Where(b => b.Pem.Contains("BEGIN CERTIFICATE")).ToList();
        Assert.Equal(3, certBags.Count);
        string keyId = Regex.Match(keyBag.Attributes, @"localKeyID: ([0-9A-F ]+)").Groups[1].Value.Trim();
        Assert.NotEmpty(keyId);

        foreach (var (attributes, pemText) in certBags)
        {
            string thumb = X509Certificate2.CreateFromPem(pemText).Thumbprint;
            if (thumb == Pki.Leaf.Thumbprint)
            {
                Assert.Equal(keyId, Regex.Match(attributes, @"localKeyID: ([0-9A-F ]+)").Groups[1].Value.Trim());
                // openssl prints a BMPString name byte-wise, so only ASCII names can be compared in its text;
                // BouncyCastle below reads every name.
                Assert.Contains("friendlyName: ", attributes);
                if (expectedName.All(ch => ch < 128))
                {
                    Assert.Contains("friendlyName: " + expectedName + "\n", attributes);
                }
            }
            else
            {
                Assert.DoesNotContain("localKeyID", attributes);
                Assert.DoesNotContain("friendlyName", attributes);
            }
        }

        // localKeyId is the SHA-1 of the leaf certificate (as Windows writes it).
        Assert.Equal(Pki.Leaf.Thumbprint, keyId.Replace(" ", string.Empty));

        // BouncyCastle sees the friendly name as the entry's alias.
        var store = new Pkcs12StoreBuilder().Build();
        using (FileStream fs = File.OpenRead(pfx))
        {
            store.Load(fs, Password.ToCharArray());
        }

        Assert.Equal(expectedName, Assert.Single(store.Aliases, store.IsKeyEntry));
    }

    [SkippableTheory]
    [MemberData(nameof(Profiles))]
    public void KeytoolListsOnePrivateKeyEntryWithTheWholeChain(string encryption, string kind)
    {
        Skip.IfNot(Tools.Exists("keytool"), "keytool (a JDK) is not installed");
        using var tmp = new TempDir();
        Issued leaf = LeafFor(kind);
        string pfx = MakePfx(tmp, leaf, encryption);
        ToolResult r = Tools.Run("keytool", new[] { "-list", "-v", "-storetype", "PKCS12", "-keystore", pfx, "-storepass", Password }, timeoutMs: 120_000);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("Your keystore contains 1 entry", r.StdOut);
        Assert.Single(Regex.Matches(r.StdOut, "Entry type: PrivateKeyEntry"));
        Assert.Contains("Certificate chain length: 3", r.StdOut);
        Assert.Contains("Alias name: " + CommonName(leaf), r.StdOut, StringComparison.OrdinalIgnoreCase);

        // The three certificates in order, leaf first: keytool prints "Certificate[n]:" then "Owner: ...".
        var owners = Regex.Matches(r.StdOut, @"Certificate\[(\d)\]:\s*\nOwner: ([^\n]+)").Select(m => m.Groups[2].Value).ToList();
        Assert.Equal(3, owners.Count);
        Assert.Contains(CommonName(leaf), owners[0]);
        Assert.Contains("Intermediate CA", owners[1]);
        Assert.Contains("Root CA", owners[2]);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void DotNetLoadsKeyAndChain(string encryption, string kind)
    {
        using var tmp = new TempDir();
        Issued leaf = LeafFor(kind);
        string pfx = MakePfx(tmp, leaf, encryption);
        X509Certificate2Collection all = X509CertificateLoader.LoadPkcs12CollectionFromFile(pfx, Password, X509KeyStorageFlags.EphemeralKeySet);
        Assert.Equal(3, all.Count);
        Assert.Equal(ExpectedChain(leaf).OrderBy(t => t), all.Select(c => c.Thumbprint).OrderBy(t => t));
        X509Certificate2 withKey = Assert.Single(all.Cast<X509Certificate2>(), c => c.HasPrivateKey);
        Assert.Equal(leaf.Thumbprint, withKey.Thumbprint);
        if (OperatingSystem.IsWindows())
        {
            Assert.Equal(CommonName(leaf), withKey.FriendlyName);
        }

        byte[] data = Encoding.ASCII.GetBytes("signed with the key from the PFX");
        if (kind == "ec")
        {
            using ECDsa key = withKey.GetECDsaPrivateKey()!;
            Assert.True(withKey.GetECDsaPublicKey()!.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
        }
        else
        {
            using RSA key = withKey.GetRSAPrivateKey()!;
            byte[] sig = key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
            Assert.True(withKey.GetRSAPublicKey()!.VerifyData(data, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        }

        // A wrong password is refused (the MAC is checked).
        Assert.ThrowsAny<CryptographicException>(() => X509CertificateLoader.LoadPkcs12CollectionFromFile(pfx, "wrong", X509KeyStorageFlags.EphemeralKeySet));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void BouncyCastleLoadsKeyAndChainInOrder(string encryption, string kind)
    {
        using var tmp = new TempDir();
        Issued leaf = LeafFor(kind);
        string pfx = MakePfx(tmp, leaf, encryption);
        var store = new Pkcs12StoreBuilder().Build();
        using (FileStream fs = File.OpenRead(pfx))
        {
            store.Load(fs, Password.ToCharArray());
        }

        string alias = Assert.Single(store.Aliases, store.IsKeyEntry);
        AssertSameKey(store.GetKey(alias).Key, leaf);
        X509CertificateEntry[] chain = store.GetCertificateChain(alias);
        Assert.Equal(ExpectedChain(leaf), chain.Select(e => e.Certificate.Thumbprint()));
        // The CA certificates carry no attributes, so BouncyCastle keeps them as chain certificates only, not entries.
        Assert.Single(store.Aliases);

        var wrong = new Pkcs12StoreBuilder().Build();
        using FileStream again = File.OpenRead(pfx);
        Assert.ThrowsAny<Exception>(() => wrong.Load(again, "wrong".ToCharArray()));
    }

    private static void AssertSameKey(Org.BouncyCastle.Crypto.AsymmetricKeyParameter key, Issued leaf)
    {
        Assert.True(key.IsPrivate);
        byte[] ours = Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(key).PrivateKeyAlgorithm.Algorithm.GetDerEncoded();
        byte[] theirs = Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(leaf.Keys.Private).PrivateKeyAlgorithm.Algorithm.GetDerEncoded();
        Assert.Equal(theirs, ours);
        switch (key)
        {
            case Org.BouncyCastle.Crypto.Parameters.RsaPrivateCrtKeyParameters rsa:
                Assert.Equal(((Org.BouncyCastle.Crypto.Parameters.RsaKeyParameters)leaf.Keys.Public).Modulus, rsa.Modulus);
                break;
            case Org.BouncyCastle.Crypto.Parameters.ECPrivateKeyParameters ec:
                Assert.Equal(((Org.BouncyCastle.Crypto.Parameters.ECPrivateKeyParameters)leaf.Keys.Private).D, ec.D);
                break;
            default:
                Assert.Fail("unexpected key type " + key.GetType());
                break;
        }
    }

    [SkippableTheory]
    [InlineData("TripleDesSha1")]
    [InlineData("Aes256Sha256")]
    public void NonAsciiPasswordIsReadTheSameEverywhere(string encryption)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        const string pw = "pä55-wörd €";
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson());
        _ps.SetVariable("unipw", PsEngine.Secure(pw));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $unipw -Encryption $args[2]", json, tmp.File("u.pfx"), encryption);
        r.AssertClean();

        Assert.Equal(3, X509CertificateLoader.LoadPkcs12CollectionFromFile(tmp.File("u.pfx"), pw, X509KeyStorageFlags.EphemeralKeySet).Count);
        if (encryption == "TripleDesSha1")
        {
            // BouncyCastle's own reader turns PBES2 passwords into bytes one character each and cannot open the AES
            // profile with a non-ASCII password (OverflowException above U+00FF); .NET and OpenSSL are the references.
            var store = new Pkcs12StoreBuilder().Build();
            using (FileStream fs = File.OpenRead(tmp.File("u.pfx")))
            {
                store.Load(fs, pw.ToCharArray());
            }

            Assert.Single(store.Aliases, store.IsKeyEntry);
        }
        ToolResult info = Tools.OpenSsl("pkcs12", "-info", "-noout", "-in", tmp.File("u.pfx"), "-passin", "pass:" + pw);
        Assert.True(info.ExitCode == 0, info.All);
        Assert.Single(Regex.Matches(info.All, "^Shrouded Keybag", RegexOptions.Multiline));
    }

    public static TheoryData<int, string> ChainLengths => new() { { 1, "TripleDesSha1" }, { 2, "Aes256Sha256" }, { 4, "TripleDesSha1" }, { 4, "Aes256Sha256" } };

    private static readonly Lazy<(Issued Sub, Issued Leaf)> Deep = new(() =>
    {
        Issued sub = TestPki.IssueCa("CN=Pfx Sub CA,O=CertIntegration Tests", TestPki.Default.Intermediate, rsa: false);
        return (sub, TestPki.IssueLeaf("CN=Pfx Deep Client,O=CertIntegration Tests", sub, TestPki.KeyKind.EcP256));
    });

    [SkippableTheory]
    [MemberData(nameof(ChainLengths))]
    public void ChainsOfOtherLengthsAreWrittenWhole(int length, string encryption)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        var (sub, leaf) = Deep.Value;
        Issued[] chain = new[] { leaf, sub, Pki.Intermediate, Pki.Root }.Take(length).ToArray();
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson(certificate: Pki.ChainPem(chain.Reverse().ToArray()), key: leaf.KeyPemPkcs8));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw -Encryption $args[2]", json, tmp.File("c.pfx"), encryption);
        r.AssertClean();

        ToolResult certs = Tools.OpenSsl("pkcs12", "-in", tmp.File("c.pfx"), "-passin", "pass:" + Password, "-nokeys");
        Assert.True(certs.ExitCode == 0, certs.All);
        Assert.Equal(chain.Select(i => i.Thumbprint), PemCertificates(certs.StdOut).Select(c => c.Thumbprint));

        var store = new Pkcs12StoreBuilder().Build();
        using FileStream fs = File.OpenRead(tmp.File("c.pfx"));
        store.Load(fs, Password.ToCharArray());
        Assert.Equal(chain.Select(i => i.Thumbprint), store.GetCertificateChain(Assert.Single(store.Aliases, store.IsKeyEntry)).Select(e => e.Certificate.Thumbprint()));
    }

    // ---------------------------------------------------------------- file handling

    [Fact]
    public void ExistingFileIsNotOverwrittenWithoutForce()
    {
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson());
        string pfx = tmp.Write("client.pfx", "original content");
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw", json, pfx);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Output);
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("FileExists", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ResourceExists, e.CategoryInfo.Category);
        Assert.Equal("original content", File.ReadAllText(pfx));
        AssertOnlyFiles(tmp.Path, "k.json", "client.pfx");

        PsResult forced = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw -Force", json, pfx);
        forced.AssertClean();
        Assert.Single(forced.Output);
        Assert.True(X509CertificateLoader.LoadPkcs12FromFile(pfx, Password).HasPrivateKey);
        AssertOnlyFiles(tmp.Path, "k.json", "client.pfx");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx));
        }
    }

    [Fact]
    public void HelpExample6HoldsForAnExistingFile()
    {
        // The help's example 6 once said -WhatIf alone reports an existing file; it is FileExists unless -Force is given.
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson());
        string pfx = tmp.Write("client.pfx", "precious");
        const string Script = "ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $args[2] ";
        PsResult whatIf = _ps.Run(Script + "-WhatIf", json, pfx, PsEngine.Secure("pw"));
        Assert.Equal(new[] { "FileExists" }, whatIf.ErrorIds);
        PsResult forceWhatIf = _ps.Run(Script + "-Force -WhatIf", json, pfx, PsEngine.Secure("pw"));
        forceWhatIf.AssertClean();
        Assert.Empty(forceWhatIf.Output);
        Assert.Equal("precious", File.ReadAllText(pfx));
        PsResult force = _ps.Run(Script + "-Force", json, pfx, PsEngine.Secure("pw"));
        force.AssertClean();
        Assert.NotEqual("precious", File.ReadAllText(pfx));
        Assert.Equal(new[] { "client.pfx", "k.json" }, Directory.GetFiles(tmp.Path).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void WhatIfWritesNothing()
    {
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson());
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw -WhatIf", json, tmp.File("client.pfx"));
        r.AssertClean();
        Assert.Empty(r.Output);
        AssertOnlyFiles(tmp.Path, "k.json");

        // -Confirm:$false writes; $ConfirmPreference does not block a Medium-impact write by default.
        PsResult c = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw -Confirm:$false", json, tmp.File("client.pfx"));
        c.AssertClean();
        AssertOnlyFiles(tmp.Path, "k.json", "client.pfx");
    }

    [SkippableFact]
    public void PfxIsOwnerOnlyFromCreationOnUnix()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes only");
        using var tmp = new TempDir();
        string pfx = MakePfx(tmp, Pki.Leaf, "Aes256Sha256");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx));
        AssertOnlyFiles(tmp.Path, "client.json", "client.pfx");
    }

    [Fact]
    public void EmptyPasswordIsRefusedForTheWholeCall()
    {
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson());
        _ps.SetVariable("emptypw", new System.Security.SecureString());
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $emptypw", json, tmp.File("c.pfx"));
        // ThrowTerminatingError stops the statement; the script host then sees it on the error stream.
        ErrorRecord e = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.Equal("PasswordEmpty", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(r.Output);
        AssertOnlyFiles(tmp.Path, "k.json");
    }

    [Fact]
    public void OutFileThatIsAFolderFailsWithoutTempFiles()
    {
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson());
        string folder = Directory.CreateDirectory(tmp.File("client.pfx")).FullName;
        foreach (string force in new[] { string.Empty, " -Force" })
        {
            PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw" + force, json, folder);
            Assert.Empty(r.Output);
            Assert.Contains(Assert.Single(r.ErrorIds), new[] { "FileWriteFailed", "FileExists" });
            AssertOnlyFiles(tmp.Path, "k.json", "client.pfx");
            Assert.Empty(Directory.GetFileSystemEntries(folder));
        }
    }

    [Fact]
    public void WholeCallArgumentProblemsAreTerminating()
    {
        using var tmp = new TempDir();
        string json = tmp.Write("k.json", Pki.ServiceKeyJson());
        (string Args, string Id)[] cases =
        {
            // A missing -Destination is created (as Export-CertificateChain does); a file there is refused.
            ("-Destination $args[0]", "DestinationNotFolder"),
            ("-OutFile $args[2] -Destination $args[3]", "OutFileAndDestination"),
            (string.Empty, "OutFileMissing"),
        };
        foreach (var (extra, id) in cases)
        {
            PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -Password $pw " + extra,
                json, tmp.File("missing-folder"), tmp.File("a.pfx"), tmp.Path);
            ErrorRecord e = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
            Assert.Equal(id, e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Empty(r.Output);
        }

        AssertOnlyFiles(tmp.Path, "k.json");
    }

    [Fact]
    public void BundleWithoutKeyIsBundleHasNoPrivateKey()
    {
        using var tmp = new TempDir();
        string json = tmp.Write("ext.json", Pki.ServiceKeyJson(key: string.Empty));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw", json, tmp.File("c.pfx"));
        Assert.Null(r.Terminating);
        Assert.Empty(r.Output);
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("BundleHasNoPrivateKey", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("certificate_external", e.Exception.Message);
        Assert.Equal(EngineTestHelpers.BundleType, e.TargetObject?.GetType().FullName);
        AssertOnlyFiles(tmp.Path, "ext.json");
    }

    [Fact]
    public void DestinationWritesOneFileNamedAfterEachServiceKeyFile()
    {
        using var tmp = new TempDir();
        string keys = Directory.CreateDirectory(tmp.File("keys")).FullName;
        string outDir = Directory.CreateDirectory(tmp.File("out")).FullName;
        Issued[] leaves = { Pki.Leaf, EcLeaf.Value, OtherLeaf.Value };
        string[] names = { "cpi-dev", "cpi-qa", "cpi prod (eu10)" };
        for (int i = 0; i < 3; i++)
        {
            File.WriteAllText(Path.Combine(keys, names[i] + ".json"),
                Pki.ServiceKeyJson(certificate: Pki.ChainPem(leaves[i], Pki.Intermediate, Pki.Root), key: leaves[i].KeyPemPkcs8));
        }

        PsResult r = _ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], '*.json')) | New-PfxFromPem -Destination $args[1] -Password $pw -Encryption Aes256Sha256",
            keys, outDir);
        r.AssertClean();
        var files = r.Output.Select(o => Assert.IsType<FileInfo>(o.BaseObject)).ToList();
        Assert.Equal(3, files.Count);
        // Spaces and parentheses (special to bash and cmd) become one '_'.
        Assert.Equal(new[] { "cpi-dev.pfx", "cpi-qa.pfx", "cpi_prod_eu10.pfx" }, files.Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal));
        AssertOnlyFiles(outDir, "cpi-dev.pfx", "cpi-qa.pfx", "cpi_prod_eu10.pfx");
        for (int i = 0; i < 3; i++)
        {
            string file = files.Single(f => f.Name.StartsWith(names[i].Split(' ')[0] + (i == 2 ? "_" : "."), StringComparison.Ordinal)).FullName;
            var coll = X509CertificateLoader.LoadPkcs12CollectionFromFile(file, Password);
            Assert.Equal(3, coll.Count);
            Assert.Equal(leaves[i].Thumbprint, Assert.Single(coll.Cast<X509Certificate2>(), c => c.HasPrivateKey).Thumbprint);
        }
    }

    [Fact]
    public void GoodBadGoodBundlesGiveTwoFilesAndOneError()
    {
        using var tmp = new TempDir();
        string keys = Directory.CreateDirectory(tmp.File("keys")).FullName;
        string outDir = Directory.CreateDirectory(tmp.File("out")).FullName;
        File.WriteAllText(Path.Combine(keys, "1-good.json"), Pki.ServiceKeyJson());
        File.WriteAllText(Path.Combine(keys, "2-external.json"), Pki.ServiceKeyJson(certificate: Pki.ChainPem(EcLeaf.Value, Pki.Intermediate, Pki.Root), key: string.Empty));
        File.WriteAllText(Path.Combine(keys, "3-good.json"), Pki.ServiceKeyJson(certificate: Pki.ChainPem(OtherLeaf.Value, Pki.Intermediate, Pki.Root), key: OtherLeaf.Value.KeyPemPkcs8));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], '*.json')) | New-PfxFromPem -Destination $args[1] -Password $pw", keys, outDir);
        Assert.Null(r.Terminating);
        Assert.Equal("BundleHasNoPrivateKey", Assert.Single(r.ErrorIds));
        Assert.Equal(2, r.Output.Count);
        AssertOnlyFiles(outDir, "1-good.pfx", "3-good.pfx");

        // -WhatIf for the same input writes nothing at all.
        string whatIf = Directory.CreateDirectory(tmp.File("whatif")).FullName;
        PsResult w = _ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], '*.json')) | New-PfxFromPem -Destination $args[1] -Password $pw -WhatIf", keys, whatIf);
        Assert.Empty(w.Output);
        Assert.Empty(Directory.GetFileSystemEntries(whatIf));
    }

    [Fact]
    public void DestinationNamesBundlesWithoutAFileAfterTheLeafCommonNameMadeSafe()
    {
        using var tmp = new TempDir();
        Issued odd = TestPki.IssueLeaf("CN=cpi:client/dev*1,O=CertIntegration Tests", Pki.Intermediate, TestPki.KeyKind.EcP256);
        string[] docs =
        {
            Pki.ServiceKeyJson(certificate: Pki.ChainPem(odd, Pki.Intermediate, Pki.Root), key: odd.KeyPemPkcs8),
            Pki.ServiceKeyJson(),
        };
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey | New-PfxFromPem -Destination $args[1] -Password $pw", docs, tmp.Path);
        r.AssertClean();
        var names = r.Output.Select(o => ((FileInfo)o.BaseObject).Name).ToList();
        Assert.Equal(new[] { "cpi_client_dev_1.pfx", CommonName(Pki.Leaf).Replace(' ', '_') + ".pfx" }, names);
        Assert.All(names, n => Assert.True(File.Exists(tmp.File(n))));
    }

    [Fact]
    public void TwoBundlesToOneOutFileIsAnErrorForTheSecond()
    {
        using var tmp = new TempDir();
        string[] docs = { Pki.ServiceKeyJson(), Pki.ServiceKeyJson(certificate: Pki.ChainPem(EcLeaf.Value, Pki.Intermediate, Pki.Root), key: EcLeaf.Value.KeyPemPkcs8) };
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey | New-PfxFromPem -OutFile $args[1] -Password $pw", docs, tmp.File("one.pfx"));
        Assert.Single(r.Output);
        Assert.Equal("OutputPathAmbiguous", Assert.Single(r.ErrorIds));
        Assert.Equal(Pki.Leaf.Thumbprint, X509CertificateLoader.LoadPkcs12FromFile(tmp.File("one.pfx"), Password).Thumbprint);
    }

    // ---------------------------------------------------------------- PEM files in

    private static string ToolKey(TempDir tmp, Issued leaf, string format)
    {
        string plain = tmp.Write("plain.key", leaf.KeyPemTraditional);
        string output = tmp.File("key-" + format + ".pem");
        ToolResult r = format switch
        {
            "pkcs8-encrypted" => Tools.OpenSsl("pkcs8", "-topk8", "-in", plain, "-out", output, "-v2", "aes-256-cbc", "-passout", "pass:" + KeyPassword),
            "pkcs8-encrypted-3des" => Tools.OpenSsl("pkcs8", "-topk8", "-in", plain, "-out", output, "-v1", "PBE-SHA1-3DES", "-passout", "pass:" + KeyPassword),
            "legacy-aes256" => leaf.Keys.Private is Org.BouncyCastle.Crypto.Parameters.ECPrivateKeyParameters
                ? Tools.OpenSsl("ec", "-in", plain, "-out", output, "-aes256", "-passout", "pass:" + KeyPassword)
                : Tools.OpenSsl("rsa", "-in", plain, "-out", output, "-aes256", "-traditional", "-passout", "pass:" + KeyPassword),
            "legacy-des3" => Tools.OpenSsl("rsa", "-in", plain, "-out", output, "-des3", "-traditional", "-passout", "pass:" + KeyPassword),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        Assert.True(r.ExitCode == 0, r.All);
        File.Delete(plain);
        return output;
    }

    public static TheoryData<string, string, bool> FileInputs => new()
    {
        // key format, leaf kind, chain given in separate -ChainPath files (else in the certificate file, shuffled)
        { "pkcs1", "rsa", false },
        { "pkcs1", "rsa", true },
        { "pkcs8", "rsa", false },
        { "sec1", "ec", true },
        { "pkcs8", "ec", false },
        { "pkcs8-encrypted", "rsa", true },
        { "pkcs8-encrypted", "ec", false },
        { "pkcs8-encrypted-3des", "rsa", false },
        { "legacy-aes256", "rsa", false },
        { "legacy-des3", "rsa", true },
        { "legacy-aes256", "ec", false },
    };

    [SkippableTheory]
    [MemberData(nameof(FileInputs))]
    public void CertificatePathKeyPathAndChainPath(string format, string kind, bool separateChain)
    {
        bool needsTool = format.StartsWith("legacy", StringComparison.Ordinal) || format.StartsWith("pkcs8-encrypted", StringComparison.Ordinal);
        Skip.If(needsTool && !Tools.Exists("openssl"), "openssl is needed to make encrypted keys");
        using var tmp = new TempDir();
        Issued leaf = LeafFor(kind);
        string keyFile = format switch
        {
            "pkcs1" or "sec1" => tmp.Write("key.pem", leaf.KeyPemTraditional),
            "pkcs8" => tmp.Write("key.pem", leaf.KeyPemPkcs8),
            _ => ToolKey(tmp, leaf, format),
        };
        bool encrypted = needsTool;
        if (format.StartsWith("legacy", StringComparison.Ordinal))
        {
            Assert.Contains("Proc-Type: 4,ENCRYPTED", File.ReadAllText(keyFile));
        }
        else if (encrypted)
        {
            Assert.Contains("BEGIN ENCRYPTED PRIVATE KEY", File.ReadAllText(keyFile));
        }

        var args = new List<object?> { keyFile, tmp.File("client.pfx") };
        string script;
        if (separateChain)
        {
            args.Add(tmp.Write("cert.pem", leaf.CertificatePem));
            args.Add(tmp.Write("root.pem", Pki.Root.CertificatePem));
            args.Add(tmp.Write("intermediate.pem", Pki.Intermediate.CertificatePem));
            script = "New-PfxFromPem -CertificatePath $args[2] -KeyPath $args[0] -ChainPath $args[3], $args[4] -OutFile $args[1] -Password $pw";
        }
        else
        {
            args.Add(tmp.Write("cert.pem", Pki.ChainPem(Pki.Root, leaf, Pki.Intermediate)));
            script = "New-PfxFromPem -CertificatePath $args[2] -KeyPath $args[0] -OutFile $args[1] -Password $pw";
        }

        if (encrypted)
        {
            // No password: asked for, nothing written.
            PsResult none = _ps.Run(script, args.ToArray());
            Assert.Equal("PrivateKeyPasswordRequired", Assert.Single(none.ErrorIds));
            Assert.False(File.Exists(tmp.File("client.pfx")));

            // Wrong password: refused, nothing written.
            PsResult wrong = _ps.Run(script + " -KeyPassword $wrongpw", args.ToArray());
            Assert.Empty(wrong.Output);
            ErrorRecord e = Assert.Single(wrong.Errors);
            Assert.Equal("PrivateKeyPasswordIncorrect", e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(ErrorCategory.AuthenticationError, e.CategoryInfo.Category);
            Assert.False(File.Exists(tmp.File("client.pfx")));
            script += " -KeyPassword $kpw";
        }

        PsResult r = _ps.Run(script, args.ToArray());
        r.AssertClean();
        var fi = Assert.IsType<FileInfo>(Assert.Single(r.Output).BaseObject);
        var coll = X509CertificateLoader.LoadPkcs12CollectionFromFile(fi.FullName, Password, X509KeyStorageFlags.EphemeralKeySet);
        Assert.Equal(3, coll.Count);
        Assert.Equal(leaf.Thumbprint, Assert.Single(coll.Cast<X509Certificate2>(), c => c.HasPrivateKey).Thumbprint);

        var store = new Pkcs12StoreBuilder().Build();
        using (FileStream fs = File.OpenRead(fi.FullName))
        {
            store.Load(fs, Password.ToCharArray());
        }

        string alias = Assert.Single(store.Aliases, store.IsKeyEntry);
        Assert.Equal(ExpectedChain(leaf), store.GetCertificateChain(alias).Select(c => c.Certificate.Thumbprint()));
        Assert.DoesNotContain(KeyPassword, r.AllText);
    }

    [SkippableTheory]
    [InlineData("pkcs8", "rsa")]
    [InlineData("pkcs8-3des", "rsa")]
    [InlineData("legacy", "rsa")]
    [InlineData("legacy", "ec")]
    public void NonAsciiKeyPasswordFromOpenSsl(string format, string kind)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        const string keyPw = "schlüssel-€";
        using var tmp = new TempDir();
        Issued leaf = LeafFor(kind);
        string plain = tmp.Write("plain.key", leaf.KeyPemTraditional);
        string keyFile = tmp.File("key.pem");
        ToolResult made = format switch
        {
            "pkcs8" => Tools.OpenSsl("pkcs8", "-topk8", "-in", plain, "-out", keyFile, "-v2", "aes-256-cbc", "-passout", "pass:" + keyPw),
            "pkcs8-3des" => Tools.OpenSsl("pkcs8", "-topk8", "-in", plain, "-out", keyFile, "-v1", "PBE-SHA1-3DES", "-passout", "pass:" + keyPw),
            _ => Tools.OpenSsl(kind == "ec" ? "ec" : "rsa", "-in", plain, "-out", keyFile, "-aes256", "-passout", "pass:" + keyPw),
        };
        Assert.True(made.ExitCode == 0, made.All);
        File.Delete(plain);
        string cert = tmp.Write("cert.pem", Pki.ChainPem(leaf, Pki.Intermediate, Pki.Root));
        _ps.SetVariable("unikpw", PsEngine.Secure(keyPw));
        PsResult r = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -KeyPassword $unikpw -OutFile $args[2] -Password $pw", cert, keyFile, tmp.File("c.pfx"));
        r.AssertClean();
        Assert.Equal(leaf.Thumbprint, X509CertificateLoader.LoadPkcs12FromFile(tmp.File("c.pfx"), Password).Thumbprint);
    }

    [Fact]
    public void MismatchedKeyFileIsKeyCertificateMismatchAndNoFile()
    {
        using var tmp = new TempDir();
        string cert = tmp.Write("cert.pem", Pki.ChainPem());
        string key = tmp.Write("key.pem", OtherLeaf.Value.KeyPemPkcs8);
        PsResult r = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -OutFile $args[2] -Password $pw -Verbose", cert, key, tmp.File("c.pfx"));
        Assert.Null(r.Terminating);
        Assert.Empty(r.Output);
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("KeyCertificateMismatch", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
        AssertOnlyFiles(tmp.Path, "cert.pem", "key.pem");
        EngineTestHelpers.AssertNoSecret(r, OtherLeaf.Value.KeyPemPkcs8);
    }

    [Fact]
    public void KeyOfAnIssuerInTheChainIsRefused()
    {
        // The intermediate CA's key with the client chain: not the client's key, so no PFX (neither the leaf with a
        // wrong key nor, silently, the CA).
        using var tmp = new TempDir();
        string cert = tmp.Write("cert.pem", Pki.ChainPem());
        string key = tmp.Write("key.pem", Pki.Intermediate.KeyPemTraditional);
        PsResult r = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -OutFile $args[2] -Password $pw", cert, key, tmp.File("c.pfx"));
        Assert.Empty(r.Output);
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("KeyCertificateMismatch", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("Intermediate CA", e.Exception.Message);
        AssertOnlyFiles(tmp.Path, "cert.pem", "key.pem");

        // A CA certificate with its own key and no certificate it issued is a PFX like any other.
        string caCert = tmp.Write("ca.pem", Pki.ChainPem(Pki.Root, Pki.Intermediate));
        PsResult ca = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -OutFile $args[2] -Password $pw", caCert, key, tmp.File("ca.pfx"));
        ca.AssertClean();
        Assert.Equal(Pki.Intermediate.Thumbprint, X509CertificateLoader.LoadPkcs12FromFile(tmp.File("ca.pfx"), Password).Thumbprint);
    }

    [Fact]
    public void MissingInputFileIsFileNotFound()
    {
        using var tmp = new TempDir();
        string key = tmp.Write("key.pem", Pki.Leaf.KeyPemPkcs8);
        PsResult r = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -OutFile $args[2] -Password $pw", tmp.File("nope.pem"), key, tmp.File("c.pfx"));
        Assert.Contains("FileNotFound", r.ErrorIds);
        Assert.Empty(r.Output);
        AssertOnlyFiles(tmp.Path, "key.pem");
    }

    [Fact]
    public void TheTenantsP7bIsTakenAsChainPath()
    {
        // The CA chain arrives as a .p7b (DER or PEM) more often than as PEM; it used to be CertificateMalformed.
        using var tmp = new TempDir();
        string cert = tmp.Write("cert.pem", Pki.Leaf.CertificatePem);
        string key = tmp.Write("key.pem", Pki.Leaf.KeyPemPkcs8);
        string p7bDer = tmp.File("ca.p7b");
        string p7bPem = tmp.File("ca-pem.p7b");
        PsResult export = _ps.Run("""
            $args[0] | ConvertFrom-ServiceKey | Export-CertificateChain -Include Intermediate, Root -Format P7b -Destination $args[1]
            """, Pki.ServiceKeyJson(), tmp.File("p7"));
        export.AssertClean();
        File.Copy(((FileInfo)Assert.Single(export.Output).BaseObject).FullName, p7bDer);
        File.WriteAllText(p7bPem, "-----BEGIN PKCS7-----\n" + Convert.ToBase64String(File.ReadAllBytes(p7bDer), Base64FormattingOptions.InsertLineBreaks) + "\n-----END PKCS7-----\n");
        foreach (string chain in new[] { p7bDer, p7bPem })
        {
            string pfx = tmp.File(System.IO.Path.GetFileName(chain) + ".pfx");
            PsResult r = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -ChainPath $args[2] -OutFile $args[3] -Password $args[4]",
                cert, key, chain, pfx, PsEngine.Secure("pw"));
            r.AssertClean();
            PsResult back = _ps.Run("Import-CertificateBundle -LiteralPath $args[0] -Password $args[1]", pfx, PsEngine.Secure("pw"));
            back.AssertClean();
            Assert.Equal(new[] { Pki.Leaf.Thumbprint, Pki.Intermediate.Thumbprint, Pki.Root.Thumbprint }, Assert.Single(back.Bundles()).ChainThumbprints());
        }
    }

    [Fact]
    public void MissingFileOrFolderInputIsReportedOnce()
    {
        using var tmp = new TempDir();
        string key = tmp.Write("key.pem", Pki.Leaf.KeyPemPkcs8);
        PsResult r = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -OutFile $args[2] -Password $args[3]",
            tmp.File("nope.pem"), key, tmp.File("c.pfx"), PsEngine.Secure("pw"));
        Assert.Equal(new[] { "FileNotFound" }, r.ErrorIds);
        PsResult r2 = _ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -OutFile $args[2] -Password $args[3]",
            key, tmp.Path, tmp.File("c.pfx"), PsEngine.Secure("pw"));
        Assert.Equal(new[] { "PathIsFolder" }, r2.ErrorIds);
        Assert.False(File.Exists(tmp.File("c.pfx")));
    }

    // ---------------------------------------------------------------- a real mTLS handshake

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private sealed class OpenSslServer : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _out = new();

        public OpenSslServer(TempDir tmp, int port)
        {
            string root = tmp.Write("root.pem", Pki.Root.CertificatePem);
            string server = tmp.Write("server.pem", Pki.Server.CertificatePem);
            string serverKey = tmp.Write("server-key.pem", Pki.Server.KeyPemPkcs8);
            string chain = tmp.Write("server-chain.pem", Pki.Intermediate.CertificatePem);
            var psi = new ProcessStartInfo("openssl")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (string a in new[]
            {
                "s_server", "-accept", "127.0.0.1:" + port, "-Verify", "2", "-verify_return_error", "-CAfile", root,
                "-cert", server, "-key", serverKey, "-cert_chain", chain, "-www", "-naccept", "4",
            })
            {
                psi.ArgumentList.Add(a);
            }

            _process = Process.Start(psi)!;
            var ready = new TaskCompletionSource();
            _process.OutputDataReceived += (_, e) => Line(e.Data, ready);
            _process.ErrorDataReceived += (_, e) => Line(e.Data, ready);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            if (!ready.Task.Wait(TimeSpan.FromSeconds(15)))
            {
                throw new TimeoutException("openssl s_server did not start: " + Output);
            }
        }

        public string Output
        {
            get
            {
                lock (_out)
                {
                    return _out.ToString();
                }
            }
        }

        private void Line(string? line, TaskCompletionSource ready)
        {
            if (line is null)
            {
                return;
            }

            lock (_out)
            {
                _out.AppendLine(line);
            }

            if (line.Contains("ACCEPT", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(true);
                    _process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            _process.Dispose();
        }
    }

    /// <summary>Connects with the client certificate (or none), sends GET / and returns what s_server -www answers.</summary>
    private static async Task<string> GetPageAsync(int port, X509Certificate2? client, X509Certificate2Collection? intermediates)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, cts.Token);
        using var ssl = new SslStream(tcp.GetStream(), false);
        var rootCert = X509CertificateLoader.LoadCertificate(Pki.Root.Der);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
            {
                // Trust only the test root: the server presents its leaf and the intermediate.
                if (cert is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }

                using var verify = new X509Chain();
                verify.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                verify.ChainPolicy.CustomTrustStore.Add(rootCert);
                verify.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                if (chain is not null)
                {
                    foreach (X509ChainElement el in chain.ChainElements)
                    {
                        verify.ChainPolicy.ExtraStore.Add(el.Certificate);
                    }
                }

                return verify.Build(X509CertificateLoader.LoadCertificate(cert.GetRawCertData()));
            },
        };
        if (client is not null)
        {
            options.ClientCertificateContext = SslStreamCertificateContext.Create(client, intermediates, offline: true);
        }

        await ssl.AuthenticateAsClientAsync(options, cts.Token);
        await ssl.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n"), cts.Token);
        using var ms = new MemoryStream();
        await ssl.CopyToAsync(ms, cts.Token);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    [SkippableTheory]
    [InlineData("TripleDesSha1")]
    [InlineData("Aes256Sha256")]
    public async Task PfxMakesAnMtlsHandshakeWithOpenSslServerSucceed(string encryption)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        using var tmp = new TempDir();
        string pfx = MakePfx(tmp, Pki.Leaf, encryption);
        X509Certificate2Collection all = X509CertificateLoader.LoadPkcs12CollectionFromFile(pfx, Password, X509KeyStorageFlags.EphemeralKeySet);
        X509Certificate2 leaf = all.Cast<X509Certificate2>().Single(c => c.HasPrivateKey);
        var intermediates = new X509Certificate2Collection(all.Cast<X509Certificate2>().Where(c => !c.HasPrivateKey && c.Thumbprint != Pki.Root.Thumbprint).ToArray());
        Assert.Single(intermediates);

        int port = FreePort();
        using var server = new OpenSslServer(tmp, port);
        string page = await GetPageAsync(port, leaf, intermediates);
        Assert.Contains("Client certificate", page);
        Assert.Contains(CommonName(Pki.Leaf), page);
        Assert.Contains("Verify return code: 0 (ok)", page);

        // Control: without a client certificate the same server refuses, so the check above can fail.
        string? refused = null;
        try
        {
            refused = await GetPageAsync(port, null, null);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or SocketException)
        {
        }

        Assert.True(refused is null || !refused.Contains("Client certificate", StringComparison.Ordinal), refused);
    }
}
