using CertIntegration.TestSupport;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>
/// Private RSA keys are read with BouncyCastle's probabilistic modulus test off (it dominated the time to read a
/// service key) and checked exactly instead: p * q must equal n.
/// </summary>
public class RsaFastPathTests
{
    [Fact]
    public void KeyWhosePrimesDoNotMultiplyToTheModulusIsRefused()
    {
        var a = (RsaPrivateCrtKeyParameters)TestPki.NewKeys(TestPki.KeyKind.Rsa2048).Private;
        var b = (RsaPrivateCrtKeyParameters)TestPki.NewKeys(TestPki.KeyKind.Rsa2048).Private;
        var mixed = new RsaPrivateCrtKeyParameters(a.Modulus, a.PublicExponent, a.Exponent, b.P, b.Q, b.DP, b.DQ, b.QInv);
        string pem = TestPki.ToPem(mixed);
        Assert.Contains("BEGIN RSA PRIVATE KEY", pem);

        var e = Assert.Throws<CertIntegrationException>(() => PemText.Read(pem, "mixed.key"));
        Assert.Equal(ErrorIds.PrivateKeyMalformed, e.ErrorId);
    }

    [Fact]
    public void ConsistentKeyIsReadAndTheTestSwitchIsOnlyForTheRead()
    {
        var pki = TestPki.Default;
        PemContents read = PemText.Read(pki.Leaf.KeyPemTraditional, "leaf.key");
        PrivateKeyMaterial key = Assert.Single(read.Keys);
        Assert.True(key.Matches(pki.Leaf.Certificate));
        Assert.False(key.Matches(pki.Intermediate.Certificate));

        // The thread property is gone again: anything else on this thread keeps BouncyCastle's own checks.
        Assert.Null(Org.BouncyCastle.Utilities.Properties.GetThreadProperty("Org.BouncyCastle.Rsa.MaxMRTests"));
    }
}
