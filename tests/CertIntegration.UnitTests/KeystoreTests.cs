using CertIntegration.Core.Keystores;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Xunit;
using BcContentInfo = Org.BouncyCastle.Asn1.Pkcs.ContentInfo;
using X509Certificate2 = System.Security.Cryptography.X509Certificates.X509Certificate2;

namespace CertIntegration.UnitTests;

/// <summary>The tenant keystore's alias rules, and the keystores KeystoreBuilder and Pkcs12Writer.BuildStore make.</summary>
public class KeystoreTests
{
    private static readonly char[] Password = "store-pw".ToCharArray();

    private static TestPki Pki => TestPki.Default;

    private static X509Certificate2 Net(Issued issued) => new(issued.Der);

    private static CertificateBundle KeyBundle() =>
        new(new[] { Net(Pki.Leaf), Net(Pki.Intermediate), Net(Pki.Root) }, new PrivateKeyMaterial(Pki.Leaf.Keys.Private));

    private static CertificateBundle CertBundle(Issued issued, string? alias = null) => new(new[] { Net(issued) }, null) { Alias = alias };

    [Theory]
    [InlineData("sap_partner", "sap_")]
    [InlineData("SAP_PARTNER", "sap_")]
    [InlineData("Sap_", "sap_")]
    [InlineData("hcicertificate", "hcicertificate")]
    [InlineData("HCICertificate1", "hcicertificate")]
    [InlineData("hcimsgcertificate", "hcimsgcertificate")]
    [InlineData("HciMsgCertificateX", "hcimsgcertificate")]
    public void ReservedPrefixesAreRefusedInAnyCase(string alias, string prefix)
    {
        Assert.Equal(prefix, TenantKeystore.ReservedPrefixOf(alias));
        var ex = Assert.Throws<CertIntegrationException>(() => TenantKeystore.CheckAlias(alias, "-Alias"));
        Assert.Equal(ErrorIds.KeystoreAliasReserved, ex.ErrorId);
        Assert.Contains(prefix, ex.Message);
    }

    [Theory]
    [InlineData("sap")]
    [InlineData("sapx")]
    [InlineData("my_sap_root")]
    [InlineData("hci-certificate")]
    [InlineData("Partner Root")]
    [InlineData("partner.root_2-b")]
    public void OtherAliasesPass(string alias)
    {
        Assert.Null(TenantKeystore.ReservedPrefixOf(alias));
        TenantKeystore.CheckAlias(alias, "-Alias");
    }

    [Fact]
    public void AliasesHaveAtMost250Characters()
    {
        TenantKeystore.CheckAlias(new string('a', 250), "-Alias");
        var ex = Assert.Throws<CertIntegrationException>(() => TenantKeystore.CheckAlias(new string('a', 251), "-Alias"));
        Assert.Equal(ErrorIds.KeystoreAliasTooLong, ex.ErrorId);
        Assert.Contains("250", ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a:b")]
    [InlineData("a\tb")]
    [InlineData("a\u0000b")]
    [InlineData("zertifikat-\u00e4")]
    [InlineData(" root")]
    [InlineData("root ")]
    public void BadAliasesAreInvalid(string alias)
    {
        var ex = Assert.Throws<CertIntegrationException>(() => TenantKeystore.CheckAlias(alias, "-Alias"));
        Assert.Equal(ErrorIds.KeystoreAliasInvalid, ex.ErrorId);
        Assert.DoesNotContain("\u0000", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DigiCert Global Root G2", "digicert-global-root-g2")]
    [InlineData("Zertifikat M\u00fcller", "zertifikat-muller")]
    [InlineData("SAP Global Root CA", "sap-global-root-ca")]
    [InlineData("sap_partner", "cert-sap_partner")]
    [InlineData("HCICertificate", "cert-hcicertificate")]
    [InlineData("sb-abc!b18762|it-rt-x!b196", "sb-abc-b18762-it-rt-x-b196")]
    [InlineData("--.Partner.--", "partner")]
    [InlineData("!!!", "certificate")]
    [InlineData("\u65e5\u672c", "certificate")]
    public void DerivedAliasesAreLowercaseAndSafe(string name, string expected)
    {
        string alias = TenantKeystore.DeriveAlias(name);
        Assert.Equal(expected, alias);
        TenantKeystore.CheckAlias(alias, "test");
    }

    [Fact]
    public void DerivedAliasesAreShortened()
    {
        string alias = TenantKeystore.DeriveAlias(new string('x', 400) + " tail");
        Assert.True(alias.Length <= TenantKeystore.MaxAliasLength);
        TenantKeystore.CheckAlias(alias, "test");
    }

    [Fact]
    public void StoreHasKeyEntriesWithOneLocalKeyIdAndTrustedEntriesWithJavasAttribute()
    {
        Issued other = TestPki.IssueLeaf("CN=Second Client", Pki.Intermediate);
        var keys = new[]
        {
            new Pkcs12KeyEntry("first", new PrivateKeyMaterial(Pki.Leaf.Keys.Private), new[] { Pki.Leaf.Certificate, Pki.Intermediate.Certificate, Pki.Root.Certificate }),
            new Pkcs12KeyEntry("second", new PrivateKeyMaterial(other.Keys.Private), new[] { other.Certificate, Pki.Intermediate.Certificate, Pki.Root.Certificate }),
        };
        Issued partner = TestPki.IssueCa("CN=Partner Root", null);
        byte[] pfx = Pkcs12Writer.BuildStore(keys, new[] { new Pkcs12TrustedEntry("partner", partner.Certificate) }, Password, PfxEncryption.TripleDesSha1);

        (List<SafeBag> certBags, List<SafeBag> keyBags) = Decode(pfx);
        Assert.Equal(2, keyBags.Count);

        // Two leaves, the shared intermediate and root once each, and the trusted certificate.
        Assert.Equal(5, certBags.Count);
        SafeBag trusted = certBags.Single(b => Attr(b, PkcsObjectIdentifiers.Pkcs9AtFriendlyName) is DerBmpString s && s.GetString() == "partner");
        Assert.Equal(KeyPurposeID.AnyExtendedKeyUsage.Id, DerObjectIdentifier.GetInstance(Attr(trusted, Pkcs12Writer.OracleTrustedKeyUsage)).Id);
        Assert.Null(Attr(trusted, PkcsObjectIdentifiers.Pkcs9AtLocalKeyID));
        Assert.Equal("2.16.840.1.113894.746875.1.1", Pkcs12Writer.OracleTrustedKeyUsage.Id);

        var ids = keyBags.Select(b => Convert.ToHexString(Asn1OctetString.GetInstance(Attr(b, PkcsObjectIdentifiers.Pkcs9AtLocalKeyID)).GetOctets())).ToList();
        Assert.Equal(2, ids.Distinct().Count());
        Assert.Equal(2, certBags.Count(b => Attr(b, PkcsObjectIdentifiers.Pkcs9AtLocalKeyID) is null && Attr(b, Pkcs12Writer.OracleTrustedKeyUsage) is null));

        var store = new Pkcs12StoreBuilder().Build();
        store.Load(new MemoryStream(pfx), Password);
        Assert.True(store.IsKeyEntry("first"));
        Assert.True(store.IsKeyEntry("second"));
        Assert.Equal(3, store.GetCertificateChain("second").Length);
        Assert.True(store.IsCertificateEntry("partner"));
    }

    [Fact]
    public void StoreOfTrustedCertificatesOnlyHasNoKeySafe()
    {
        byte[] pfx = Pkcs12Writer.BuildStore(Array.Empty<Pkcs12KeyEntry>(), new[] { new Pkcs12TrustedEntry("root", Pki.Root.Certificate) }, Password, PfxEncryption.Aes256Sha256);
        var parsed = Pfx.GetInstance(Asn1Object.FromByteArray(pfx));
        BcContentInfo[] infos = AuthenticatedSafe.GetInstance(Asn1Object.FromByteArray(Asn1OctetString.GetInstance(parsed.AuthSafe.Content).GetOctets())).GetContentInfo();
        Assert.Single(infos);
        Assert.Throws<ArgumentException>(() => Pkcs12Writer.BuildStore(Array.Empty<Pkcs12KeyEntry>(), Array.Empty<Pkcs12TrustedEntry>(), Password, PfxEncryption.Aes256Sha256));
    }

    [Fact]
    public void JksHoldsKeyUnderTheStorePasswordAndTrustedCertificates()
    {
        var failures = new List<Exception>();
        List<KeystoreEntry> entries = KeystoreBuilder.Plan(
            new[] { new KeystoreInput(KeyBundle(), "Client_Key", null), new KeystoreInput(CertBundle(Pki.Root), null, null) },
            KeystoreFormat.Jks, (ex, _) => failures.Add(ex));
        Assert.Empty(failures);
        Assert.Equal(2, entries.Count);
        Assert.Equal("client_key", entries[0].Alias);
        Assert.False(entries[0].AliasDerived);
        Assert.True(entries[1].AliasDerived);

        byte[] jks = KeystoreBuilder.Build(entries, KeystoreFormat.Jks, Password);
        Assert.Equal(new byte[] { 0xFE, 0xED, 0xFE, 0xED }, jks.Take(4).ToArray());
        var store = new JksStore();
        store.Load(new MemoryStream(jks), Password);
        Assert.True(store.IsKeyEntry("client_key"));
        Assert.NotNull(store.GetKey("client_key", Password));
        Assert.Equal(3, store.GetCertificateChain("client_key").Length);
        Assert.True(store.IsCertificateEntry(entries[1].Alias));
    }

    [Fact]
    public void DuplicateKeptAliasesFailTheLaterInputAndMadeAliasesMakeRoom()
    {
        Issued a = TestPki.IssueCa("CN=Twin", null);
        Issued b = TestPki.IssueCa("CN=Twin", null);
        var failures = new List<(Exception Error, object? Target)>();
        var inputs = new[]
        {
            new KeystoreInput(CertBundle(Pki.Root, "partner"), null, "first"),
            new KeystoreInput(CertBundle(Pki.Intermediate, "PARTNER"), null, "second"),
            new KeystoreInput(CertBundle(a), null, "third"),
            new KeystoreInput(CertBundle(b), null, "fourth"),
            new KeystoreInput(CertBundle(Pki.Root, "partner"), null, "again"),
            new KeystoreInput(CertBundle(Pki.Leaf), "twin", "given"),
        };
        List<KeystoreEntry> entries = KeystoreBuilder.Plan(inputs, KeystoreFormat.Pkcs12, (ex, t) => failures.Add((ex, t)));
        var failure = Assert.Single(failures);
        Assert.Equal("second", failure.Target);
        Assert.Equal(ErrorIds.KeystoreAliasDuplicate, Assert.IsType<CertIntegrationException>(failure.Error).ErrorId);

        // The same root again is one entry; the given "twin" is kept, and the made ones are fitted around it.
        Assert.Equal(new[] { "partner", "twin-" + Thumb8(a), "twin-" + Thumb8(b), "twin" }, entries.Select(e => e.Alias).ToArray());
    }

    [Fact]
    public void KeyThatIsNotTheCertificatesFailsItsInput()
    {
        Issued other = TestPki.IssueLeaf("CN=Other", Pki.Intermediate);
        var bundle = new CertificateBundle(new[] { Net(Pki.Leaf) }, new PrivateKeyMaterial(other.Keys.Private));
        var failures = new List<Exception>();
        List<KeystoreEntry> entries = KeystoreBuilder.Plan(new[] { new KeystoreInput(bundle, null, bundle) }, KeystoreFormat.Jks, (ex, _) => failures.Add(ex));
        Assert.Empty(entries);
        Assert.Equal(ErrorIds.KeyCertificateMismatch, Assert.IsType<CertIntegrationException>(Assert.Single(failures)).ErrorId);
    }

    [Fact]
    public void SizeWarningsNameTheTenantLimits()
    {
        Assert.Empty(KeystoreBuilder.SizeWarnings(2_000_000, KeystoreFormat.Jks, "f"));
        Assert.Contains("2 MB", Assert.Single(KeystoreBuilder.SizeWarnings(2_000_001, KeystoreFormat.Jks, "f")));
        Assert.Empty(KeystoreBuilder.SizeWarnings(2_000_001, KeystoreFormat.Pkcs12, "f"));
        Assert.Equal(2, KeystoreBuilder.SizeWarnings(6_000_001, KeystoreFormat.Jks, "f").Count());
        Assert.Contains("6 MB", Assert.Single(KeystoreBuilder.SizeWarnings(6_000_001, KeystoreFormat.Pkcs12, "f")));
    }

    private static string Thumb8(Issued issued) => issued.Thumbprint.Substring(0, 8).ToLowerInvariant();

    private static (List<SafeBag> CertBags, List<SafeBag> KeyBags) Decode(byte[] pfxBytes)
    {
        var pfx = Pfx.GetInstance(Asn1Object.FromByteArray(pfxBytes));
        BcContentInfo[] infos = AuthenticatedSafe.GetInstance(Asn1Object.FromByteArray(Asn1OctetString.GetInstance(pfx.AuthSafe.Content).GetOctets())).GetContentInfo();
        var ed = EncryptedData.GetInstance(infos[0].Content);
        var cipher = (IBufferedCipher)PbeUtilities.CreateEngine(ed.EncryptionAlgorithm);
        cipher.Init(false, PbeUtilities.GenerateCipherParameters(ed.EncryptionAlgorithm, Password));
        List<SafeBag> certBags = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(cipher.DoFinal(ed.Content.GetOctets()))).Cast<Asn1Encodable>().Select(SafeBag.GetInstance).ToList();
        List<SafeBag> keyBags = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(Asn1OctetString.GetInstance(infos[1].Content).GetOctets())).Cast<Asn1Encodable>().Select(SafeBag.GetInstance).ToList();
        return (certBags, keyBags);
    }

    private static Asn1Encodable? Attr(SafeBag bag, DerObjectIdentifier oid) =>
        bag.BagAttributes?.Cast<Asn1Encodable>().Select(Asn1Sequence.GetInstance)
            .Where(s => DerObjectIdentifier.GetInstance(s[0]).Equals(oid))
            .Select(s => Asn1Set.GetInstance(s[1])[0]).SingleOrDefault();
}
