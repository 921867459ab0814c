using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Xunit;

namespace CertIntegration.UnitTests;

public class CertificateExportTests
{
    private static readonly TestPki Pki = TestPki.Default;

    private static X509Certificate2 X(Issued i) => X509CertificateLoader.LoadCertificate(i.Der);

    [Fact]
    public void Roles_FollowPositionAndSelfSignature()
    {
        Assert.Equal(
            new[] { CertificateRole.Leaf, CertificateRole.Intermediate, CertificateRole.Root },
            CertificateExport.Roles(new[] { X(Pki.Leaf), X(Pki.Intermediate), X(Pki.Root) }));
        Assert.Equal(
            new[] { CertificateRole.Leaf, CertificateRole.Intermediate },
            CertificateExport.Roles(new[] { X(Pki.Leaf), X(Pki.Intermediate) }));
        Assert.Equal(new[] { CertificateRole.Root }, CertificateExport.Roles(new[] { X(Pki.Root) }));
        Assert.Equal(new[] { CertificateRole.Leaf }, CertificateExport.Roles(new[] { X(Pki.Leaf) }));
        Assert.Equal(new[] { CertificateRole.Leaf }, CertificateExport.Roles(new[] { X(Pki.Intermediate) }));
    }

    [Fact]
    public void SelfIssuedButSignedByAnotherKey_IsNotARoot()
    {
        // A re-keyed CA's cross certificate: subject and issuer are the same name, the signature is the old key's.
        Issued oldRoot = TestPki.IssueCa("CN=Same Name CA,O=Tests", null);
        Issued cross = TestPki.Issue("CN=Same Name CA,O=Tests", oldRoot, TestPki.NewKeys(TestPki.KeyKind.EcP256), ca: true, eku: null);
        Assert.True(CertificateExport.IsSelfSigned(X(oldRoot)));
        Assert.False(CertificateExport.IsSelfSigned(X(cross)));
        Assert.Equal(new[] { CertificateRole.Leaf, CertificateRole.Intermediate }, CertificateExport.Roles(new[] { X(Pki.Leaf), X(cross) }));
    }

    [Fact]
    public void Base64Cer_IsCrlfArmourWith64CharacterLines()
    {
        string text = System.Text.Encoding.ASCII.GetString(CertificateExport.ToBase64Cer(Pki.Root.Der));
        Assert.Equal(Pki.Root.CertificatePem.Replace("\n", "\r\n"), text);
        Assert.All(text.Split("\r\n"), l => Assert.True(l.Length <= 64));
    }

    [Fact]
    public void SingleLine_IsReadBackByPemText()
    {
        string line = CertificateExport.ToSingleLine(Pki.Leaf.Der);
        Assert.DoesNotContain("\n", line);
        Assert.DoesNotContain("\r", line);
        PemContents back = PemText.Read(line + " " + CertificateExport.ToSingleLine(Pki.Root.Der), "test");
        Assert.Equal(new[] { Pki.Leaf.Der, Pki.Root.Der }, back.Certificates.Select(c => c.GetEncoded()));
    }

    [Fact]
    public void P7b_KeepsChainOrder_AndHasNoSigners()
    {
        byte[] p7b = CertificateExport.ToP7b(new[] { Pki.Leaf.Der, Pki.Intermediate.Der, Pki.Root.Der });
        var cms = new Org.BouncyCastle.Cms.CmsSignedData(p7b);
        Assert.Empty(cms.GetSignerInfos().GetSigners());
        Assert.Null(cms.SignedContent);
        Assert.Equal(new[] { Pki.Leaf.Der, Pki.Intermediate.Der, Pki.Root.Der }, cms.GetCertificates().EnumerateMatches(null).Select(c => c.GetEncoded()));
        Assert.Throws<ArgumentException>(() => CertificateExport.ToP7b(Array.Empty<byte[]>()));
    }

    [Fact]
    public void KeyToPem_RefusesWeakOrImpossibleCombinations()
    {
        var rsa = new PrivateKeyMaterial(Pki.Leaf.Keys.Private);
        var ex = Assert.Throws<CertIntegrationException>(() => CertificateExport.KeyToPem(rsa, PrivateKeyFormat.Pkcs1, "pw".ToCharArray()));
        Assert.Equal(ErrorIds.PasswordWithPkcs1, ex.ErrorId);
        Assert.Throws<ArgumentOutOfRangeException>(() => CertificateExport.KeyToPem(rsa, PrivateKeyFormat.Pkcs8, "pw".ToCharArray(), 1000, null));

        var gen = new Ed25519KeyPairGenerator();
        gen.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var ed = new PrivateKeyMaterial(gen.GenerateKeyPair().Private);
        var ex2 = Assert.Throws<CertIntegrationException>(() => CertificateExport.KeyToPem(ed, PrivateKeyFormat.Pkcs1));
        Assert.Equal(ErrorIds.PrivateKeyFormatUnsupported, ex2.ErrorId);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", CertificateExport.KeyToPem(ed, PrivateKeyFormat.Pkcs8));
        string enc = CertificateExport.KeyToPem(ed, PrivateKeyFormat.Pkcs8, "pw".ToCharArray());
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", enc);
        PemContents back = PemText.Read(enc, "test", () => PasswordChars.FromChars("pw".ToCharArray()));
        Assert.IsType<Ed25519PrivateKeyParameters>(Assert.Single(back.Keys).Key);
    }

    [Fact]
    public void EncryptedKey_TwoExportsDifferInSaltAndIv()
    {
        var rsa = new PrivateKeyMaterial(Pki.Leaf.Keys.Private);
        Assert.NotEqual(
            CertificateExport.KeyToPem(rsa, PrivateKeyFormat.Pkcs8, "pw".ToCharArray()),
            CertificateExport.KeyToPem(rsa, PrivateKeyFormat.Pkcs8, "pw".ToCharArray()));
    }
}
