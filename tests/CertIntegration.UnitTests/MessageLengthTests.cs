using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>
/// No error message is longer than <see cref="Messages.MaxMessage"/> characters, however much input text it quotes
/// (found by the mutation fuzzer: a 500-deep extension gave a 13,852-character message, a 2,000-arc OID 4,157), and
/// the bounded message still says what is wrong.
/// </summary>
public class MessageLengthTests
{
    private static TestPki Pki => TestPki.Default;

    /// <summary>An OID of 2,000 arcs: 1.2.1.1.1...</summary>
    private static DerObjectIdentifier LongOid() => new("1.2." + string.Join(".", Enumerable.Repeat("1", 2000)));

    private static CertIntegrationException Fails(byte[] bytes)
    {
        var ex = Assert.Throws<CertIntegrationException>(() => ContainerReader.ReadBytes(bytes, "crafted", null, null));
        Assert.True(ex.Message.Length <= Messages.MaxMessage, $"{ex.Message.Length} characters: {ex.Message[..Math.Min(300, ex.Message.Length)]}");
        return ex;
    }

    [Fact]
    public void ACertificateWithA500DeepExtensionGivesAShortMessageThatNamesTheCertificateAsInvalid()
    {
        // 500 SEQUENCEs around a NULL, as the value of basicConstraints (a generator would refuse to write it).
        byte[] deep = { 0x05, 0x00 };
        for (int i = 0; i < 500; i++)
        {
            byte[] length = deep.Length < 0x80 ? new[] { (byte)deep.Length } : deep.Length < 0x100 ? new byte[] { 0x81, (byte)deep.Length } : new byte[] { 0x82, (byte)(deep.Length >> 8), (byte)deep.Length };
            deep = new byte[] { 0x30 }.Concat(length).Concat(deep).ToArray();
        }

        var tbs = new V3TbsCertificateGenerator();
        tbs.SetSerialNumber(DerInteger.ValueOf(77));
        tbs.SetIssuer(Pki.Intermediate.Certificate.SubjectDN);
        tbs.SetSubject(new X509Name("CN=Deep"));
        tbs.SetStartDate(new Time(DateTime.UtcNow.AddDays(-1)));
        tbs.SetEndDate(new Time(DateTime.UtcNow.AddDays(30)));
        tbs.SetSubjectPublicKeyInfo(Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(Pki.Leaf.Keys.Public));
        var sigAlg = new AlgorithmIdentifier(PkcsObjectIdentifiers.Sha256WithRsaEncryption, DerNull.Instance);
        tbs.SetSignature(sigAlg);
        tbs.SetExtensions(new X509Extensions(new Dictionary<DerObjectIdentifier, X509Extension>
        {
            [X509Extensions.BasicConstraints] = new X509Extension(true, new DerOctetString(deep)),
        }));
        var cert = new X509CertificateStructure(tbs.GenerateTbsCertificate(), sigAlg, new DerBitString(new byte[256]));

        CertIntegrationException ex = Fails(RobustnessTests.Ascii(RobustnessTests.Pem("CERTIFICATE", cert.GetEncoded())));
        Assert.Equal(ErrorIds.CertificateMalformed, ex.ErrorId);
        Assert.StartsWith("'crafted', line 1: the 'CERTIFICATE' block is not a valid X.509 certificate", ex.Message);
    }

    [Fact]
    public void APrivateKeyOfA2000ArcAlgorithmGivesAShortMessageThatSaysItIsNotSupported()
    {
        byte[] key = new DerSequence(DerInteger.Zero, new DerSequence(LongOid()), new DerOctetString(new byte[] { 4, 0 })).GetEncoded();
        CertIntegrationException ex = Fails(RobustnessTests.Ascii(RobustnessTests.Pem("PRIVATE KEY", key)));
        Assert.Equal(ErrorIds.UnsupportedAlgorithm, ex.ErrorId);
        Assert.Contains("1.2.1.1.1.1", ex.Message);
        Assert.Contains("which is not supported", ex.Message);
        Assert.Contains($"({LongOid().Id.Length} characters)", ex.Message);
    }

    [Fact]
    public void APkcs12SafeOfA2000ArcContentTypeGivesAShortMessageThatSaysItIsNotSupported()
    {
        byte[] pfx = RobustnessTests.PfxOf(new ContentInfo(LongOid(), new DerOctetString(new byte[2])));
        CertIntegrationException ex = Fails(pfx);
        Assert.Equal(ErrorIds.UnsupportedAlgorithm, ex.ErrorId);
        Assert.Contains("not supported", ex.Message);
    }

    [Fact]
    public void AnOverlongMessageKeepsItsStartAndItsEnd()
    {
        string message = "What is wrong: " + new string('x', 5000) + " What to do.";
        string bounded = new CertIntegrationException(ErrorIds.PemMalformed, FailureKind.InvalidData, message).Message;
        Assert.Equal(Messages.MaxMessage, bounded.Length);
        Assert.StartsWith("What is wrong: ", bounded);
        Assert.EndsWith(" What to do.", bounded);
        Assert.Contains($"(shortened from {message.Length} characters)", bounded);
    }

    [Fact]
    public void AQuotedFragmentIsClippedWithItsLength()
    {
        Assert.Equal("short", Messages.Quote("short"));
        string clipped = Messages.Quote(new string('a', 1000));
        Assert.Equal(new string('a', Messages.MaxQuoted) + "... (1000 characters)", clipped);
    }
}
