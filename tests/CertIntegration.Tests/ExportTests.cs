using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Pkcs;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>Export-CertificateChain and Export-PrivateKey through the real engine, checked with BouncyCastle, .NET and openssl.</summary>
public class ExportTests
{
    private static readonly TestPki Pki = TestPki.Default;

    private static readonly Lazy<Issued> SelfSignedClient = new(() =>
        TestPki.Issue("CN=Self-Signed Client,O=CertIntegration Tests,C=DE", null, TestPki.NewKeys(TestPki.KeyKind.Rsa2048),
            ca: false, eku: new[] { Org.BouncyCastle.Asn1.X509.KeyPurposeID.id_kp_clientAuth }));

    private static string Thumb(X509Certificate2 c) => c.Thumbprint.ToUpperInvariant();

    private static string Prop(PSObject o, string name) => o.Properties[name]?.Value?.ToString() ?? string.Empty;

    private static (PsResult Result, List<PSObject> Files) Export(TempDir tmp, string parameters, string? serviceKey = null, PsEngine? engine = null)
    {
        string key = serviceKey ?? tmp.Write("cpi-key.json", Pki.ServiceKeyJson());
        string dest = tmp.File("out");
        Directory.CreateDirectory(dest);
        PsEngine ps = engine ?? new PsEngine();
        try
        {
            PsResult r = ps.Run($"ConvertFrom-ServiceKey -LiteralPath $args[0] | Export-CertificateChain -Destination $args[1] {parameters}", key, dest);
            return (r, r.Output.Where(o => o.BaseObject is FileInfo).ToList());
        }
        finally
        {
            if (engine is null)
            {
                ps.Dispose();
            }
        }
    }

    private static void AssertClean(PsResult r)
    {
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
    }

    /// <summary>Error IDs whether the error ended the statement (in the error stream) or the whole script.</summary>
    private static IReadOnlyList<string> AllErrorIds(PsResult r) =>
        r.ErrorIds.Concat(r.Terminating is IContainsErrorRecord t ? new[] { t.ErrorRecord.FullyQualifiedErrorId.Split(',')[0] } : Array.Empty<string>()).ToList();

    private static string OpenSslSha1(string file, bool der = false)
    {
        var args = new List<string> { "x509", "-in", file, "-noout", "-fingerprint", "-sha1" };
        if (der)
        {
            args.AddRange(new[] { "-inform", "DER" });
        }

        ToolResult t = Tools.Run("openssl", args);
        Assert.True(t.ExitCode == 0, t.All);
        return t.StdOut.Trim().Split('=')[1].Replace(":", string.Empty).ToUpperInvariant();
    }

    private static void AssertNoKeyMaterial(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        string text = Encoding.ASCII.GetString(bytes);
        Assert.DoesNotContain("PRIVATE KEY", text);
        var keyInfo = PrivateKeyInfoFactory.CreatePrivateKeyInfo(Pki.Leaf.Keys.Private);
        byte[] pkcs8 = keyInfo.GetEncoded();
        byte[] pkcs1 = keyInfo.ParsePrivateKey().GetEncoded();
        foreach (byte[] der in new[] { pkcs8, pkcs1 })
        {
            Assert.Equal(-1, bytes.AsSpan().IndexOf(der));
            string b64 = Convert.ToBase64String(der);
            Assert.DoesNotContain(b64.Substring(8, 48), text.Replace("\r", string.Empty).Replace("\n", string.Empty));
        }

        // The private exponent itself, in any encoding that keeps its bytes.
        byte[] d = ((Org.BouncyCastle.Crypto.Parameters.RsaPrivateCrtKeyParameters)Pki.Leaf.Keys.Private).Exponent.ToByteArrayUnsigned();
        Assert.Equal(-1, bytes.AsSpan().IndexOf(d.AsSpan(0, 32)));
    }

    [Fact]
    public void Base64IsDefault_OneCerPerCertificate_WithRolesAndCrlfArmour()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, string.Empty);
        AssertClean(r);
        Assert.Equal(3, files.Count);
        Assert.Equal(new[] { "Leaf", "Intermediate", "Root" }, files.Select(f => Prop(f, "Role")));
        Assert.All(files, f => Assert.Equal("CertIntegration.ExportedCertificate", f.TypeNames[0]));
        Assert.All(files, f => Assert.Contains("System.IO.FileInfo", f.TypeNames));
        for (int i = 0; i < 3; i++)
        {
            var fi = (FileInfo)files[i].BaseObject;
            Issued expected = Pki.Chain[i];
            Assert.EndsWith(".cer", fi.Name);
            Assert.StartsWith(Prop(files[i], "Role").ToLowerInvariant() + "-", fi.Name);
            Assert.Equal(expected.Thumbprint, Prop(files[i], "Thumbprint"));
            Assert.Equal(X509CertificateLoader.LoadCertificate(expected.Der).Subject, Prop(files[i], "Subject"));
            string text = File.ReadAllText(fi.FullName);
            Assert.StartsWith("-----BEGIN CERTIFICATE-----\r\n", text);
            Assert.EndsWith("-----END CERTIFICATE-----\r\n", text);
            Assert.DoesNotMatch("[^\r]\n", text);
            Assert.All(text.Split("\r\n"), line => Assert.True(line.Length <= 64, line));
            Assert.Equal(expected.Thumbprint, Thumb(X509CertificateLoader.LoadCertificateFromFile(fi.FullName)));
            AssertNoKeyMaterial(fi.FullName);
        }

        Assert.Equal("root-CertIntegration_Test_Root_CA.cer", ((FileInfo)files[2].BaseObject).Name);
        Assert.Equal("intermediate-CertIntegration_Test_Intermediate_CA.cer", ((FileInfo)files[1].BaseObject).Name);
    }

    [Fact]
    public void Der_IsTheRawCertificate()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, "-Format Der");
        AssertClean(r);
        Assert.Equal(3, files.Count);
        for (int i = 0; i < 3; i++)
        {
            var fi = (FileInfo)files[i].BaseObject;
            Assert.EndsWith(".cer", fi.Name);
            Assert.Equal(Pki.Chain[i].Der, File.ReadAllBytes(fi.FullName));
        }
    }

    [Fact]
    public void Pem_OnePemPerCertificate_LfLineEnds()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, "-Format Pem");
        AssertClean(r);
        Assert.Equal(3, files.Count);
        for (int i = 0; i < 3; i++)
        {
            var fi = (FileInfo)files[i].BaseObject;
            Assert.EndsWith(".pem", fi.Name);
            string text = File.ReadAllText(fi.FullName);
            Assert.DoesNotContain("\r", text);
            Assert.Equal(Pki.Chain[i].CertificatePem, text);
            AssertNoKeyMaterial(fi.FullName);
        }
    }

    [Fact]
    public void PemBundle_IsOneFileLeafFirst()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, "-Format PemBundle");
        AssertClean(r);
        PSObject f = Assert.Single(files);
        var fi = (FileInfo)f.BaseObject;
        Assert.StartsWith("chain-", fi.Name);
        Assert.EndsWith(".pem", fi.Name);
        Assert.Equal("Leaf, Intermediate, Root", Prop(f, "Role"));
        Assert.Equal(Pki.Leaf.Thumbprint, Prop(f, "Thumbprint"));
        string text = File.ReadAllText(fi.FullName);
        Assert.Equal(Pki.ChainPem(), text);
        var loaded = new X509Certificate2Collection();
        loaded.ImportFromPemFile(fi.FullName);
        Assert.Equal(Pki.Chain.Select(c => c.Thumbprint), loaded.Select(Thumb));
        AssertNoKeyMaterial(fi.FullName);
    }

    [Fact]
    public void P7b_IsACertsOnlyPkcs7WithTheWholeChain()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, "-Format P7b");
        AssertClean(r);
        PSObject f = Assert.Single(files);
        var fi = (FileInfo)f.BaseObject;
        Assert.EndsWith(".p7b", fi.Name);
        byte[] bytes = File.ReadAllBytes(fi.FullName);

        var cms = new Org.BouncyCastle.Cms.CmsSignedData(bytes);
        Assert.Empty(cms.GetSignerInfos().GetSigners());
        var certs = cms.GetCertificates().EnumerateMatches(null).ToList();
        Assert.Equal(Pki.Chain.Select(c => c.Thumbprint), certs.Select(c => Convert.ToHexString(Org.BouncyCastle.Security.DigestUtilities.CalculateDigest("SHA-1", c.GetEncoded()))));

        var collection = new X509Certificate2Collection();
#pragma warning disable SYSLIB0057
        collection.Import(bytes);
#pragma warning restore SYSLIB0057
        Assert.Equal(3, collection.Count);

        AssertNoKeyMaterial(fi.FullName);
    }

    [Fact]
    public void SingleLine_HasNoLineBreaks_AndIsAcceptedBackAsAServiceKeyCertificate()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, "-Include Leaf -Format SingleLine");
        AssertClean(r);
        PSObject f = Assert.Single(files);
        var fi = (FileInfo)f.BaseObject;
        Assert.EndsWith(".txt", fi.Name);
        Assert.StartsWith("leaf-", fi.Name);
        string text = File.ReadAllText(fi.FullName);
        Assert.DoesNotContain("\r", text);
        Assert.DoesNotContain("\n", text);
        Assert.Matches("^-----BEGIN CERTIFICATE-----[A-Za-z0-9+/]+=*-----END CERTIFICATE-----$", text);
        Assert.Equal(text, Prop(f, "Text"));
        Assert.Equal(Convert.ToBase64String(Pki.Leaf.Der), text["-----BEGIN CERTIFICATE-----".Length..^"-----END CERTIFICATE-----".Length]);
        AssertNoKeyMaterial(fi.FullName);

        // Pasted into a service key's certificate field with the key, it reads back as the same bundle.
        string json = tmp.Write("single.json", Pki.ServiceKeyJson(certificate: text));
        using var ps = new PsEngine();
        PsResult back = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", json);
        AssertClean(back);
        PSObject bundle = Assert.Single(back.Output);
        Assert.Equal(Pki.Leaf.Thumbprint, Prop(bundle, "Thumbprint"));
        Assert.Equal("True", Prop(bundle, "HasPrivateKey"));
    }

    [Fact]
    public void Include_FiltersRoles()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, "-Include Root, Intermediate");
        AssertClean(r);
        Assert.Equal(new[] { "Intermediate", "Root" }, files.Select(f => Prop(f, "Role")));
        Assert.Equal(2, Directory.GetFiles(tmp.File("out")).Length);

        using var tmp2 = new TempDir();
        var (r2, files2) = Export(tmp2, "-Include Leaf -Format P7b");
        AssertClean(r2);
        PSObject one = Assert.Single(files2);
        Assert.Equal("Leaf", Prop(one, "Role"));
        Assert.StartsWith("leaf-", ((FileInfo)one.BaseObject).Name);
        var cms = new Org.BouncyCastle.Cms.CmsSignedData(File.ReadAllBytes(((FileInfo)one.BaseObject).FullName));
        Assert.Single(cms.GetCertificates().EnumerateMatches(null));
    }

    [Fact]
    public void SameCommonName_GetsAThumbprintSuffix_SharedIssuersAreWrittenOnce()
    {
        using var tmp = new TempDir();
        Issued twin1 = TestPki.IssueLeaf("CN=Twin Client,O=CertIntegration Tests,C=DE", Pki.Intermediate);
        Issued twin2 = TestPki.IssueLeaf("CN=Twin Client,O=CertIntegration Tests,C=DE", Pki.Intermediate);
        string k1 = tmp.Write("k1.json", Pki.ServiceKeyJson(certificate: Pki.ChainPem(twin1, Pki.Intermediate, Pki.Root), key: twin1.KeyPemTraditional));
        string k2 = tmp.Write("k2.json", Pki.ServiceKeyJson(certificate: Pki.ChainPem(twin2, Pki.Intermediate, Pki.Root), key: twin2.KeyPemTraditional));
        string dest = tmp.File("out");
        Directory.CreateDirectory(dest);
        using var ps = new PsEngine();
        PsResult r = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0], $args[1] | Export-CertificateChain -Destination $args[2] -Verbose", k1, k2, dest);
        AssertClean(r);
        var names = r.Objects<FileInfo>().Select(f => f.Name).ToList();
        Assert.Equal(4, names.Count); // two leaves, one intermediate, one root
        Assert.Equal(4, Directory.GetFiles(dest).Length);
        Assert.Contains("leaf-Twin_Client.cer", names);
        string suffixed = "leaf-Twin_Client-" + twin2.Thumbprint.ToLowerInvariant()[..8] + ".cer";
        Assert.Contains(suffixed, names);
        Assert.Equal(twin1.Thumbprint, Thumb(X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dest, "leaf-Twin_Client.cer"))));
        Assert.Equal(twin2.Thumbprint, Thumb(X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dest, suffixed))));
        Assert.Contains(r.Verbose, v => v.Contains("already written in this call"));
    }

    [Fact]
    public void WhatIf_WritesNothing()
    {
        using var tmp = new TempDir();
        var (r, files) = Export(tmp, "-Format P7b -WhatIf");
        AssertClean(r);
        Assert.Empty(files);
        Assert.Empty(Directory.GetFileSystemEntries(tmp.File("out")));

        // Nor does it create a missing destination folder.
        string key = tmp.Write("k.json", Pki.ServiceKeyJson());
        using var ps = new PsEngine();
        PsResult r2 = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | Export-CertificateChain -Destination $args[1] -WhatIf", key, tmp.File("missing"));
        AssertClean(r2);
        Assert.False(Directory.Exists(tmp.File("missing")));
    }

    [Fact]
    public void MissingDestination_IsCreated_AndDefaultIsTheCurrentLocation()
    {
        using var tmp = new TempDir();
        string key = tmp.Write("k.json", Pki.ServiceKeyJson());
        using var ps = new PsEngine();
        PsResult r = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | Export-CertificateChain -Destination $args[1] -Include Root", key, tmp.File(Path.Combine("strust", "sub")));
        AssertClean(r);
        Assert.Single(Directory.GetFiles(tmp.File(Path.Combine("strust", "sub"))));

        string here = tmp.File("here");
        Directory.CreateDirectory(here);
        PsResult r2 = ps.Run("$null = $ExecutionContext.SessionState.Path.SetLocation($args[1]); ConvertFrom-ServiceKey -LiteralPath $args[0] | Export-CertificateChain -Include Leaf", key, here);
        AssertClean(r2);
        Assert.Equal(here, Assert.Single(r2.Objects<FileInfo>()).DirectoryName);
    }

    [Fact]
    public void ExistingFile_IsAnErrorWithoutForce_AndUntouched_ForceOverwrites()
    {
        using var tmp = new TempDir();
        string key = tmp.Write("cpi-key.json", Pki.ServiceKeyJson());
        using var ps = new PsEngine();
        var (first, files) = Export(tmp, "-Include Root", key, ps);
        AssertClean(first);
        string rootFile = ((FileInfo)Assert.Single(files).BaseObject).FullName;
        File.WriteAllText(rootFile, "precious");
        DateTime stamp = File.GetLastWriteTimeUtc(rootFile);

        var (second, files2) = Export(tmp, string.Empty, key, ps);
        Assert.Null(second.Terminating);
        Assert.Equal(new[] { "FileExists" }, second.ErrorIds);
        Assert.Equal(2, files2.Count); // leaf and intermediate still written
        Assert.Equal("precious", File.ReadAllText(rootFile));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(rootFile));
        Assert.Empty(Directory.GetFiles(tmp.File("out"), ".*.tmp"));

        var (third, files3) = Export(tmp, "-Force", key, ps);
        AssertClean(third);
        Assert.Equal(3, files3.Count);
        Assert.Equal(Pki.Root.Thumbprint, Thumb(X509CertificateLoader.LoadCertificateFromFile(rootFile)));
    }

    [Fact]
    public void PipedX509Certificate2_AreGroupedIntoChainsWithRoles()
    {
        using var tmp = new TempDir();
        string leaf = tmp.Write("a.cer", Pki.Leaf.Der);
        string inter = tmp.Write("b.cer", Pki.Intermediate.Der);
        string root = tmp.Write("c.cer", Pki.Root.Der);
        string dest = tmp.File("out");
        Directory.CreateDirectory(dest);
        using var ps = new PsEngine();
        // Shuffled order: root, leaf, intermediate.
        PsResult r = ps.Run($"@($args[2], $args[0], $args[1]) | ForEach-Object {{ [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadCertificate([IO.File]::ReadAllBytes($_)) }} | Export-CertificateChain -Destination $args[3] -Format Pem", leaf, inter, root, dest);
        AssertClean(r);
        var outputs = r.Output.Where(o => o.BaseObject is FileInfo).ToList();
        Assert.Equal(new[] { "Leaf", "Intermediate", "Root" }, outputs.Select(o => Prop(o, "Role")));
        Assert.Equal(Pki.Chain.Select(c => c.Thumbprint), outputs.Select(o => Prop(o, "Thumbprint")));

        // A lone self-signed certificate is a root; a lone leaf is a leaf.
        string dest2 = tmp.File("out2");
        Directory.CreateDirectory(dest2);
        PsResult r2 = ps.Run("[System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadCertificate([IO.File]::ReadAllBytes($args[0])) | Export-CertificateChain -Destination $args[1]", root, dest2);
        AssertClean(r2);
        Assert.Equal("Root", Prop(Assert.Single(r2.Output), "Role"));
        PsResult r3 = ps.Run("Export-CertificateChain -InputObject ([System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadCertificate([IO.File]::ReadAllBytes($args[0]))) -Destination $args[1]", leaf, dest2);
        AssertClean(r3);
        Assert.Equal("Leaf", Prop(Assert.Single(r3.Output), "Role"));
    }

    [Fact]
    public void SelfSignedClientCertificateWithItsKey_IsALeafForIncludeLeaf()
    {
        // The issue's "paste the leaf into an X.509 field" case with a self-signed client certificate: it used to be
        // only a Root, so -Include Leaf wrote nothing and said so only in verbose.
        using var tmp = new TempDir();
        using var ps = new PsEngine();
        Issued ss = SelfSignedClient.Value;
        string json = Pki.ServiceKeyJson(certificate: ss.CertificatePem, key: ss.KeyPemTraditional);
        PsResult r = ps.Run("$args[0] | ConvertFrom-ServiceKey | Export-CertificateChain -Include Leaf -Format SingleLine -Destination $args[1]", json, tmp.Path);
        r.AssertClean();
        PSObject f = Assert.Single(r.Output);
        Assert.Equal("leaf-Self-Signed_Client.txt", ((FileInfo)f.BaseObject).Name);
        Assert.Equal(ss.Thumbprint, f.S("Thumbprint"));
        Assert.Contains("Leaf", f.S("Role"));
        Assert.Contains("Root", f.S("Role"));

        // Without the key (a certificate_external key, a truststore) the lone self-signed certificate stays a Root only.
        string ext = Pki.ServiceKeyJson(certificate: ss.CertificatePem, key: string.Empty);
        PsResult r2 = ps.Run("$args[0] | ConvertFrom-ServiceKey | Export-CertificateChain -Format Pem -Destination $args[1]", ext, tmp.Path);
        r2.AssertClean();
        PSObject f2 = Assert.Single(r2.Output);
        Assert.Equal("Root", f2.S("Role"));
        Assert.StartsWith("root-", ((FileInfo)f2.BaseObject).Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Path_ReadsPemAndDerFiles_AndNeverWritesTheKeyInThem()
    {
        using var tmp = new TempDir();
        string pem = tmp.Write("mixed.pem", Pki.Leaf.KeyPemPkcs8 + Pki.ChainPem(Pki.Root, Pki.Leaf, Pki.Intermediate));
        string der = tmp.Write("root.der", Pki.Root.Der);
        string dest = tmp.File("out");
        Directory.CreateDirectory(dest);
        using var ps = new PsEngine();
        PsResult r = ps.Run("Export-CertificateChain -Path $args[0] -Destination $args[1] -Format PemBundle", pem, dest);
        AssertClean(r);
        var fi = Assert.Single(r.Objects<FileInfo>());
        Assert.Equal(Pki.ChainPem(), File.ReadAllText(fi.FullName));
        AssertNoKeyMaterial(fi.FullName);

        PsResult r2 = ps.Run("[System.IO.FileInfo]::new($args[0]) | Export-CertificateChain -Destination $args[1] -Format Der", der, dest);
        AssertClean(r2);
        Assert.Equal("Root", Prop(Assert.Single(r2.Output), "Role"));

        PsResult r3 = ps.Run("Export-CertificateChain -Path $args[0] -Destination $args[1]", tmp.File("nothing*.pem"), dest);
        Assert.Empty(r3.Output);
        // Piped strings are paths (as for Import-CertificateBundle); other objects are refused.
        PsResult r4 = ps.Run("'not a certificate' | Export-CertificateChain -Destination $args[0]", dest);
        Assert.Equal(new[] { "FileNotFound" }, r4.ErrorIds);
        PsResult r5 = ps.Run("42 | Export-CertificateChain -Destination $args[0]", dest);
        Assert.Equal(new[] { "InputNotCertificate" }, r5.ErrorIds);
    }

    [Fact]
    public void PipedPathStringsAndPSPathObjects_AreRead()
    {
        // -LiteralPath says it binds PSPath by property name, but -InputObject took every piped object and refused it.
        using var tmp = new TempDir();
        using var ps = new PsEngine();
        string pem = tmp.Write("chain.pem", Pki.ChainPem());
        string dest = tmp.File("out");
        PsResult r = ps.Run("""
            $args[0] | Export-CertificateChain -Destination $args[1] -Format PemBundle
            [pscustomobject]@{ PSPath = $args[2] } | Export-CertificateChain -Destination $args[1] -Format P7b
            [IO.DirectoryInfo]::new($args[1]) | Export-CertificateChain -Destination $args[1] -Format P7b
            """, System.IO.Path.Combine(tmp.Path, "ch*.pem"), dest, pem);
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { "chain-" }, r.Output.Select(o => ((FileInfo)o.BaseObject).Name.Substring(0, 6)).Distinct());
        Assert.Equal(new[] { ".pem", ".p7b" }, r.Output.Select(o => ((FileInfo)o.BaseObject).Extension));
        Assert.Equal("PathIsFolder", Assert.Single(r.ErrorIds));
    }

    [SkippableFact]
    public void OpenSsl_ReadsEveryCertificateFormat()
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not on PATH");
        foreach (string format in new[] { "Base64", "Der", "Pem" })
        {
            using var tmp = new TempDir();
            var (r, files) = Export(tmp, "-Format " + format);
            AssertClean(r);
            Assert.Equal(3, files.Count);
            for (int i = 0; i < 3; i++)
            {
                string path = ((FileInfo)files[i].BaseObject).FullName;
                Assert.Equal(Pki.Chain[i].Thumbprint, OpenSslSha1(path, der: format == "Der"));
            }
        }

        using (var tmp = new TempDir())
        {
            var (r, files) = Export(tmp, "-Format PemBundle");
            AssertClean(r);
            string path = ((FileInfo)Assert.Single(files).BaseObject).FullName;
            Assert.Equal(Pki.Leaf.Thumbprint, OpenSslSha1(path)); // openssl x509 reads the first block: the leaf
            ToolResult v = Tools.OpenSsl("verify", "-CAfile", path, "-partial_chain", path);
            Assert.True(v.ExitCode == 0, v.All);
        }

        using (var tmp = new TempDir())
        {
            var (r, files) = Export(tmp, "-Format P7b");
            AssertClean(r);
            string path = ((FileInfo)Assert.Single(files).BaseObject).FullName;
            ToolResult t = Tools.OpenSsl("pkcs7", "-inform", "DER", "-in", path, "-print_certs", "-noout");
            Assert.True(t.ExitCode == 0, t.All);
            var subjects = Regex.Matches(t.StdOut, "^subject=(.*)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(3, subjects.Count);
            Assert.Contains("Client", subjects[0]);
            Assert.Contains("Root CA", subjects[2]);
        }
    }

    [Fact]
    public void NoFormatWritesPrivateKeyMaterial()
    {
        foreach (string format in new[] { "Base64", "Der", "Pem", "PemBundle", "SingleLine", "P7b" })
        {
            using var tmp = new TempDir();
            var (r, files) = Export(tmp, "-Format " + format);
            AssertClean(r);
            Assert.NotEmpty(files);
            foreach (string f in Directory.GetFiles(tmp.File("out")))
            {
                AssertNoKeyMaterial(f);
            }
        }
    }

    // ---------------------------------------------------------------- Export-PrivateKey

    private static PsResult ExportKey(TempDir tmp, string outFile, string parameters, string? serviceKey = null, string? password = null)
    {
        string key = serviceKey ?? tmp.Write("cpi-key.json", Pki.ServiceKeyJson());
        using var ps = new PsEngine();
        ps.SetVariable("pw", password is null ? null : PsEngine.Secure(password));
        return ps.Run($"ConvertFrom-ServiceKey -LiteralPath $args[0] | Export-PrivateKey -OutFile $args[1] {parameters}", key, outFile);
    }

    private static string Modulus(params string[] args)
    {
        ToolResult t = Tools.Run("openssl", args);
        Assert.True(t.ExitCode == 0, t.All);
        return t.StdOut.Trim();
    }

    /// <summary>The key file's public half equals the certificate's, read by .NET (which takes PBES2 passwords as UTF-8).</summary>
    private static void AssertKeyMatches(string keyFile, Issued cert, string? password = null)
    {
        string text = File.ReadAllText(keyFile);
        using var x = X509CertificateLoader.LoadCertificate(cert.Der);
        System.Security.Cryptography.AsymmetricAlgorithm key;
        if (x.GetRSAPublicKey() is { } certRsa)
        {
            var rsa = System.Security.Cryptography.RSA.Create();
            if (password is null) { rsa.ImportFromPem(text); } else { rsa.ImportFromEncryptedPem(text, password); }
            Assert.Equal(certRsa.ExportSubjectPublicKeyInfo(), rsa.ExportSubjectPublicKeyInfo());
            key = rsa;
        }
        else
        {
            var ec = System.Security.Cryptography.ECDsa.Create();
            if (password is null) { ec.ImportFromPem(text); } else { ec.ImportFromEncryptedPem(text, password); }
            Assert.Equal(x.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo(), ec.ExportSubjectPublicKeyInfo());
            key = ec;
        }

        key.Dispose();
    }

    private static void AssertOwnerOnly(string file)
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void PrivateKey_Pkcs8_IsPlainPkcs8Pem_MatchesTheCertificate_AndIsOwnerOnly()
    {
        using var tmp = new TempDir();
        string outFile = tmp.File("key.key");
        PsResult r = ExportKey(tmp, outFile, string.Empty);
        AssertClean(r);
        Assert.Equal(outFile, Assert.Single(r.Objects<FileInfo>()).FullName);
        string text = File.ReadAllText(outFile);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", text);
        Assert.EndsWith("-----END PRIVATE KEY-----\n", text);
        Assert.DoesNotContain("\r", text);
        Assert.Equal(Pki.Leaf.KeyPemPkcs8, text);
        AssertKeyMatches(outFile, Pki.Leaf);
        AssertOwnerOnly(outFile);
        Assert.DoesNotContain("PRIVATE KEY", r.AllText);
    }

    [Fact]
    public void PrivateKey_Pkcs1_IsTraditionalRsa()
    {
        using var tmp = new TempDir();
        string outFile = tmp.File("key.pem");
        PsResult r = ExportKey(tmp, outFile, "-Format Pkcs1");
        AssertClean(r);
        string text = File.ReadAllText(outFile);
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----\n", text);
        Assert.EndsWith("-----END RSA PRIVATE KEY-----\n", text);
        Assert.Equal(Pki.Leaf.KeyPemTraditional, text);
        AssertKeyMatches(outFile, Pki.Leaf);
        AssertOwnerOnly(outFile);
    }

    [Theory]
    [InlineData("s3cret!")]
    [InlineData("pä$$wörd €")]
    public void PrivateKey_Encrypted_IsPbes2Aes256Sha256(string password)
    {
        using var tmp = new TempDir();
        string outFile = tmp.File("key.enc.pem");
        PsResult r = ExportKey(tmp, outFile, "-Password $pw", password: password);
        AssertClean(r);
        string text = File.ReadAllText(outFile);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", text);
        Assert.EndsWith("-----END ENCRYPTED PRIVATE KEY-----\n", text);
        Assert.DoesNotContain("\r", text);
        Assert.DoesNotContain(password, r.AllText);

        // The algorithm parameters, read with BouncyCastle.
        string b64 = string.Concat(text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----")));
        var epki = EncryptedPrivateKeyInfo.GetInstance(Convert.FromBase64String(b64));
        Assert.Equal(PkcsObjectIdentifiers.IdPbeS2, epki.EncryptionAlgorithm.Algorithm);
        var pbes2 = PbeS2Parameters.GetInstance(epki.EncryptionAlgorithm.Parameters);
        Assert.Equal(NistObjectIdentifiers.IdAes256Cbc, pbes2.EncryptionScheme.Algorithm);
        Assert.Equal(16, Asn1OctetString.GetInstance(pbes2.EncryptionScheme.Parameters).GetOctets().Length);
        var kdf = Pbkdf2Params.GetInstance(pbes2.KeyDerivationFunc.Parameters);
        Assert.True(kdf.IterationCount.IntValue >= 2048);
        Assert.Equal(16, kdf.GetSalt().Length);
        Assert.Equal(PkcsObjectIdentifiers.IdHmacWithSha256, kdf.Prf.Algorithm);

        AssertKeyMatches(outFile, Pki.Leaf, password);
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => AssertKeyMatches(outFile, Pki.Leaf, "wrong"));
        AssertOwnerOnly(outFile);
    }

    [SkippableFact]
    public void OpenSsl_ReadsEveryKeyFormat_AndTheModulusMatches()
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not on PATH");
        using var tmp = new TempDir();
        string cert = tmp.Write("leaf.pem", Pki.Leaf.CertificatePem);
        string certModulus = Modulus("x509", "-in", cert, "-noout", "-modulus");

        string p8 = tmp.File("key.key");
        AssertClean(ExportKey(tmp, p8, string.Empty));
        ToolResult check = Tools.OpenSsl("pkey", "-in", p8, "-noout");
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Equal(certModulus, Modulus("rsa", "-in", p8, "-noout", "-modulus"));

        string p1 = tmp.File("key1.pem");
        AssertClean(ExportKey(tmp, p1, "-Format Pkcs1"));
        check = Tools.OpenSsl("rsa", "-in", p1, "-check", "-noout");
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Equal(certModulus, Modulus("rsa", "-in", p1, "-noout", "-modulus"));

        foreach (string password in new[] { "s3cret!", "pä$$wörd €" })
        {
            string enc = tmp.File("key-enc-" + password.Length + ".pem");
            AssertClean(ExportKey(tmp, enc, "-Password $pw", password: password));
            ToolResult ok = Tools.OpenSsl("pkey", "-in", enc, "-passin", "pass:" + password, "-noout");
            Assert.True(ok.ExitCode == 0, ok.All);
            ToolResult wrong = Tools.OpenSsl("pkey", "-in", enc, "-passin", "pass:wrong", "-noout");
            Assert.NotEqual(0, wrong.ExitCode);
            Assert.Equal(certModulus, Modulus("rsa", "-in", enc, "-passin", "pass:" + password, "-noout", "-modulus"));
        }

        var ecPki = EcPki.Value;
        string ecKey = tmp.Write("ec.json", ecPki.ServiceKeyJson());
        string ecCert = tmp.Write("ec-leaf.pem", ecPki.Leaf.CertificatePem);
        string sec1 = tmp.File("ec.pem");
        AssertClean(ExportKey(tmp, sec1, "-Format Pkcs1", serviceKey: ecKey));
        check = Tools.OpenSsl("ec", "-in", sec1, "-check", "-noout");
        Assert.True(check.ExitCode == 0, check.All);
        string ecP8 = tmp.File("ec.p8");
        AssertClean(ExportKey(tmp, ecP8, string.Empty, serviceKey: ecKey));
        string pub = Modulus("x509", "-in", ecCert, "-noout", "-pubkey");
        Assert.Equal(pub, Modulus("pkey", "-in", ecP8, "-pubout"));
        Assert.Equal(pub, Modulus("pkey", "-in", sec1, "-pubout"));
    }

    [Fact]
    public void PrivateKey_PasswordWithPkcs1_IsRefused()
    {
        using var tmp = new TempDir();
        string outFile = tmp.File("key.pem");
        PsResult r = ExportKey(tmp, outFile, "-Format Pkcs1 -Password $pw", password: "s3cret!");
        Assert.Equal(new[] { "PasswordWithPkcs1" }, AllErrorIds(r));
        Assert.Empty(r.Output);
        Assert.False(File.Exists(outFile));

        PsResult empty = ExportKey(tmp, outFile, "-Password $pw", password: string.Empty);
        Assert.Equal(new[] { "PasswordEmpty" }, AllErrorIds(empty));
        Assert.False(File.Exists(outFile));
    }

    [Fact]
    public void PrivateKey_BundleWithoutKey_IsAnError()
    {
        using var tmp = new TempDir();
        string outFile = tmp.File("key.pem");
        string external = tmp.Write("external.json", Pki.ServiceKeyJson(key: string.Empty));
        PsResult r = ExportKey(tmp, outFile, string.Empty, serviceKey: external);
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { "BundleHasNoPrivateKey" }, r.ErrorIds);
        Assert.False(File.Exists(outFile));
    }

    [Fact]
    public void PrivateKey_ExistingFile_NeedsForce_WhatIfWritesNothing()
    {
        using var tmp = new TempDir();
        string outFile = tmp.Write("key.pem", "precious");
        PsResult r = ExportKey(tmp, outFile, string.Empty);
        Assert.Equal(new[] { "FileExists" }, r.ErrorIds);
        Assert.Equal("precious", File.ReadAllText(outFile));

        PsResult w = ExportKey(tmp, outFile, "-Force -WhatIf");
        AssertClean(w);
        Assert.Empty(w.Output);
        Assert.Equal("precious", File.ReadAllText(outFile));

        string fresh = tmp.File("fresh.pem");
        PsResult w2 = ExportKey(tmp, fresh, "-WhatIf");
        AssertClean(w2);
        Assert.False(File.Exists(fresh));

        PsResult f = ExportKey(tmp, outFile, "-Force");
        AssertClean(f);
        Assert.Equal(Pki.Leaf.KeyPemPkcs8, File.ReadAllText(outFile));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(outFile));
        }
    }

    private static readonly Lazy<TestPki> EcPki = new(() => new TestPki("CertIntegration EC", ecLeaf: true));

    [Fact]
    public void PrivateKey_Ec_Pkcs1IsSec1_Pkcs8Works()
    {
        var ec = EcPki.Value;
        using var tmp = new TempDir();
        string key = tmp.Write("ec.json", ec.ServiceKeyJson());
        string sec1 = tmp.File("ec.pem");
        PsResult r = ExportKey(tmp, sec1, "-Format Pkcs1", serviceKey: key);
        AssertClean(r);
        Assert.StartsWith("-----BEGIN EC PRIVATE KEY-----\n", File.ReadAllText(sec1));
        AssertKeyMatches(sec1, ec.Leaf);

        string p8 = tmp.File("ec.p8");
        PsResult r2 = ExportKey(tmp, p8, string.Empty, serviceKey: key);
        AssertClean(r2);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", File.ReadAllText(p8));
        AssertKeyMatches(p8, ec.Leaf);

        string enc = tmp.File("ec.enc");
        AssertClean(ExportKey(tmp, enc, "-Password $pw", serviceKey: key, password: "s3cret!"));
        AssertKeyMatches(enc, ec.Leaf, "s3cret!");
    }

    [Fact]
    public void PrivateKey_TwoBundlesToOneFile_SecondIsAnError()
    {
        using var tmp = new TempDir();
        string k1 = tmp.Write("k1.json", Pki.ServiceKeyJson());
        string outFile = tmp.File("key.pem");
        using var ps = new PsEngine();
        PsResult r = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0], $args[0] | Export-PrivateKey -OutFile $args[1]", k1, outFile);
        Assert.Single(r.Objects<FileInfo>());
        Assert.Equal(new[] { "OutputPathAmbiguous" }, r.ErrorIds);
    }
}
