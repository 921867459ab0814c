using System.Diagnostics;
using System.Security;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>Hostile and unusual inputs for <see cref="ContainerReader"/>: every one fails fast with our IDs.</summary>
public class ContainerReaderTests
{
    private static SecureString Pw(string s) => new System.Net.NetworkCredential(string.Empty, s).SecurePassword;

    private static CertIntegrationException Fails(byte[] bytes, SecureString? password = null)
    {
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<CertIntegrationException>(() => ContainerReader.ReadBytes(bytes, "test input", password, null));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        return ex;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DeeplyNestedAsn1IsRefusedWithoutRecursion(bool indefinite)
    {
        const int depth = 200_000;
        var ms = new MemoryStream();
        if (indefinite)
        {
            for (int i = 0; i < depth; i++) { ms.WriteByte(0x30); ms.WriteByte(0x80); }
            for (int i = 0; i < depth; i++) { ms.WriteByte(0); ms.WriteByte(0); }
        }
        else
        {
            // Each level: SEQUENCE with a 4-byte length covering the rest.
            int levels = 100_000;
            for (int i = 0; i < levels; i++)
            {
                int remaining = (levels - i - 1) * 6;
                ms.Write(new byte[] { 0x30, 0x84, (byte)(remaining >> 24), (byte)(remaining >> 16), (byte)(remaining >> 8), (byte)remaining });
            }
        }

        Assert.Equal(ErrorIds.LimitExceeded, Fails(ms.ToArray()).ErrorId);
    }

    [Fact]
    public void LengthsBeyondTheDataAreCorruptNotAllocated()
    {
        byte[] bytes = { 0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x02, 0x01, 0x03 };
        Assert.Equal(ErrorIds.ContainerCorrupt, Fails(bytes).ErrorId);
    }

    private static byte[] Jks(uint count, params byte[][] body)
    {
        var ms = new MemoryStream();
        ms.Write(new byte[] { 0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2 });
        ms.Write(new[] { (byte)(count >> 24), (byte)(count >> 16), (byte)(count >> 8), (byte)count });
        foreach (byte[] b in body)
        {
            ms.Write(b);
        }

        ms.Write(new byte[20]);
        return ms.ToArray();
    }

    [Fact]
    public void CraftedJavaKeystoresAreRefused()
    {
        Assert.Equal(ErrorIds.LimitExceeded, Fails(Jks(0x7FFFFFFF)).ErrorId);

        // A trusted-certificate entry whose certificate claims 2 GB.
        byte[] entry = { 0, 0, 0, 2, 0, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, (byte)'X', (byte)'.', (byte)'5', (byte)'0', (byte)'9', 0x7F, 0xFF, 0xFF, 0xFF };
        Assert.Equal(ErrorIds.ContainerCorrupt, Fails(Jks(1, entry), Pw("changeit")).ErrorId);

        Assert.Equal(ErrorIds.ContainerCorrupt, Fails(new byte[] { 0xFE, 0xED, 0xFE, 0xED, 0, 0 }).ErrorId);
        Assert.Equal(ErrorIds.UnsupportedAlgorithm, Fails(new byte[] { 0xCE, 0xCE, 0xCE, 0xCE, 0, 0, 0, 2, 0, 0, 0, 0 }).ErrorId);
    }

    [Theory]
    [InlineData(0x7FFFFFFFFFFFFFFF)]
    [InlineData(-0x7FFFFFFFFFFFFFFF)]
    [InlineData(253_402_300_800_000)] // 10000-01-01
    public void AJavaKeystoreEntryDatedOutsideTheYears1To9999IsCorruptWithNoCrashInside(long ms)
    {
        // Found by the mutation fuzzer (seed 1, input 1775): BouncyCastle's JksStore failed with an
        // ArgumentOutOfRangeException for the date, which ContainerCorrupt then carried inside.
        var store = new Org.BouncyCastle.Security.JksStore();
        store.SetCertificateEntry("ca", TestSupport.TestPki.Default.Root.Certificate);
        var saved = new MemoryStream();
        store.Save(saved, "changeit".ToCharArray());
        byte[] bytes = saved.ToArray();
        int date = 4 + 4 + 4 + 4 + 2 + 2; // magic, version, count, tag, alias length, "ca"
        for (int i = 0; i < 8; i++)
        {
            bytes[date + i] = (byte)(ms >> (56 - (8 * i)));
        }

        CertIntegrationException ex = Fails(bytes);
        Assert.Equal(ErrorIds.ContainerCorrupt, ex.ErrorId);
        Assert.Contains("creation date", ex.Message, StringComparison.Ordinal);
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            Assert.False(ContainerCorpusTests.IsCrash(e), e.ToString());
        }
    }

    [Fact]
    public void EmptyJavaKeystoreWithRightDigestHoldsNoCertificate()
    {
        var store = new Org.BouncyCastle.Security.JksStore();
        var ms = new MemoryStream();
        store.Save(ms, "changeit".ToCharArray());
        Assert.Equal(ErrorIds.ContainerHasNoCertificate, Fails(ms.ToArray(), Pw("changeit")).ErrorId);
        Assert.Equal(ErrorIds.KeyStorePasswordIncorrect, Fails(ms.ToArray(), Pw("wrong")).ErrorId);
    }

    [Fact]
    public void UnknownPbes2CipherIsNamed()
    {
        var kdf = new KeyDerivationFunc(PkcsObjectIdentifiers.IdPbkdf2, new Pbkdf2Params(new byte[8], 2048));
        var scheme = new EncryptionScheme(new DerObjectIdentifier("1.2.3.4.5"), new DerOctetString(new byte[16]));
        var alg = new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbeS2, new PbeS2Parameters(kdf, scheme));
        var enc = new EncryptedData(PkcsObjectIdentifiers.Data, alg, new DerOctetString(new byte[32]));
        byte[] safe = new AuthenticatedSafe(new[] { new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.EncryptedData, enc) }).GetEncoded();
        byte[] pfx = new Pfx(new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(safe)), null).GetEncoded();
        CertIntegrationException ex = Fails(pfx, Pw("x"));
        Assert.Equal(ErrorIds.UnsupportedAlgorithm, ex.ErrorId);
        Assert.Contains("1.2.3.4.5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroIterationsAreRefused()
    {
        byte[] safe = new AuthenticatedSafe(Array.Empty<Org.BouncyCastle.Asn1.Pkcs.ContentInfo>()).GetEncoded();
        var mac = new MacData(new DigestInfo(new AlgorithmIdentifier(Org.BouncyCastle.Asn1.Oiw.OiwObjectIdentifiers.IdSha1, DerNull.Instance), new byte[20]), new byte[8], 0);
        byte[] pfx = new Pfx(new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(safe)), mac).GetEncoded();
        Assert.Equal(ErrorIds.LimitExceeded, Fails(pfx, Pw("x")).ErrorId);
    }

    [Fact]
    public void BareBase64AndServiceKeysAreRecognised()
    {
        TestPki pki = TestPki.Default;
        byte[] b64 = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(pki.Leaf.Der, Base64FormattingOptions.InsertLineBreaks));
        CertificateBundle b = Assert.Single(ContainerReader.ReadBytes(b64, "leaf.b64", null, null));
        Assert.Equal(pki.Leaf.Thumbprint, b.Thumbprint);
        Assert.Equal("leaf.b64", b.Source);

        byte[] json = System.Text.Encoding.UTF8.GetBytes(pki.ServiceKeyJson("credentials"));
        CertificateBundle k = Assert.Single(ContainerReader.ReadBytes(json, "key.json", null, null));
        Assert.True(k.HasPrivateKey);
        Assert.Equal(3, k.ChainLength);
        Assert.NotNull(k.ClientId);
    }

    [Fact]
    public void NonSignedPkcs7IsNotACertificateContainer()
    {
        byte[] der = new Org.BouncyCastle.Asn1.Pkcs.ContentInfo(PkcsObjectIdentifiers.EnvelopedData, new DerSequence()).GetEncoded();
        Assert.Equal(ErrorIds.NotACertificateContainer, Fails(der).ErrorId);
    }
}
