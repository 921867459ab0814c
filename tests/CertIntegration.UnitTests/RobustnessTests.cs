using System.Diagnostics;
using System.Security;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Misc;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Xunit;
using BcContentInfo = Org.BouncyCastle.Asn1.Pkcs.ContentInfo;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace CertIntegration.UnitTests;

/// <summary>
/// The defects of the robustness issue, each with an input made here (no files needed): certificates with an empty
/// RSA key, iteration counts as huge INTEGERs, files that declare more key-derivation work than one input may cost,
/// PBES1 with MD2, scrypt-encrypted keys. The fuzz finds themselves are in <see cref="FuzzFindTests"/>.
/// </summary>
public class RobustnessTests
{
    private const string Password = "pw";
    private static readonly byte[] Salt = new byte[8];

    private static TestPki Pki => TestPki.Default;

    internal static SecureString Secure(string s) => new System.Net.NetworkCredential(string.Empty, s).SecurePassword;

    private static (Exception? Error, IReadOnlyList<CertificateBundle>? Bundles, TimeSpan Elapsed) Read(byte[] bytes, string? password = Password, List<string>? warnings = null)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            var bundles = ContainerReader.ReadBytes(bytes, "input", password is null ? null : Secure(password), null, warnings is null ? null : warnings.Add);
            return (null, bundles, sw.Elapsed);
        }
        catch (Exception ex)
        {
            return (ex, null, sw.Elapsed);
        }
    }

    /// <summary>Fails with a categorised error within <paramref name="seconds"/>, with no crash type inside.</summary>
    private static CertIntegrationException Fails(byte[] bytes, double seconds = 2, string? password = Password)
    {
        var (error, _, elapsed) = Read(bytes, password);
        var cie = Assert.IsType<CertIntegrationException>(error);
        Assert.True(elapsed < TimeSpan.FromSeconds(seconds), $"took {elapsed.TotalMilliseconds:F0} ms: {cie.ErrorId}: {cie.Message}");
        for (Exception? e = cie; e is not null; e = e.InnerException)
        {
            Assert.False(ContainerCorpusTests.IsCrash(e), e.ToString());
        }

        return cie;
    }

    internal static string Pem(string label, byte[] der) =>
        $"-----BEGIN {label}-----\n{Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks)}\n-----END {label}-----\n";

    internal static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    // ------------------------------------------------------------------ 1. empty RSA public keys

    /// <summary>A certificate like <paramref name="like"/> (same names), whose RSA or RSA-PSS key BIT STRING is empty.</summary>
    private static BcX509 WithEmptyKey(BcX509 like, AsymmetricKeyParameter signer, DerObjectIdentifier keyAlgorithm)
    {
        var tbs = new V3TbsCertificateGenerator();
        tbs.SetSerialNumber(new DerInteger(like.SerialNumber));
        tbs.SetIssuer(like.IssuerDN);
        tbs.SetSubject(like.SubjectDN);
        tbs.SetStartDate(new Time(DateTime.UtcNow.AddDays(-1)));
        tbs.SetEndDate(new Time(DateTime.UtcNow.AddDays(30)));
        tbs.SetSubjectPublicKeyInfo(new SubjectPublicKeyInfo(keyAlgorithm.Equals(PkcsObjectIdentifiers.RsaEncryption)
            ? new AlgorithmIdentifier(keyAlgorithm, DerNull.Instance) : new AlgorithmIdentifier(keyAlgorithm), Array.Empty<byte>()));
        var sigAlg = new AlgorithmIdentifier(PkcsObjectIdentifiers.Sha256WithRsaEncryption, DerNull.Instance);
        tbs.SetSignature(sigAlg);
        TbsCertificateStructure t = tbs.GenerateTbsCertificate();
        ISigner s = SignerUtilities.GetSigner("SHA256WITHRSA");
        s.Init(true, signer);
        byte[] der = t.GetDerEncoded();
        s.BlockUpdate(der, 0, der.Length);
        return new BcX509(new X509CertificateStructure(t, sigAlg, new DerBitString(s.GenerateSignature())));
    }

    public static TheoryData<string, string, string> EmptyKeyCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string position in new[] { "leaf", "intermediate", "root" })
        {
            foreach (string algorithm in new[] { "rsa", "rsa-pss" })
            {
                foreach (string format in new[] { "pem", "der", "pfx" })
                {
                    data.Add(position, algorithm, format);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EmptyKeyCases))]
    public void CertificateWithAnEmptyRsaKeyIsMalformedNotACrash(string position, string algorithm, string format)
    {
        DerObjectIdentifier oid = algorithm == "rsa" ? PkcsObjectIdentifiers.RsaEncryption : PkcsObjectIdentifiers.IdRsassaPss;
        var chain = new List<BcX509> { Pki.Leaf.Certificate, Pki.Intermediate.Certificate, Pki.Root.Certificate };
        int at = position == "leaf" ? 0 : position == "intermediate" ? 1 : 2;
        AsymmetricKeyParameter signer = at == 2 ? Pki.Root.Keys.Private : chain[at] == Pki.Leaf.Certificate ? Pki.Intermediate.Keys.Private : Pki.Root.Keys.Private;
        chain[at] = WithEmptyKey(chain[at], signer, oid);
        byte[] bytes = format switch
        {
            "pem" => Ascii(string.Concat(chain.Select(c => Pem("CERTIFICATE", c.GetEncoded())))),
            "der" => chain[at].GetEncoded(),
            _ => Pkcs12Writer.Build(chain, new PrivateKeyMaterial(Pki.Leaf.Keys.Private), Password.ToCharArray(), PfxEncryption.Aes256Sha256, "t"),
        };

        CertIntegrationException e = Fails(bytes);
        Assert.Equal(ErrorIds.CertificateMalformed, e.ErrorId);
        Assert.Contains("RSA public key is empty", e.Message);
        Assert.Contains(chain[at].SubjectDN.ToString(), e.Message);
    }
}
