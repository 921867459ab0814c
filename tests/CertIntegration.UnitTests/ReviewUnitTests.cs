using System.Diagnostics;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>Defects found in review of issues 2 and 3 (work bounds on crafted input); each test failed before its fix.</summary>
public class ReviewUnitTests
{
    private static readonly Lazy<AsymmetricCipherKeyPair> Signer = new(() => TestPki.NewKeys(TestPki.KeyKind.Rsa2048));
    private static readonly Lazy<AsymmetricCipherKeyPair> Other = new(() => TestPki.NewKeys(TestPki.KeyKind.Rsa2048));
    private static readonly Lazy<AsymmetricCipherKeyPair> EcSigner = new(() => TestPki.NewKeys(TestPki.KeyKind.EcP256));

    /// <summary>
    /// Certificates in two groups, subject A issued by B and subject B issued by A, none self-issued, all signed by a key
    /// that none of them holds: every certificate names every certificate of the other group as a possible issuer and no
    /// signature ever verifies.
    /// </summary>
    private static List<X509Certificate> CrossNamed(int count, AsymmetricKeyParameter publicKey)
    {
        var factory = new Asn1SignatureFactory("SHA256WITHRSA", Signer.Value.Private);
        var certs = new List<X509Certificate>(count);
        for (int i = 0; i < count; i++)
        {
            var g = new X509V3CertificateGenerator();
            g.SetSerialNumber(BigInteger.ValueOf(i + 1));
            bool a = i % 2 == 0;
            g.SetSubjectDN(new X509Name(a ? "CN=A" : "CN=B"));
            g.SetIssuerDN(new X509Name(a ? "CN=B" : "CN=A"));
            g.SetNotBefore(DateTime.UtcNow.AddDays(-1));
            g.SetNotAfter(DateTime.UtcNow.AddDays(1));
            g.SetPublicKey(publicKey);
            certs.Add(g.Generate(factory));
        }

        return certs;
    }

    [Fact]
    public void ChainBuilderBoundsSignatureChecksOnCraftedCrossNamedCertificates()
    {
        // 400 such certificates took 27 s (80,000 failed signature checks); 5,000 (a 5 MB PEM, within every input
        // limit) would take over an hour. The bound makes it linear.
        List<X509Certificate> certs = CrossNamed(400, Other.Value.Public);
        var sw = Stopwatch.StartNew();
        List<ChainBuilder.Chain> chains = ChainBuilder.Build(certs, Array.Empty<PrivateKeyMaterial>(), out _);
        sw.Stop();
        Assert.True(sw.Elapsed < ChainBuilder.VerifyTimeBudget + TimeSpan.FromSeconds(5), $"ChainBuilder took {sw.Elapsed} for 400 crafted certificates");
        Assert.Equal(400, chains.SelectMany(c => c.Certificates).Distinct().Count());
    }

    [Fact]
    public void ChainBuilderPairsManyKeysWithoutDecodingEveryCertificatePerKey()
    {
        // 1,000 self-issued certificates and 1,000 keys that match none of them: the key loop re-encoded the certificate's
        // and the key's public key for every pair (a million pairs took 19 s; 2,500 of each, within the PEM block
        // limit, about 2 minutes). Keys now meet certificates through one encoding each.
        var factory = new Asn1SignatureFactory("SHA256WITHECDSA", EcSigner.Value.Private);
        var certs = new List<X509Certificate>();
        for (int i = 0; i < 1000; i++)
        {
            var g = new X509V3CertificateGenerator();
            g.SetSerialNumber(BigInteger.ValueOf(i + 1));
            g.SetSubjectDN(new X509Name("CN=Self " + i));
            g.SetIssuerDN(new X509Name("CN=Self " + i));
            g.SetNotBefore(DateTime.UtcNow.AddDays(-1));
            g.SetNotAfter(DateTime.UtcNow.AddDays(1));
            g.SetPublicKey(Other.Value.Public);
            certs.Add(g.Generate(factory));
        }

        var keys = Enumerable.Range(0, 1000).Select(_ => new PrivateKeyMaterial(EcSigner.Value.Private)).ToList();
        var sw = Stopwatch.StartNew();
        ChainBuilder.Build(certs, keys, out List<PrivateKeyMaterial> unmatched);
        sw.Stop();
        Assert.Equal(1000, unmatched.Count);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"ChainBuilder took {sw.Elapsed} for 1,000 keys and 1,000 certificates");
    }

    [Fact]
    public void KeysStillPairWithTheirCertificates()
    {
        TestPki pki = TestPki.Default;
        var chains = ChainBuilder.Build(
            new[] { pki.Root.Certificate, pki.Leaf.Certificate, pki.Intermediate.Certificate },
            new[] { new PrivateKeyMaterial(pki.Leaf.Keys.Private) }, out var unmatched);
        Assert.Empty(unmatched);
        ChainBuilder.Chain c = Assert.Single(chains);
        Assert.NotNull(c.Key);
        Assert.Equal(new[] { pki.Leaf.Certificate, pki.Intermediate.Certificate, pki.Root.Certificate }, c.Certificates);
        Assert.True(new PrivateKeyMaterial(pki.Leaf.Keys.Private).Matches(pki.Leaf.Certificate));
        Assert.False(new PrivateKeyMaterial(pki.Leaf.Keys.Private).Matches(pki.Root.Certificate));
    }
}
