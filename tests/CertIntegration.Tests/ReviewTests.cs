using System.Management.Automation;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// Defects found in review of issues 2 and 3: each test here failed before its fix.
/// </summary>
public class ReviewTests : IClassFixture<EngineFixture>
{
    private const string ClientSecret = "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab$Zm9vYmFyYmF6cXV4";

    private static readonly Lazy<Issued> OtherLeaf = new(() =>
        TestPki.IssueLeaf("CN=Review Other Client,O=CertIntegration Tests,C=DE", TestPki.Default.Intermediate));

    private readonly PsEngine _ps;

    public ReviewTests(EngineFixture fixture) => _ps = fixture.Engine;

    private static TestPki Pki => TestPki.Default;

    /// <summary>Everything an error record carries that a user could print, log or serialise: its target included.</summary>
    private static string ErrorRecordText(ErrorRecord e) =>
        string.Join("\n", e.ToString(), e.CategoryInfo.ToString(), e.CategoryInfo.TargetName, Convert.ToString(e.TargetObject),
            e.TargetObject is null ? string.Empty : PSSerializer.Serialize(e.TargetObject, 6));

    private static void AssertTargetsHoldNoSecret(PsResult r, params string[] keyPems)
    {
        Assert.NotEmpty(r.Errors);
        foreach (ErrorRecord e in r.Errors)
        {
            string text = ErrorRecordText(e);
            foreach (string pem in keyPems)
            {
                foreach (string line in EngineTestHelpers.SecretLines(pem))
                {
                    Assert.False(text.Contains(line, StringComparison.Ordinal), $"Key material in the error record ({e.FullyQualifiedErrorId}): {line}");
                }
            }

            Assert.DoesNotContain("Zm9vYmFyYmF6cXV4", text);
        }
    }

    // ------------------------------------------------------------------ secrets in ErrorRecord.TargetObject

    public static TheoryData<string> BadKeyTexts => new() { "mismatch", "malformed-key", "client-secret", "truncated", "lines" };

    [Theory]
    [MemberData(nameof(BadKeyTexts))]
    public void PipedTextErrorsKeepARedactedTargetWithoutTheKey(string kind)
    {
        string key = Pki.Leaf.KeyPemTraditional;
        string json = kind switch
        {
            "mismatch" => Pki.ServiceKeyJson(key: OtherLeaf.Value.KeyPemTraditional),
            "malformed-key" => Pki.ServiceKeyJson(key: key.Replace("-----END RSA PRIVATE KEY-----", "----END RSA PRIVATE KEY-----")),
            "client-secret" => "{\"oauth\":{\"clientid\":\"sb-x!b1|it-rt-t!b2\",\"clientsecret\":\"" + ClientSecret.Replace("$", "\\u0024") + "\",\"url\":\"https://t\"}}",
            "truncated" => Pki.ServiceKeyJson().Substring(0, Pki.ServiceKeyJson().Length - 80),
            _ => Pki.ServiceKeyJson(key: OtherLeaf.Value.KeyPemTraditional),
        };
        string script = kind == "lines" ? "$args[0] -split \"`n\" | ConvertFrom-ServiceKey" : "$args[0] | ConvertFrom-ServiceKey";
        PsResult r = _ps.Run(script, json);
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        AssertTargetsHoldNoSecret(r, key, OtherLeaf.Value.KeyPemTraditional);

        // The target still tells which input failed.
        string target = Assert.IsType<string>(e.TargetObject);
        Assert.Contains("sb-", target);
        Assert.Contains("<redacted>", target);
    }

    [Fact]
    public void ObjectInputErrorsKeepARedactedTargetWithoutTheKey()
    {
        PsResult r = _ps.Run("""
            [pscustomobject]@{ oauth = [pscustomobject]@{ clientid = 'sb-obj'; certificate = $args[0]; key = $args[1] } },
            @{ certificate = $args[0]; privateKey = $args[1]; clientid = 'sb-hash' } | ConvertFrom-ServiceKey
            """, Pki.ChainPem(), OtherLeaf.Value.KeyPemTraditional);
        Assert.Equal(new[] { "KeyCertificateMismatch", "KeyCertificateMismatch" }, r.ErrorIds);
        AssertTargetsHoldNoSecret(r, OtherLeaf.Value.KeyPemTraditional);
        Assert.Contains("sb-obj", Convert.ToString(r.Errors[0].TargetObject));
        Assert.Contains("sb-hash", Convert.ToString(r.Errors[1].TargetObject));
    }

    [Fact]
    public void FileInputErrorsStillTargetThePath()
    {
        using var tmp = new TempDir();
        tmp.Write("k.json", Pki.ServiceKeyJson(key: OtherLeaf.Value.KeyPemTraditional));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", tmp.File("k.json"));
        Assert.Equal(tmp.File("k.json"), Assert.Single(r.Errors).TargetObject);
    }

    // ------------------------------------------------------------------ roles

    private static readonly Lazy<Issued> SelfSignedClient = new(() =>
        TestPki.Issue("CN=Review Self-Signed Client,O=CertIntegration Tests,C=DE", null, TestPki.NewKeys(TestPki.KeyKind.Rsa2048),
            ca: false, eku: new[] { Org.BouncyCastle.Asn1.X509.KeyPurposeID.id_kp_clientAuth }));

    [Fact]
    public void SelfSignedClientCertificateWithItsKeyIsALeafForIncludeLeaf()
    {
        // The issue's "paste the leaf into an X.509 field" case with a self-signed client certificate: it used to be
        // only a Root, so -Include Leaf wrote nothing and said so only in verbose.
        using var tmp = new TempDir();
        Issued ss = SelfSignedClient.Value;
        string json = Pki.ServiceKeyJson(certificate: ss.CertificatePem, key: ss.KeyPemTraditional);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey | Export-CertificateChain -Include Leaf -Format SingleLine -Destination $args[1]", json, tmp.Path);
        r.AssertClean();
        PSObject f = Assert.Single(r.Output);
        Assert.Equal("leaf-Review_Self-Signed_Client.txt", ((FileInfo)f.BaseObject).Name);
        Assert.Equal(ss.Thumbprint, f.S("Thumbprint"));
        Assert.Contains("Leaf", f.S("Role"));
        Assert.Contains("Root", f.S("Role"));

        // Without the key (a certificate_external key, a truststore) the lone self-signed certificate stays a Root only.
        string ext = Pki.ServiceKeyJson(certificate: ss.CertificatePem, key: string.Empty);
        PsResult r2 = _ps.Run("$args[0] | ConvertFrom-ServiceKey | Export-CertificateChain -Format Pem -Destination $args[1]", ext, tmp.Path);
        r2.AssertClean();
        PSObject f2 = Assert.Single(r2.Output);
        Assert.Equal("Root", f2.S("Role"));
        Assert.StartsWith("root-", ((FileInfo)f2.BaseObject).Name, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ pipeline binding

    [Fact]
    public void ExportCertificateChainReadsPipedPathStringsAndPSPathObjects()
    {
        // -LiteralPath says it binds PSPath by property name, but -InputObject took every piped object and refused it.
        using var tmp = new TempDir();
        string pem = tmp.Write("chain.pem", Pki.ChainPem());
        string dest = tmp.File("out");
        PsResult r = _ps.Run("""
            $args[0] | Export-CertificateChain -Destination $args[1] -Format PemBundle
            [pscustomobject]@{ PSPath = $args[2] } | Export-CertificateChain -Destination $args[1] -Format P7b
            [IO.DirectoryInfo]::new($args[1]) | Export-CertificateChain -Destination $args[1] -Format P7b
            """, System.IO.Path.Combine(tmp.Path, "ch*.pem"), dest, pem);
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { "chain-" }, r.Output.Select(o => ((FileInfo)o.BaseObject).Name.Substring(0, 6)).Distinct());
        Assert.Equal(new[] { ".pem", ".p7b" }, r.Output.Select(o => ((FileInfo)o.BaseObject).Extension));
        Assert.Equal("PathIsFolder", Assert.Single(r.ErrorIds));
    }

    // ------------------------------------------------------------------ New-PfxFromPem from files

    [Fact]
    public void NewPfxFromPemTakesTheTenantsP7bAsChainPath()
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
    public void NewPfxFromPemReportsAMissingFileOnce()
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

    [Fact]
    public void NewPfxFromPemHelpExample6HoldsForAnExistingFile()
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

    // ------------------------------------------------------------------ odd JSON

    [Theory]
    [InlineData("{\"certificate\": 12, \"key\": \"x\"}", "PemNoCertificate", "'certificate' is a JSON integer")]
    [InlineData("{\"certificate\": [\"a\"]}", "PemNoCertificate", "'certificate' is a JSON array")]
    [InlineData("{\"oauth\": {\"certificate\": {\"pem\": \"-----BEGIN CERTIFICATE-----\"}}}", "PemNoCertificate", "'certificate' is a JSON object")]
    [InlineData("{\"certificate\": \"CERT\", \"privateKey\": true}", "PemNoPrivateKey", "'privateKey' is a JSON boolean")]
    public void PemFieldsOfTheWrongJsonTypeAreNamedAsSuch(string json, string id, string message)
    {
        string doc = json.Replace("\"CERT\"", TestPki.JsonString(Pki.ChainPem()));
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", doc);
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal(id, r.ErrorIds[0]);
        Assert.Contains(message, e.Exception.Message);
    }
}
