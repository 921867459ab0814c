using System.Management.Automation;
using System.Text;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// ConvertFrom-ServiceKey through the real engine: every input shape, JSON shape, PEM damage, chain order, key format
/// and error the issue lists, with the pipeline going on after each error and no key material ever printed.
/// </summary>
public class ServiceKeyTests : IClassFixture<EngineFixture>
{
    private const string ClientSecret = "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab$Zm9vYmFyYmF6cXV4";

    private static readonly Lazy<Issued> OtherRsaLeaf = new(() =>
        TestPki.IssueLeaf("CN=Other Client,OU=Tests,O=CertIntegration Tests,C=DE", TestPki.Default.Intermediate));

    private static readonly Lazy<Issued> EcLeaf = new(() =>
        TestPki.IssueLeaf("CN=EC Client,OU=Tests,O=CertIntegration Tests,C=DE", TestPki.Default.Intermediate, TestPki.KeyKind.EcP256));

    // A fourth level: Root -> Intermediate -> Sub CA (EC) -> leaf (EC), for chains of length 4.
    private static readonly Lazy<(Issued Sub, Issued Leaf)> Deep = new(() =>
    {
        Issued sub = TestPki.IssueCa("CN=CertIntegration Test Sub CA,O=CertIntegration Tests,C=DE", TestPki.Default.Intermediate, rsa: false);
        Issued leaf = TestPki.IssueLeaf("CN=Deep Client,OU=Tests,O=CertIntegration Tests,C=DE", sub, TestPki.KeyKind.EcP256);
        return (sub, leaf);
    });

    private readonly PsEngine _ps;

    public ServiceKeyTests(EngineFixture fixture) => _ps = fixture.Engine;

    private static TestPki Pki => TestPki.Default;

    private static string ClientSecretJson => """
        {
          "oauth": {
            "clientid": "sb-1a2b3c4d!b1234|it-rt-tenant!b5678",
            "clientsecret": "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab$Zm9vYmFyYmF6cXV4",
            "url": "https://tenant.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com",
            "tokenurl": "https://tenant.authentication.eu10.hana.ondemand.com/oauth/token"
          }
        }
        """;

    private static string KeyFor(Issued leaf, string certificate, string shape = "oauth") =>
        Pki.ServiceKeyJson(shape, certificate: certificate, key: leaf.KeyPemTraditional);

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

    private static void AssertDefaultBundle(PSObject b)
    {
        Assert.Equal(Pki.Leaf.Thumbprint, b.S("Thumbprint"));
        Assert.True((bool)b.P("HasPrivateKey")!);
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, Pki.Intermediate.Thumbprint, Pki.Root.Thumbprint }, b.ChainThumbprints());
    }

    // ---------------------------------------------------------------- input shapes

    [Fact]
    public void PathWithWildcardsReadsEveryMatchingFile()
    {
        using var tmp = new TempDir();
        tmp.Write("cpi-a.json", Pki.ServiceKeyJson());
        tmp.Write("cpi-b.json", KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root)));
        tmp.Write("notes.txt", "not a service key");
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], 'cpi-*.json'))", tmp.Path);
        r.AssertClean();
        var bundles = r.Bundles();
        Assert.Equal(2, bundles.Count);
        Assert.Equal(new[] { tmp.File("cpi-a.json"), tmp.File("cpi-b.json") }, bundles.Select(b => b.S("Source")).OrderBy(s => s, StringComparer.Ordinal));
        Assert.Contains(bundles, b => b.S("Thumbprint") == OtherRsaLeaf.Value.Thumbprint);
        AssertDefaultBundle(bundles.Single(b => b.S("Source") == tmp.File("cpi-a.json")));
    }

    [Fact]
    public void PositionalPathIsTheIssuesExample()
    {
        using var tmp = new TempDir();
        tmp.Write("cpi-cert-key.json", Pki.ServiceKeyJson());
        PsResult r = _ps.Run("$here = $PWD.Path; $ExecutionContext.SessionState.Path.SetLocation($args[0]) | Out-Null; try { ConvertFrom-ServiceKey .\\cpi-cert-key.json } finally { $ExecutionContext.SessionState.Path.SetLocation($here) | Out-Null }", tmp.Path);
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    [Fact]
    public void FilesInEveryEncodingAndWithCfPreambleOrTwoDocuments()
    {
        using var tmp = new TempDir();
        string json = Pki.ServiceKeyJson();
        tmp.Write("utf16.json", System.Text.Encoding.Unicode.GetPreamble().Concat(System.Text.Encoding.Unicode.GetBytes(json)).ToArray());
        tmp.Write("utf8bom.json", System.Text.Encoding.UTF8.GetPreamble().Concat(System.Text.Encoding.UTF8.GetBytes(json)).ToArray());
        tmp.Write("cf.txt", "Getting key cpi-key for service instance cpi as admin@example.com...\n\n" + Pki.ServiceKeyJson("credentials"));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], '*'))", tmp.Path);
        r.AssertClean();
        Assert.Equal(3, r.Bundles().Count);
        Assert.All(r.Bundles(), AssertDefaultBundle);

        using var two = new TempDir();
        string both = two.Write("two.json", json + "\n" + KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root)));
        PsResult t = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", both);
        t.AssertClean();
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, OtherRsaLeaf.Value.Thumbprint }, t.Bundles().Select(b => b.S("Thumbprint")));
    }

    [Fact]
    public void FolderIsAnErrorForPathAndForPipedFolderObjects()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File("sub"));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", tmp.File("sub"));
        Assert.Equal("PathIsFolder", Assert.Single(r.ErrorIds));
        PsResult p = _ps.Run("$ExecutionContext.InvokeProvider.ChildItem.Get($args[0], $false) | ConvertFrom-ServiceKey", tmp.Path);
        Assert.Equal("PathIsFolder", Assert.Single(p.ErrorIds));
        Assert.Empty(p.Bundles());
    }

    [Fact]
    public void PathThatMatchesNothingIsAnErrorNotSilence()
    {
        using var tmp = new TempDir();
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], 'missing.json'))", tmp.Path);
        Assert.Empty(r.Bundles());
        Assert.Equal("FileNotFound", Assert.Single(r.ErrorIds));
    }

    [Fact]
    public void LiteralPathTakesBracketsLiterally()
    {
        using var tmp = new TempDir();
        string file = tmp.Write("cpi[1].json", Pki.ServiceKeyJson());
        string decoy = tmp.Write("cpi1.json", KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root)));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", file);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        Assert.Equal(file, b.S("Source"));

        // The same name through -Path is a wildcard pattern: [1] matches the character 1.
        PsResult w = _ps.Run("ConvertFrom-ServiceKey -Path $args[0]", file);
        w.AssertClean();
        var wb = Assert.Single(w.Bundles());
        Assert.Equal(decoy, wb.S("Source"));
        Assert.Equal(OtherRsaLeaf.Value.Thumbprint, wb.S("Thumbprint"));
    }

    [Fact]
    public void GetChildItemOutputBindsByProperty()
    {
        using var tmp = new TempDir();
        tmp.Write("one.json", Pki.ServiceKeyJson());
        tmp.Write("two[x].json", KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root), "credentials"));
        // The test engine has no Get-ChildItem (Microsoft.PowerShell.Management); the provider call behind it gives
        // the same objects: FileInfo with PSPath, PSParentPath, ... note properties.
        PsResult r = _ps.Run("$ExecutionContext.InvokeProvider.ChildItem.Get($args[0], $false) | Where-Object Name -like '*.json' | ConvertFrom-ServiceKey", tmp.Path);
        r.AssertClean();
        var bundles = r.Bundles();
        Assert.Equal(2, bundles.Count);
        Assert.Equal(new[] { tmp.File("one.json"), tmp.File("two[x].json") }, bundles.Select(b => b.S("Source")).OrderBy(s => s, StringComparer.Ordinal));
    }

    [Fact]
    public void PlainFileInfoObjectsArePipedToo()
    {
        using var tmp = new TempDir();
        tmp.Write("one.json", Pki.ServiceKeyJson());
        PsResult r = _ps.Run("([System.IO.DirectoryInfo]::new($args[0])).GetFiles('*.json') | ConvertFrom-ServiceKey", tmp.Path);
        r.AssertClean();
        Assert.Equal(tmp.File("one.json"), Assert.Single(r.Bundles()).S("Source"));
    }

    [Fact]
    public void PipedPathObjectsBindByPropertyName()
    {
        using var tmp = new TempDir();
        string file = tmp.Write("k.json", Pki.ServiceKeyJson());
        PsResult r = _ps.Run("[pscustomobject]@{ PSPath = $args[0] } | ConvertFrom-ServiceKey", file);
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    [Fact]
    public void WholeJsonTextFromPipelineAndFromParameter()
    {
        string json = Pki.ServiceKeyJson();
        PsResult piped = _ps.Run("$args[0] | ConvertFrom-ServiceKey", json);
        piped.AssertClean();
        var b = Assert.Single(piped.Bundles());
        AssertDefaultBundle(b);
        Assert.True(string.IsNullOrEmpty(b.S("Source")));

        PsResult param = _ps.Run("ConvertFrom-ServiceKey -InputObject $args[0]", json);
        param.AssertClean();
        AssertDefaultBundle(Assert.Single(param.Bundles()));
    }

    [Fact]
    public void WholeDocumentsPipedOneByOneGiveOneBundleEach()
    {
        Issued other = OtherRsaLeaf.Value;
        Issued ec = EcLeaf.Value;
        string[] docs =
        {
            Pki.ServiceKeyJson(),
            KeyFor(other, Pki.ChainPem(other, Pki.Intermediate, Pki.Root), "credentials"),
            // compact, one line, as ConvertTo-Json -Compress or a cockpit copy gives it
            KeyFor(ec, Pki.ChainPem(ec, Pki.Intermediate, Pki.Root), "root").Replace("\n", string.Empty),
        };
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", (object)docs);
        r.AssertClean();
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, other.Thumbprint, ec.Thumbprint }, r.Bundles().Select(b => b.S("Thumbprint")));
    }

    [Theory]
    [InlineData("credentials", "\n")]
    [InlineData("credentials", "\r\n")]
    [InlineData("oauth", "\n")]
    public void CfServiceKeyOutputPipedLineByLine(string shape, string newline)
    {
        // cf service-key prints a "Getting key ... as ..." line, a blank line, then pretty-printed JSON; PowerShell
        // delivers native command output one line at a time.
        string text = "Getting key cpi-key for service instance cpi as admin@example.com...\n\n" + Pki.ServiceKeyJson(shape);
        string[] lines = text.Replace("\n", newline).Split(newline);
        Assert.True(lines.Length > 8);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", (object)lines);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        Assert.Equal("sb-1a2b3c4d-cert!b1234|it-rt-tenant!b5678", b.S("ClientId"));
    }

    [Fact]
    public void CfOutputAsOneStringAndPreambleBeforeCompactJson()
    {
        string json = Pki.ServiceKeyJson("credentials");
        string preamble = "Getting key cpi-key for service instance cpi as admin@example.com...";

        // (cf service-key cpi cpi-key) -join "`n" | ConvertFrom-ServiceKey
        PsResult joined = _ps.Run("$args[0] | ConvertFrom-ServiceKey", preamble + "\n\n" + json);
        joined.AssertClean();
        AssertDefaultBundle(Assert.Single(joined.Bundles()));

        // The preamble lines, then the JSON on one line: the preamble is not a bad input of its own.
        PsResult compact = _ps.Run("$args[0] | ConvertFrom-ServiceKey", (object)new[] { preamble, string.Empty, json.Replace("\n", string.Empty) });
        compact.AssertClean();
        AssertDefaultBundle(Assert.Single(compact.Bundles()));
    }

    [Fact]
    public void CfLinesThenAWholeDocumentGiveTwoBundles()
    {
        var lines = ("Getting key k for service instance i as me...\n\n" + Pki.ServiceKeyJson("credentials")).Split('\n').ToList();
        lines.Add(KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root)).Replace("\n", string.Empty));
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", (object)lines.ToArray());
        r.AssertClean();
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, OtherRsaLeaf.Value.Thumbprint }.OrderBy(t => t), r.Bundles().Select(b => b.S("Thumbprint")).OrderBy(t => t));
    }

    [Fact]
    public void KeyInsideTheCertificateFieldIsUsed()
    {
        string json = Pki.ServiceKeyJson(certificate: Pki.ChainPem() + Pki.Leaf.KeyPemPkcs8, key: string.Empty);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", json);
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    [Fact]
    public void CfOutputGivenToInputObjectAsAnArrayOfLines()
    {
        string[] lines = ("Getting key cpi-key for service instance cpi as admin@example.com...\n\n" + Pki.ServiceKeyJson("credentials")).Split('\n');
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -InputObject $args[0]", (object)lines);
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    [Fact]
    public void UnsupportedObjectNamesItsType()
    {
        PsResult r = _ps.Run("42 | ConvertFrom-ServiceKey");
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("ServiceKeyUnsupportedInput", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("Int32", e.Exception.Message);
    }

    [Fact]
    public void LinesOfAPrettyPrintedFileAreReadAsOneDocument()
    {
        using var tmp = new TempDir();
        string file = tmp.Write("k.json", Pki.ServiceKeyJson());
        PsResult r = _ps.Run("[System.IO.File]::ReadAllLines($args[0]) | ConvertFrom-ServiceKey", file);
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    [Fact]
    public void PSCustomObjectLikeConvertFromJsonGives()
    {
        PsResult r = _ps.Run("""
            $o = [pscustomobject]@{
                oauth = [pscustomobject]@{
                    clientid    = 'sb-obj!b1|it-rt-tenant!b2'
                    certificate = $args[0]
                    key         = $args[1]
                    url         = 'https://tenant.example.com'
                    tokenurl    = 'https://tenant.example.com/oauth/token'
                }
            }
            $o | ConvertFrom-ServiceKey
            """, Pki.ChainPem(), Pki.Leaf.KeyPemTraditional);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        Assert.Equal("sb-obj!b1|it-rt-tenant!b2", b.S("ClientId"));
        Assert.Equal("https://tenant.example.com", b.S("Url"));
        Assert.Equal("https://tenant.example.com/oauth/token", b.S("TokenUrl"));
    }

    [Fact]
    public void PSCustomObjectWithFieldsAtTheRootAndCredentialsShape()
    {
        PsResult r = _ps.Run("""
            [pscustomobject]@{ clientId = 'root-id'; certificate = $args[0]; privateKey = $args[1] },
            [pscustomobject]@{ credentials = [pscustomobject]@{ clientid = 'cred-id'; certificate = $args[0]; key = $args[1] } } |
                ConvertFrom-ServiceKey
            """, Pki.ChainPem(), Pki.Leaf.KeyPemPkcs8);
        r.AssertClean();
        var bundles = r.Bundles();
        Assert.Equal(2, bundles.Count);
        Assert.Equal(new[] { "root-id", "cred-id" }, bundles.Select(b => b.S("ClientId")));
        Assert.All(bundles, AssertDefaultBundle);
    }

    [Fact]
    public void Hashtable()
    {
        PsResult r = _ps.Run("""
            @{ oauth = @{ clientid = 'sb-ht'; certificate = $args[0]; key = $args[1]; url = 'https://u'; tokenurl = 'https://t' } } |
                ConvertFrom-ServiceKey
            """, Pki.ChainPem(), Pki.Leaf.KeyPemTraditional);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        Assert.Equal("sb-ht", b.S("ClientId"));
        Assert.Equal("https://t", b.S("TokenUrl"));
    }

    // ---------------------------------------------------------------- JSON shapes and field names

    [Theory]
    [InlineData("oauth")]
    [InlineData("credentials")]
    [InlineData("root")]
    public void EveryJsonShapeGivesTheWholeBundle(string shape)
    {
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", Pki.ServiceKeyJson(shape));
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        var leaf = new System.Security.Cryptography.X509Certificates.X509Certificate2(Pki.Leaf.Der);
        Assert.Equal(leaf.Subject, b.S("Subject"));
        Assert.Equal(leaf.Issuer, b.S("Issuer"));
        Assert.Equal(leaf.NotAfter, (DateTime)b.P("NotAfter")!);
        Assert.Equal(Pki.Leaf.Thumbprint, ((System.Security.Cryptography.X509Certificates.X509Certificate2)b.M("GetCertificate")!).Thumbprint);
        Assert.Equal("sb-1a2b3c4d-cert!b1234|it-rt-tenant!b5678", b.S("ClientId"));
        Assert.Equal("https://tenant.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com", b.S("Url"));
        Assert.Equal("https://tenant.authentication.cert.eu10.hana.ondemand.com/oauth/token", b.S("TokenUrl"));
        Assert.Equal("certificate", b.S("KeyType"));
        Assert.Equal(3, (int)b.P("ChainLength")!);
        int days = (int)b.P("DaysRemaining")!;
        Assert.InRange(days, 363, 365);
    }

    [Fact]
    public void CfCliJsonWithCertificateDetailsAndOtherFieldsIsRead()
    {
        string cert = TestPki.JsonString(Pki.ChainPem());
        string key = TestPki.JsonString(Pki.Leaf.KeyPemTraditional);
        string json = "{\"credentials\":{\"certificatedetails\":{\"validity\":365,\"validitytype\":\"DAYS\"},\"clientid\":\"sb-x\",\"certificate\":" + cert
            + ",\"key\":" + key + ",\"tokenurl\":\"https://t\",\"url\":\"https://u\",\"createdate\":\"2025-01-01T00:00:00Z\",\"expireson\":1767225600}}";
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", json);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        Assert.Equal("sb-x", b.S("ClientId"));
    }

    [Theory]
    [InlineData("\"credential-type\": \"x509\",", true, "certificate")]
    [InlineData("\"credential-type\": \"x509\",", false, "certificate_external")]
    [InlineData("\"keytype\": \"Certificate_External\",", false, "certificate_external")]
    [InlineData("\"key-type\": \"certificate\",", true, "certificate")]
    public void KeyTypeIsCertificateOrCertificateExternal(string field, bool withKey, string expected)
    {
        string json = Pki.ServiceKeyJson("credentials", key: withKey ? null : string.Empty).Replace("\"credentials\": {\n", "\"credentials\": {\n" + field + "\n");
        Assert.Contains(field, json);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", json);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        Assert.Equal(expected, b.S("KeyType"));
        Assert.Equal(withKey, (bool)b.P("HasPrivateKey")!);
    }

    [Fact]
    public void FieldNamesAreCaseInsensitive()
    {
        string cert = TestPki.JsonString(Pki.ChainPem());
        string key = TestPki.JsonString(Pki.Leaf.KeyPemTraditional);
        string json = "{\"OAuth\":{\"ClientId\":\"sb-case\",\"CERTIFICATE\":" + cert + ",\"PrivateKey\":" + key
            + ",\"URL\":\"https://u\",\"TokenUrl\":\"https://t\"}}";
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", json);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        Assert.Equal("sb-case", b.S("ClientId"));
        Assert.Equal("https://u", b.S("Url"));
        Assert.Equal("https://t", b.S("TokenUrl"));
    }

    [Theory]
    [InlineData("key", "clientid")]
    [InlineData("privateKey", "clientId")]
    [InlineData("privatekey", "CLIENTID")]
    public void KeyOrPrivateKeyAndClientIdSpellings(string keyField, string clientIdField)
    {
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", Pki.ServiceKeyJson("credentials", keyField: keyField, clientIdField: clientIdField));
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        AssertDefaultBundle(b);
        Assert.Equal("sb-1a2b3c4d-cert!b1234|it-rt-tenant!b5678", b.S("ClientId"));
    }

    // ---------------------------------------------------------------- PEM damage

    public static TheoryData<string> Damages => new()
    {
        "real-newlines", "literal-backslash-n", "literal-backslash-r-n", "doubled-backslash-n", "crlf", "cr-only-is-not-listed-but-crlf-mixed",
        "no-newline-between-end-and-begin", "no-trailing-newline", "surrounding-spaces", "all-on-one-line", "everything-at-once",
    };

    private static string Damage(string pem, string how) => how switch
    {
        "real-newlines" => pem,
        "literal-backslash-n" => pem.Replace("\n", "\\n"),
        "literal-backslash-r-n" => pem.Replace("\n", "\\r\\n"),
        "doubled-backslash-n" => pem.Replace("\n", "\\\\n"),
        "crlf" => pem.Replace("\n", "\r\n"),
        "cr-only-is-not-listed-but-crlf-mixed" => string.Join(string.Empty, pem.Split('\n').Select((l, i) => l + (i % 2 == 0 ? "\r\n" : "\n"))),
        "no-newline-between-end-and-begin" => pem.Replace("-----\n-----BEGIN", "----------BEGIN"),
        "no-trailing-newline" => pem.TrimEnd('\n'),
        "surrounding-spaces" => "  \n " + string.Join("\n", pem.Split('\n').Select(l => "   " + l + " \t")) + "   ",
        "all-on-one-line" => pem.Replace("\n", string.Empty),
        "everything-at-once" => "  " + pem.Replace("-----\n-----BEGIN", "----------BEGIN").TrimEnd('\n').Replace("\n", " \\n  ") + "  ",
        _ => throw new ArgumentOutOfRangeException(nameof(how)),
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void DamagedPemIsRepaired(string how)
    {
        string json = Pki.ServiceKeyJson(certificate: Damage(Pki.ChainPem(), how), key: Damage(Pki.Leaf.KeyPemTraditional, how));
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", json);
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    [Fact]
    public void RawLineBreaksInsideJsonStringsAreTolerated()
    {
        // Hand-edited keys sometimes carry the PEM with real line breaks inside the JSON string.
        string json = "{\n\"oauth\": {\n\"certificate\": \"" + Pki.ChainPem() + "\",\n\"key\": \"" + Pki.Leaf.KeyPemTraditional + "\"\n}\n}";
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", json);
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    // ---------------------------------------------------------------- chains

    private static IEnumerable<T[]> Permutations<T>(T[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (int i = 0; i < items.Length; i++)
        {
            T[] rest = items.Where((_, j) => j != i).ToArray();
            foreach (T[] p in Permutations(rest))
            {
                yield return new[] { items[i] }.Concat(p).ToArray();
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ChainOfAnyLengthInAnyOrderComesOutLeafFirst(int length)
    {
        var (sub, deepLeaf) = Deep.Value;
        Issued[] full = { deepLeaf, sub, Pki.Intermediate, Pki.Root };
        Issued[] chain = full.Take(length).ToArray();
        string[] docs = Permutations(chain)
            .Select(order => Pki.ServiceKeyJson(certificate: Pki.ChainPem(order), key: deepLeaf.KeyPemTraditional).Replace("\n", string.Empty))
            .ToArray();
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", (object)docs);
        r.AssertClean();
        var bundles = r.Bundles();
        Assert.Equal(docs.Length, bundles.Count);
        string[] expected = chain.Select(i => i.Thumbprint).ToArray();
        Assert.All(bundles, b =>
        {
            Assert.Equal(expected, b.ChainThumbprints());
            Assert.Equal(length, (int)b.P("ChainLength")!);
            Assert.True((bool)b.P("HasPrivateKey")!);
        });
    }

    [Fact]
    public void DuplicateCertificatesInTheFieldAreDropped()
    {
        string certs = Pki.ChainPem(Pki.Root, Pki.Leaf, Pki.Intermediate, Pki.Leaf, Pki.Root);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", Pki.ServiceKeyJson(certificate: certs));
        r.AssertClean();
        AssertDefaultBundle(Assert.Single(r.Bundles()));
    }

    // ---------------------------------------------------------------- key formats

    public static TheoryData<string> KeyFormats => new() { "rsa-pkcs1", "rsa-pkcs8", "ec-sec1", "ec-pkcs8" };

    [Theory]
    [MemberData(nameof(KeyFormats))]
    public void KeyFormatsPkcs1Pkcs8AndEc(string format)
    {
        Issued leaf = format.StartsWith("ec", StringComparison.Ordinal) ? EcLeaf.Value : Pki.Leaf;
        string key = format.EndsWith("pkcs8", StringComparison.Ordinal) ? leaf.KeyPemPkcs8 : leaf.KeyPemTraditional;
        Assert.Contains(format switch
        {
            "rsa-pkcs1" => "BEGIN RSA PRIVATE KEY",
            "ec-sec1" => "BEGIN EC PRIVATE KEY",
            _ => "BEGIN PRIVATE KEY",
        }, key);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", Pki.ServiceKeyJson(certificate: Pki.ChainPem(leaf, Pki.Intermediate, Pki.Root), key: key));
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        Assert.Equal(leaf.Thumbprint, b.S("Thumbprint"));
        Assert.True((bool)b.P("HasPrivateKey")!);
        Assert.Equal(3, b.ChainOf().Length);
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public void NotJsonIsServiceKeyNotJson()
    {
        using var tmp = new TempDir();
        string file = tmp.Write("bad.json", "this is not a service key\n");
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", file);
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("ServiceKeyNotJson", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
        Assert.Contains("bad.json", e.Exception.Message);
        Assert.Contains("JSON", e.Exception.Message);
        Assert.Equal(file, e.TargetObject);
    }

    [Fact]
    public void BrokenJsonTextIsServiceKeyNotJson()
    {
        string json = Pki.ServiceKeyJson();
        string broken = json.Substring(0, json.Length / 2);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", broken);
        Assert.Empty(r.Bundles());
        Assert.Equal("ServiceKeyNotJson", Assert.Single(r.ErrorIds));
        EngineTestHelpers.AssertNoSecret(r, Pki.Leaf.KeyPemTraditional);
    }

    [Fact]
    public void ClientSecretKeySaysWhatIsNeeded()
    {
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", ClientSecretJson);
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("ServiceKeyIsClientSecret", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("clientid/clientsecret", e.Exception.Message);
        Assert.Contains("key-type 'certificate'", e.Exception.Message);
        Assert.DoesNotContain("Zm9vYmFyYmF6cXV4", r.AllText);
    }

    [Fact]
    public void BeginLineWithFourDashesIsPemMalformedWithLine()
    {
        // The second certificate's BEGIN line has 4 dashes. In the normalized field the first certificate takes
        // its own lines, so the damage is on the line right after them.
        string bad = Pki.Leaf.CertificatePem + Pki.Intermediate.CertificatePem.Replace("-----BEGIN CERTIFICATE-----", "----BEGIN CERTIFICATE-----") + Pki.Root.CertificatePem;
        int expectedLine = Pki.Leaf.CertificatePem.TrimEnd('\n').Split('\n').Length + 1;
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", Pki.ServiceKeyJson(certificate: bad));
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("PemMalformed", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
        string msg = e.Exception.Message;
        Assert.Contains("certificate", msg);
        Assert.Contains($"line {expectedLine}", msg);
        Assert.Contains("4 dashes", msg);
        Assert.Contains("BEGIN", msg);
    }

    [Theory]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----", "----BEGIN RSA PRIVATE KEY-----", "4 dashes", false)]
    [InlineData("-----END RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY---", "3 dashes", true)]
    [InlineData("-----END RSA PRIVATE KEY-----", "", "no END line", false)]
    public void DamagedKeyArmourIsPemMalformedAndNamesTheKeyField(string from, string to, string expected, bool atEndLine)
    {
        string key = Pki.Leaf.KeyPemTraditional.Replace(from, to);
        int line = atEndLine ? key.TrimEnd('\n').Split('\n').Length : 1;
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey -Verbose", Pki.ServiceKeyJson(key: key));
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("PemMalformed", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("'key'", e.Exception.Message);
        Assert.Contains($"line {line}:", e.Exception.Message);
        Assert.Contains(expected, e.Exception.Message);
        EngineTestHelpers.AssertNoSecret(r, Pki.Leaf.KeyPemTraditional);
    }

    [Fact]
    public void CorruptBase64InKeyIsAnErrorWithoutKeyMaterial()
    {
        string[] lines = Pki.Leaf.KeyPemTraditional.Split('\n');
        lines[5] = lines[5].Substring(0, 10) + "!!!*" + lines[5].Substring(14);
        string key = string.Join("\n", lines);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey -Verbose", Pki.ServiceKeyJson(key: key));
        Assert.Empty(r.Bundles());
        Assert.Single(r.Errors);
        Assert.Contains(r.ErrorIds[0], new[] { "PemMalformed", "PrivateKeyMalformed" });
        EngineTestHelpers.AssertNoSecret(r, Pki.Leaf.KeyPemTraditional);
    }

    [Fact]
    public void KeyOfAnotherCertificateIsKeyCertificateMismatch()
    {
        string json = Pki.ServiceKeyJson(key: OtherRsaLeaf.Value.KeyPemPkcs8);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey -Verbose", json);
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("KeyCertificateMismatch", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
        Assert.Contains(Pki.Leaf.Thumbprint, e.Exception.Message);
        EngineTestHelpers.AssertNoSecret(r, OtherRsaLeaf.Value.KeyPemPkcs8, Pki.Leaf.KeyPemTraditional);
    }

    [Fact]
    public void KeyOfTheIntermediateIsKeyCertificateMismatch()
    {
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", Pki.ServiceKeyJson(key: Pki.Intermediate.KeyPemPkcs8));
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("KeyCertificateMismatch", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains(Pki.Leaf.Thumbprint, e.Exception.Message);
    }

    [Fact]
    public void GoodBadGoodFilesGiveTwoBundlesAndOneError()
    {
        using var tmp = new TempDir();
        tmp.Write("1-good.json", Pki.ServiceKeyJson());
        tmp.Write("2-bad.json", "{ \"oauth\": ");
        tmp.Write("3-good.json", KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root)));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], '*.json'))", tmp.Path);
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, OtherRsaLeaf.Value.Thumbprint }, r.Bundles().Select(b => b.S("Thumbprint")));
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("ServiceKeyNotJson", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("2-bad.json", e.Exception.Message);
    }

    [Fact]
    public void GoodBadGoodFromGetChildItemGiveTwoBundlesAndOneError()
    {
        using var tmp = new TempDir();
        tmp.Write("1-good.json", Pki.ServiceKeyJson());
        tmp.Write("2-bad.json", ClientSecretJson);
        tmp.Write("3-good.json", KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root)));
        PsResult r = _ps.Run("$ExecutionContext.InvokeProvider.ChildItem.Get($args[0], $false) | ConvertFrom-ServiceKey", tmp.Path);

        Assert.Null(r.Terminating);
        Assert.Equal(2, r.Bundles().Count);
        Assert.Equal("ServiceKeyIsClientSecret", Assert.Single(r.ErrorIds));
    }

    public static TheoryData<string> BadDocuments => new()
    {
        "client-secret", "mismatch", "pem-4-dashes", "not-json-text", "broken-json-object",
    };

    private static string BadDocument(string kind) => kind switch
    {
        "client-secret" => ClientSecretJson,
        "mismatch" => Pki.ServiceKeyJson(key: OtherRsaLeaf.Value.KeyPemTraditional),
        "pem-4-dashes" => Pki.ServiceKeyJson(certificate: Pki.ChainPem().Replace("-----BEGIN CERTIFICATE-----", "----BEGIN CERTIFICATE-----")),
        "not-json-text" => "this is not JSON",
        "broken-json-object" => "{ \"oauth\": { \"certificate\": } }",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void GoodBadGoodPipedTextGivesTwoBundlesAndOneError(string kind)
    {
        string[] docs = { Pki.ServiceKeyJson(), BadDocument(kind), KeyFor(OtherRsaLeaf.Value, Pki.ChainPem(OtherRsaLeaf.Value, Pki.Intermediate, Pki.Root)) };
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey -Verbose", (object)docs);
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, OtherRsaLeaf.Value.Thumbprint }, r.Bundles().Select(b => b.S("Thumbprint")));
        Assert.Single(r.Errors);
        string expectedId = kind switch
        {
            "client-secret" => "ServiceKeyIsClientSecret",
            "mismatch" => "KeyCertificateMismatch",
            "pem-4-dashes" => "PemMalformed",
            _ => "ServiceKeyNotJson",
        };
        Assert.Equal(expectedId, r.ErrorIds[0]);
        EngineTestHelpers.AssertNoSecret(r, Pki.Leaf.KeyPemTraditional, OtherRsaLeaf.Value.KeyPemTraditional);
    }

    [Fact]
    public void GoodBadGoodObjectsGiveTwoBundlesAndOneError()
    {
        PsResult r = _ps.Run("""
            [pscustomobject]@{ oauth = [pscustomobject]@{ certificate = $args[0]; key = $args[1] } },
            @{ oauth = @{ clientid = 'x'; clientsecret = 'y' } },
            @{ certificate = $args[0]; key = $args[1] } | ConvertFrom-ServiceKey
            """, Pki.ChainPem(), Pki.Leaf.KeyPemTraditional);
        Assert.Null(r.Terminating);
        Assert.Equal(2, r.Bundles().Count);
        Assert.Equal("ServiceKeyIsClientSecret", Assert.Single(r.ErrorIds));
    }

    [Fact]
    public void CertificateExternalKeyGivesABundleWithoutKeyAndSaysSoInVerbose()
    {
        string json = Pki.ServiceKeyJson(key: string.Empty);
        Assert.DoesNotContain("\"key\"", json);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey -Verbose", json);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        Assert.False((bool)b.P("HasPrivateKey")!);
        Assert.Equal("certificate_external", b.S("KeyType"));
        Assert.Equal(new[] { Pki.Leaf.Thumbprint, Pki.Intermediate.Thumbprint, Pki.Root.Thumbprint }, b.ChainThumbprints());
        Assert.Contains(r.Verbose, v => v.Contains("certificate_external", StringComparison.Ordinal) && v.Contains("no private key", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void CertificateExternalWithNullKeyFieldIsTheSame()
    {
        string json = "{\"oauth\":{\"clientid\":\"sb-ext\",\"certificate\":" + TestPki.JsonString(Pki.ChainPem()) + ",\"key\":null}}";
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey -Verbose", json);
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        Assert.False((bool)b.P("HasPrivateKey")!);
        Assert.Contains(r.Verbose, v => v.Contains("certificate_external", StringComparison.Ordinal));
    }

    [Fact]
    public void SecretsNeverAppearInOutputVerboseOrErrors()
    {
        // A successful read with -Verbose and -Debug, the bundle formatted as text, and every error kind: none of it
        // may carry key material.
        PsResult ok = _ps.Run("$b = $args[0] | ConvertFrom-ServiceKey -Verbose -Debug; $b; \"$b\"; $b.PSObject.Properties | ForEach-Object { '{0}={1}' -f $_.Name, $_.Value }",
            Pki.ServiceKeyJson());
        Assert.Single(ok.Bundles());
        EngineTestHelpers.AssertNoSecret(ok, Pki.Leaf.KeyPemTraditional);

        string flat = Pki.ServiceKeyJson(key: Pki.Leaf.KeyPemTraditional.Replace("-----END RSA PRIVATE KEY-----", "-----END EC PRIVATE KEY-----"));
        PsResult bad = _ps.Run("$args[0] | ConvertFrom-ServiceKey -Verbose", flat);
        Assert.Single(bad.Errors);
        EngineTestHelpers.AssertNoSecret(bad, Pki.Leaf.KeyPemTraditional);
    }

    // ---------------------------------------------------------------- error targets

    public static TheoryData<string> BadKeyTexts => new() { "mismatch", "malformed-key", "client-secret", "truncated", "lines" };

    [Theory]
    [MemberData(nameof(BadKeyTexts))]
    public void PipedTextErrorsKeepARedactedTargetWithoutTheKey(string kind)
    {
        string key = Pki.Leaf.KeyPemTraditional;
        string json = kind switch
        {
            "mismatch" => Pki.ServiceKeyJson(key: OtherRsaLeaf.Value.KeyPemTraditional),
            "malformed-key" => Pki.ServiceKeyJson(key: key.Replace("-----END RSA PRIVATE KEY-----", "----END RSA PRIVATE KEY-----")),
            "client-secret" => "{\"oauth\":{\"clientid\":\"sb-x!b1|it-rt-t!b2\",\"clientsecret\":\"" + ClientSecret.Replace("$", "\\u0024") + "\",\"url\":\"https://t\"}}",
            "truncated" => Pki.ServiceKeyJson().Substring(0, Pki.ServiceKeyJson().Length - 80),
            _ => Pki.ServiceKeyJson(key: OtherRsaLeaf.Value.KeyPemTraditional),
        };
        string script = kind == "lines" ? "$args[0] -split \"`n\" | ConvertFrom-ServiceKey" : "$args[0] | ConvertFrom-ServiceKey";
        PsResult r = _ps.Run(script, json);
        Assert.Empty(r.Bundles());
        ErrorRecord e = Assert.Single(r.Errors);
        AssertTargetsHoldNoSecret(r, key, OtherRsaLeaf.Value.KeyPemTraditional);

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
            """, Pki.ChainPem(), OtherRsaLeaf.Value.KeyPemTraditional);
        Assert.Equal(new[] { "KeyCertificateMismatch", "KeyCertificateMismatch" }, r.ErrorIds);
        AssertTargetsHoldNoSecret(r, OtherRsaLeaf.Value.KeyPemTraditional);
        Assert.Contains("sb-obj", Convert.ToString(r.Errors[0].TargetObject));
        Assert.Contains("sb-hash", Convert.ToString(r.Errors[1].TargetObject));
    }

    [Fact]
    public void FileInputErrorsStillTargetThePath()
    {
        using var tmp = new TempDir();
        tmp.Write("k.json", Pki.ServiceKeyJson(key: OtherRsaLeaf.Value.KeyPemTraditional));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", tmp.File("k.json"));
        Assert.Equal(tmp.File("k.json"), Assert.Single(r.Errors).TargetObject);
    }

    // ---------------------------------------------------------------- PEM fields of another JSON type

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

    // ---------------------------------------------------------------- dates

    [Theory]
    [Trait("Category", "TimeZone")]
    [InlineData(10.5, 10)]
    [InlineData(0.5, 0)]
    [InlineData(-1.5, -2)]
    public void DaysRemainingAndNotAfterDoNotDependOnTheTimeZone(double daysLeft, int expectedDays)
    {
        DateTime notAfterUtc = DateTime.UtcNow.AddDays(daysLeft);
        notAfterUtc = new DateTime(notAfterUtc.Ticks - (notAfterUtc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        Issued leaf = TestPki.IssueLeaf("CN=Dated Client", Pki.Intermediate, TestPki.KeyKind.EcP256, notAfter: notAfterUtc);
        PsResult r = _ps.Run("$args[0] | ConvertFrom-ServiceKey", Pki.ServiceKeyJson(certificate: Pki.ChainPem(leaf, Pki.Intermediate, Pki.Root), key: leaf.KeyPemPkcs8));
        r.AssertClean();
        var b = Assert.Single(r.Bundles());
        var notAfter = (DateTime)b.P("NotAfter")!;
        Assert.Equal(notAfterUtc, notAfter.ToUniversalTime());
        int days = (int)b.P("DaysRemaining")!;
        Assert.Equal(expectedDays, days);
        Assert.Equal((int)Math.Floor((notAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays), days);
    }
}
