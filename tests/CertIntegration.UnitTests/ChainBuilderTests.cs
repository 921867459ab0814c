using System.Diagnostics;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Xunit;

namespace CertIntegration.UnitTests;

public class ChainBuilderTests
{
    private static readonly Lazy<(Issued Sub, Issued Leaf)> Deep = new(() =>
    {
        Issued sub = TestPki.IssueCa("CN=Unit Sub CA", TestPki.Default.Intermediate, rsa: false);
        return (sub, TestPki.IssueLeaf("CN=Unit Deep Leaf", sub, TestPki.KeyKind.EcP256));
    });

    private static readonly Lazy<Issued> SecondLeaf = new(() =>
        TestPki.IssueLeaf("CN=Unit Second Leaf", TestPki.Default.Intermediate, TestPki.KeyKind.EcP256));

    private static readonly Lazy<AsymmetricCipherKeyPair> Signer = new(() => TestPki.NewKeys(TestPki.KeyKind.Rsa2048));
    private static readonly Lazy<AsymmetricCipherKeyPair> Other = new(() => TestPki.NewKeys(TestPki.KeyKind.Rsa2048));
    private static readonly Lazy<AsymmetricCipherKeyPair> EcSigner = new(() => TestPki.NewKeys(TestPki.KeyKind.EcP256));

    private static TestPki Pki => TestPki.Default;

    private static List<ChainBuilder.Chain> Build(IEnumerable<Issued> certs, params Issued[] keysOf) =>
        ChainBuilder.Build(certs.Select(i => i.Certificate).ToList(), keysOf.Select(k => new PrivateKeyMaterial(k.Keys.Private)).ToList(), out _);

    private static X509Certificate[] Certs(params Issued[] i) => i.Select(x => x.Certificate).ToArray();

    [Fact]
    public void EveryOrderOfAFourLevelChainComesOutLeafFirst()
    {
        var (sub, leaf) = Deep.Value;
        Issued[] chain = { leaf, sub, Pki.Intermediate, Pki.Root };
        var rnd = new Random(42);
        for (int n = 0; n < 30; n++)
        {
            Issued[] shuffled = chain.OrderBy(_ => rnd.Next()).ToArray();
            var chains = Build(shuffled, leaf);
            ChainBuilder.Chain c = Assert.Single(chains);
            Assert.Equal(Certs(chain), c.Certificates);
            Assert.NotNull(c.Key);
        }
    }

    [Fact]
    public void ChainWithoutRootOrWithGapsStopsWhereIssuersRunOut()
    {
        var (sub, leaf) = Deep.Value;
        Assert.Equal(Certs(leaf, sub), Assert.Single(Build(new[] { sub, leaf })).Certificates);

        // Sub CA missing: the leaf stands alone, the intermediate and root form their own chain.
        var gap = Build(new[] { Pki.Root, leaf, Pki.Intermediate });
        Assert.Equal(2, gap.Count);
        Assert.Contains(gap, c => c.Certificates.SequenceEqual(Certs(leaf)));
        Assert.Contains(gap, c => c.Certificates.SequenceEqual(Certs(Pki.Intermediate, Pki.Root)));
    }

    [Fact]
    public void TwoUnrelatedLeavesGiveTwoChainsAndTheKeyPicksOne()
    {
        Issued other = SecondLeaf.Value;
        var chains = Build(new[] { Pki.Root, other, Pki.Intermediate, Pki.Leaf }, other);
        Assert.Equal(2, chains.Count);
        ChainBuilder.Chain withKey = Assert.Single(chains, c => c.Key is not null);
        Assert.Equal(Certs(other, Pki.Intermediate, Pki.Root), withKey.Certificates);
        ChainBuilder.Chain without = Assert.Single(chains, c => c.Key is null);
        Assert.Equal(Certs(Pki.Leaf, Pki.Intermediate, Pki.Root), without.Certificates);
    }

    [Fact]
    public void DuplicatesAreDropped()
    {
        var chains = Build(new[] { Pki.Leaf, Pki.Root, Pki.Leaf, Pki.Intermediate, Pki.Root, Pki.Intermediate });
        Assert.Equal(Certs(Pki.Leaf, Pki.Intermediate, Pki.Root), Assert.Single(chains).Certificates);
        Assert.Equal(3, ChainBuilder.Distinct(Certs(Pki.Leaf, Pki.Leaf, Pki.Root, Pki.Intermediate, Pki.Root)).Count);
    }

    [Fact]
    public void KeysPairWithTheirCertificateAndTheRestAreUnmatched()
    {
        var keys = new List<PrivateKeyMaterial>
        {
            new(SecondLeaf.Value.Keys.Private),
            new(Pki.Leaf.Keys.Private),
        };
        var chains = ChainBuilder.Build(Certs(Pki.Intermediate, Pki.Leaf, Pki.Root), keys, out var unmatched);
        Assert.Same(keys[1], Assert.Single(chains).Key);
        Assert.Same(keys[0], Assert.Single(unmatched));
    }

    [Fact]
    public void AKeyOfACaStartsItsOwnChainAndFirstIssuedByNamesWhatItIssued()
    {
        var chains = Build(new[] { Pki.Leaf, Pki.Intermediate, Pki.Root }, Pki.Intermediate);
        Assert.Equal(2, chains.Count);
        ChainBuilder.Chain ca = Assert.Single(chains, c => c.Key is not null);
        Assert.Equal(Certs(Pki.Intermediate, Pki.Root), ca.Certificates);
        Assert.Equal(Pki.Leaf.Certificate, ChainBuilder.FirstIssuedBy(chains, ca.Leaf));
        ChainBuilder.Chain leaf = Assert.Single(chains, c => c.Key is null);
        Assert.Null(ChainBuilder.FirstIssuedBy(chains, leaf.Leaf));
    }

    /// <summary>Two CA certificates that name each other as issuer, each signed by the other's key.</summary>
    private static (X509Certificate A, X509Certificate B) CrossSignedPair()
    {
        AsymmetricCipherKeyPair ka = TestPki.NewKeys(TestPki.KeyKind.EcP256);
        AsymmetricCipherKeyPair kb = TestPki.NewKeys(TestPki.KeyKind.EcP256);
        X509Certificate Make(string subject, string issuer, AsymmetricCipherKeyPair own, AsymmetricCipherKeyPair signer, int serial)
        {
            var gen = new X509V3CertificateGenerator();
            gen.SetSerialNumber(BigInteger.ValueOf(serial));
            gen.SetSubjectDN(new X509Name(subject));
            gen.SetIssuerDN(new X509Name(issuer));
            gen.SetNotBefore(DateTime.UtcNow.AddDays(-1));
            gen.SetNotAfter(DateTime.UtcNow.AddDays(10));
            gen.SetPublicKey(own.Public);
            gen.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(true));
            return gen.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", signer.Private, new SecureRandom()));
        }

        return (Make("CN=Cycle A", "CN=Cycle B", ka, kb, 7001), Make("CN=Cycle B", "CN=Cycle A", kb, ka, 7002));
    }

    [Fact]
    public async Task IssuingCycleTerminatesAndLosesNothing()
    {
        var (a, b) = CrossSignedPair();
        var task = Task.Run(() => ChainBuilder.Build(new[] { a, b }, Array.Empty<PrivateKeyMaterial>(), out _));
        Assert.True(await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))) == task, "ChainBuilder.Build did not finish on a cycle");
        var chains = await task;
        Assert.NotEmpty(chains);
        var covered = chains.SelectMany(c => c.Certificates).Distinct().ToList();
        Assert.Equal(2, covered.Count);
        Assert.All(chains, c => Assert.Equal(c.Certificates.Count, c.Certificates.Distinct().Count()));
    }

    [Fact]
    public void CycleBelowALeafStillGivesTheLeafFirst()
    {
        var (a, b) = CrossSignedPair();
        var chains = ChainBuilder.Build(new[] { a, Pki.Leaf.Certificate, b }, Array.Empty<PrivateKeyMaterial>(), out _);
        Assert.Contains(chains, c => c.Leaf.Equals(Pki.Leaf.Certificate));
        Assert.Equal(3, chains.SelectMany(c => c.Certificates).Distinct().Count());
    }

    [Fact]
    public void TwoCasWithTheSameNameAreToldApartBySignature()
    {
        // A second "Intermediate" with the same subject but another key: the leaf must chain to the one that signed it.
        Issued impostor = TestPki.Issue(Pki.Intermediate.Certificate.SubjectDN.ToString(), Pki.Root, TestPki.NewKeys(TestPki.KeyKind.EcP256), ca: true, eku: null);
        foreach (var order in new[] { new[] { impostor, Pki.Intermediate }, new[] { Pki.Intermediate, impostor } })
        {
            var chains = Build(new[] { Pki.Leaf }.Concat(order).Append(Pki.Root), Pki.Leaf);
            ChainBuilder.Chain c = Assert.Single(chains, x => x.Key is not null);
            Assert.Equal(Certs(Pki.Leaf, Pki.Intermediate, Pki.Root), c.Certificates);
        }
    }

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
    public void SignatureChecksAreBoundedOnCraftedCrossNamedCertificates()
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
    public void ManyKeysPairWithoutDecodingEveryCertificatePerKey()
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
    public void KeyPairsWithItsCertificateInAnyOrderAndMatchesNoOther()
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

    [Fact]
    public void SelfSignedAloneIsAChainOfOne()
    {
        ChainBuilder.Chain c = Assert.Single(Build(new[] { Pki.Root }));
        Assert.Equal(Certs(Pki.Root), c.Certificates);
        Assert.True(ChainBuilder.IsSelfIssued(Pki.Root.Certificate));
        Assert.False(ChainBuilder.IsSelfIssued(Pki.Leaf.Certificate));
    }

    [Fact]
    public void EmptyInputGivesNoChains()
    {
        Assert.Empty(ChainBuilder.Build(Array.Empty<X509Certificate>(), Array.Empty<PrivateKeyMaterial>(), out var unmatched));
        Assert.Empty(unmatched);
    }
}
