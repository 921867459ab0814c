using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// A key block that cannot be read does not hide the certificates beside it: Import-CertificateBundle reads them and
/// warns that the key was left out. A wrong password is still an error.
/// </summary>
public class ImportLeftOutKeyTests
{
    [SkippableTheory]
    [InlineData("cryptography.io.with_garbage.pem", 1, "PrivateKeyMalformed")]
    [InlineData("cryptography.io.chain_with_garbage.pem", 2, "PrivateKeyMalformed")]
    [InlineData("cryptography.io.with_headers.pem", 1, "PrivateKeyPasswordRequired")]
    public void CorpusFilesWithDecoyOrLockedKeysGiveTheirCertificates(string file, int chainCertificates, string warningId)
    {
        Skip.If(Repo.Corpora is null, "../shared/corpora is absent");
        string path = Path.Combine(Repo.Corpora!, "pyca-cryptography", "x509", file);
        using var ps = new PsEngine();
        PsResult r = ps.Run("Import-CertificateBundle -LiteralPath $args[0]", path);
        Assert.Empty(r.Errors);
        List<BundleView> bundles = BundleView.From(r);
        Assert.Equal(chainCertificates, bundles.Sum(b => b.ChainLength));
        Assert.All(bundles, b => Assert.False(b.HasPrivateKey));
        Assert.Contains(r.Warnings, w => w.Contains(warningId, StringComparison.Ordinal));
    }

    [Fact]
    public void EncryptedKeyWithoutPasswordWarns_WrongPasswordFails_RightPasswordPairs()
    {
        var pki = TestPki.Default;
        using var tmp = new TempDir();
        string keyPem;
        {
            // The key encrypted by our own exporter, then stored with its chain in one file.
            string serviceKey = tmp.Write("key.json", pki.ServiceKeyJson());
            using var prep = new PsEngine();
            prep.SetVariable("pw", PsEngine.Secure("right-one"));
            PsResult e = prep.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | Export-PrivateKey -OutFile $args[1] -Password $pw", serviceKey, tmp.File("enc.key"));
            Assert.Empty(e.Errors);
            keyPem = File.ReadAllText(tmp.File("enc.key"));
        }

        string combined = tmp.Write("chain-and-key.pem", pki.ChainPem() + keyPem);
        using var ps = new PsEngine();

        PsResult none = ps.Run("Import-CertificateBundle -LiteralPath $args[0]", combined);
        Assert.Empty(none.Errors);
        Assert.False(Assert.Single(BundleView.From(none)).HasPrivateKey);
        Assert.Contains(none.Warnings, w => w.Contains("PrivateKeyPasswordRequired", StringComparison.Ordinal));

        ps.SetVariable("bad", PsEngine.Secure("wrong-one"));
        PsResult wrong = ps.Run("Import-CertificateBundle -LiteralPath $args[0] -Password $bad", combined);
        Assert.Equal(new[] { "PrivateKeyPasswordIncorrect" }, wrong.ErrorIds);
        Assert.Empty(BundleView.From(wrong));

        ps.SetVariable("good", PsEngine.Secure("right-one"));
        PsResult right = ps.Run("Import-CertificateBundle -LiteralPath $args[0] -Password $good", combined);
        Assert.Empty(right.Errors);
        Assert.Empty(right.Warnings);
        Assert.True(Assert.Single(BundleView.From(right)).HasPrivateKey);
    }

    [Fact]
    public void KeysOfOtherCertificatesAreLeftOutWithAWarningAndTheCertificateComesBack()
    {
        var pki = TestPki.Default;
        using var tmp = new TempDir();
        string file = tmp.Write("cert-and-other-keys.pem", pki.Leaf.CertificatePem + pki.Server.KeyPemPkcs8);
        using var ps = new PsEngine();
        PsResult r = ps.Run("Import-CertificateBundle -LiteralPath $args[0]", file);
        Assert.Empty(r.Errors);
        BundleView b = Assert.Single(BundleView.From(r));
        Assert.False(b.HasPrivateKey);
        Assert.Contains(r.Warnings, w => w.Contains("belong to none of its certificates", StringComparison.Ordinal) && w.Contains("KeyCertificateMismatch", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void BouncyCastleTestPemGivesItsCertificateAndWarnsOfItsThreeUnrelatedKeys()
    {
        Skip.If(Repo.Corpora is null, "../shared/corpora is absent");
        string path = Path.Combine(Repo.Corpora!, "bc-csharp", "files", "openssl", "test.pem");
        using var ps = new PsEngine();
        ps.SetVariable("pw", PsEngine.Secure("secret"));
        PsResult r = ps.Run("Import-CertificateBundle -LiteralPath $args[0] -Password $pw", path);
        Assert.Empty(r.Errors);
        Assert.False(Assert.Single(BundleView.From(r)).HasPrivateKey);
        Assert.Contains(r.Warnings, w => w.Contains("3 private key(s)", StringComparison.Ordinal) && w.Contains("KeyCertificateMismatch", StringComparison.Ordinal));
    }
}
