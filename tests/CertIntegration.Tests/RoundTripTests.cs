using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// bundle → every export form → Import-CertificateBundle gives back the same certificates (thumbprints) and the same
/// key, through the real engine.
/// </summary>
public class RoundTripTests
{
    private static readonly TestPki Pki = TestPki.Default;

    private static HashSet<string> ChainThumbprints => Pki.Chain.Select(i => i.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static (PsEngine Ps, TempDir Tmp, string Key) Setup()
    {
        var tmp = new TempDir();
        string key = tmp.Write("cpi-cert-key.json", Pki.ServiceKeyJson());
        var ps = new PsEngine();
        ps.SetVariable("pw", PsEngine.Secure("Rund-Trip_2026"));
        return (ps, tmp, key);
    }

    [Theory]
    [InlineData("Base64")]
    [InlineData("Der")]
    [InlineData("Pem")]
    [InlineData("PemBundle")]
    [InlineData("SingleLine")]
    [InlineData("P7b")]
    public void EveryCertificateFormatImportsBackToTheSameCertificates(string format)
    {
        var (ps, tmp, key) = Setup();
        using (ps)
        using (tmp)
        {
            string outDir = Path.Combine(tmp.Path, "out");
            PsResult r = ps.Run(
                "ConvertFrom-ServiceKey -LiteralPath $args[0] | Export-CertificateChain -Destination $args[1] -Format $args[2] | Import-CertificateBundle",
                key, outDir, format);
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);
            List<BundleView> bundles = BundleView.From(r);
            Assert.NotEmpty(bundles);
            var seen = bundles.SelectMany(b => b.Chain).Select(c => c.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
            Assert.True(ChainThumbprints.SetEquals(seen), $"{format}: imported {string.Join(",", seen)}");
            Assert.All(bundles, b => Assert.False(b.HasPrivateKey));

            // Files with the whole chain come back as one bundle with the chain in order.
            if (format is "PemBundle" or "P7b")
            {
                BundleView b = Assert.Single(bundles);
                Assert.Equal(Pki.Chain.Select(i => i.Thumbprint), b.Chain.Select(c => c.Thumbprint), StringComparer.OrdinalIgnoreCase);
            }
        }
    }

    [Theory]
    [InlineData("Pkcs8", false)]
    [InlineData("Pkcs1", false)]
    [InlineData("Pkcs8", true)]
    public void ExportedKeyAndChainImportBackAsTheSameKeyedBundle(string keyFormat, bool encrypted)
    {
        var (ps, tmp, key) = Setup();
        using (ps)
        using (tmp)
        {
            string keyFile = tmp.File("key.key");
            string pwArg = encrypted ? " -Password $pw" : string.Empty;
            PsResult r = ps.Run(
                "$b = ConvertFrom-ServiceKey -LiteralPath $args[0]; " +
                $"$null = $b | Export-PrivateKey -OutFile $args[1] -Format $args[2]{pwArg}; " +
                "$null = $b | Export-CertificateChain -Destination $args[3] -Format PemBundle",
                key, keyFile, keyFormat, tmp.Path);
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);

            // One file with chain and key, as Postman's users often keep them.
            string pemBundle = Directory.GetFiles(tmp.Path, "chain-*.pem").Single();
            string combined = tmp.Write("combined.pem", File.ReadAllText(pemBundle) + File.ReadAllText(keyFile));
            PsResult imported = ps.Run($"Import-CertificateBundle -LiteralPath $args[0]{pwArg}", combined);
            Assert.Empty(imported.Errors);
            BundleView b = Assert.Single(BundleView.From(imported));
            Assert.True(b.HasPrivateKey, "the key must pair with the leaf again, so it is the same key");
            Assert.Equal(Pki.Leaf.Thumbprint, b.Thumbprint, StringComparer.OrdinalIgnoreCase);
            Assert.Equal(3, b.ChainLength);
        }
    }

    [Theory]
    [InlineData("TripleDesSha1")]
    [InlineData("Aes256Sha256")]
    public void PfxImportsBackWithKeyAndChain_AndExportsThroughPath(string encryption)
    {
        var (ps, tmp, key) = Setup();
        using (ps)
        using (tmp)
        {
            string pfx = tmp.File("client.pfx");
            PsResult r = ps.Run(
                "$null = ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw -Encryption $args[2]; " +
                "Import-CertificateBundle -LiteralPath $args[1] -Password $pw",
                key, pfx, encryption);
            Assert.Empty(r.Errors);
            BundleView b = Assert.Single(BundleView.From(r));
            Assert.True(b.HasPrivateKey);
            Assert.Equal(Pki.Chain.Select(i => i.Thumbprint), b.Chain.Select(c => c.Thumbprint), StringComparer.OrdinalIgnoreCase);

            // Export-CertificateChain -Path reads the PFX itself.
            string outDir = Path.Combine(tmp.Path, "strust");
            PsResult e = ps.Run("Export-CertificateChain -LiteralPath $args[0] -Password $pw -Destination $args[1]", pfx, outDir);
            Assert.Empty(e.Errors);
            Assert.Equal(3, e.Output.Count);
            var written = Directory.GetFiles(outDir).Select(f => X509CertificateLoader.LoadCertificateFromFile(f).Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
            Assert.True(ChainThumbprints.SetEquals(written));

            // Wrong password: a categorised error, nothing written.
            string outDir2 = Path.Combine(tmp.Path, "wrong");
            ps.SetVariable("bad", PsEngine.Secure("not-the-password"));
            PsResult w = ps.Run("Export-CertificateChain -LiteralPath $args[0] -Password $bad -Destination $args[1]", pfx, outDir2);
            Assert.Contains("Pkcs12PasswordIncorrect", w.ErrorIds);
            Assert.False(Directory.Exists(outDir2) && Directory.GetFiles(outDir2).Length > 0);
        }
    }
}
