using System.Diagnostics;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Misc;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Xunit;
using BcContentInfo = Org.BouncyCastle.Asn1.Pkcs.ContentInfo;

namespace CertIntegration.UnitTests;

/// <summary>
/// Malformed password-based encryption parameters (missing, of the wrong ASN.1 type, out of range) in every place a
/// container carries them: an encrypted PKCS#8 PEM block, a PKCS#12 shrouded key bag and a PKCS#12 encrypted safe.
/// Each gives a categorised error, fast, with no crash type (null dereference, bad cast...) anywhere inside it.
/// </summary>
public class HostileEncryptionTests
{
    private static readonly byte[] Salt = new byte[8];
    private static readonly DerObjectIdentifier Unknown = new("1.2.3.4.5");

    private static AlgorithmIdentifier Aes(Asn1Encodable? iv) => iv is null ? new(NistObjectIdentifiers.IdAes256Cbc) : new(NistObjectIdentifiers.IdAes256Cbc, iv);

    private static AlgorithmIdentifier Pbes2(AlgorithmIdentifier kdf, AlgorithmIdentifier? scheme = null) =>
        new(PkcsObjectIdentifiers.IdPbeS2, new DerSequence(kdf, scheme ?? Aes(new DerOctetString(new byte[16]))));

    private static AlgorithmIdentifier Pbkdf2(params Asn1Encodable[] fields) => new(PkcsObjectIdentifiers.IdPbkdf2, new DerSequence(fields));

    private static AlgorithmIdentifier Scrypt(params Asn1Encodable[] fields) => new(MiscObjectIdentifiers.id_scrypt, new DerSequence(fields));

    private static readonly Dictionary<string, AlgorithmIdentifier> Algorithms = new()
    {
        ["pbes2 without parameters"] = new(PkcsObjectIdentifiers.IdPbeS2),
        ["pbes2 with NULL parameters"] = new(PkcsObjectIdentifiers.IdPbeS2, DerNull.Instance),
        ["pbes2 with an empty sequence"] = new(PkcsObjectIdentifiers.IdPbeS2, DerSequence.Empty),
        ["pbkdf2 without parameters"] = Pbes2(new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbkdf2)),
        ["pbkdf2 with NULL parameters"] = Pbes2(new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbkdf2, DerNull.Instance)),
        ["pbkdf2 salt is an INTEGER"] = Pbes2(Pbkdf2(DerInteger.ValueOf(5), DerInteger.ValueOf(2048))),
        ["pbkdf2 count is a string"] = Pbes2(Pbkdf2(new DerOctetString(Salt), new DerOctetString(Salt))),
        ["pbkdf2 without a count"] = Pbes2(Pbkdf2(new DerOctetString(Salt))),
        ["pbkdf2 key length 0"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048), DerInteger.ValueOf(0))),
        ["pbkdf2 key length 2^31-1"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048), DerInteger.ValueOf(int.MaxValue))),
        ["pbkdf2 with an unknown PRF"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048), new AlgorithmIdentifier(Unknown, DerNull.Instance))),
        ["pbkdf2 with a PRF of no OID"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048), new DerSequence(DerNull.Instance))),
        ["scrypt without parameters"] = Pbes2(new AlgorithmIdentifier(MiscObjectIdentifiers.id_scrypt)),
        ["scrypt N=0"] = Pbes2(Scrypt(new DerOctetString(Salt), DerInteger.ValueOf(0), DerInteger.ValueOf(8), DerInteger.ValueOf(1))),
        ["scrypt N=3"] = Pbes2(Scrypt(new DerOctetString(Salt), DerInteger.ValueOf(3), DerInteger.ValueOf(8), DerInteger.ValueOf(1))),
        ["scrypt r=0"] = Pbes2(Scrypt(new DerOctetString(Salt), DerInteger.ValueOf(1024), DerInteger.ValueOf(0), DerInteger.ValueOf(1))),
        ["scrypt p=0"] = Pbes2(Scrypt(new DerOctetString(Salt), DerInteger.ValueOf(1024), DerInteger.ValueOf(8), DerInteger.ValueOf(0))),
        ["scrypt key length 0"] = Pbes2(Scrypt(new DerOctetString(Salt), DerInteger.ValueOf(1024), DerInteger.ValueOf(8), DerInteger.ValueOf(1), DerInteger.ValueOf(0))),
        ["aes without an IV"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048)), Aes(null)),
        ["aes with a short IV"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048)), Aes(new DerOctetString(new byte[3]))),
        ["aes IV is an INTEGER"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048)), Aes(DerInteger.ValueOf(7))),
        ["unknown cipher in pbes2"] = Pbes2(Pbkdf2(new DerOctetString(Salt), DerInteger.ValueOf(2048)), new AlgorithmIdentifier(Unknown, new DerOctetString(new byte[16]))),
        ["pbes1 without parameters"] = new(PkcsObjectIdentifiers.PbeWithSha1AndDesCbc),
        ["pbes1 with NULL parameters"] = new(PkcsObjectIdentifiers.PbeWithSha1AndDesCbc, DerNull.Instance),
        ["pbes1 count is a string"] = new(PkcsObjectIdentifiers.PbeWithSha1AndDesCbc, new DerSequence(new DerOctetString(Salt), new DerOctetString(Salt))),
        ["pkcs12 pbe without parameters"] = new(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc),
        ["pkcs12 pbe with NULL parameters"] = new(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, DerNull.Instance),
        ["pkcs12 pbe with an empty sequence"] = new(PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc, DerSequence.Empty),
        ["unknown algorithm"] = new(Unknown, DerNull.Instance),
        ["unknown pkcs#5 algorithm"] = new(new DerObjectIdentifier("1.2.840.113549.1.5.99"), new DerSequence(new DerOctetString(Salt), DerInteger.ValueOf(1))),
        ["unknown pkcs#12 algorithm"] = new(new DerObjectIdentifier("1.2.840.113549.1.12.1.99"), new DerSequence(new DerOctetString(Salt), DerInteger.ValueOf(1))),
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string where in new[] { "pem", "pfx key bag", "pfx encrypted safe" })
        {
            foreach (string alg in Algorithms.Keys)
            {
                data.Add(where, alg);
            }
        }

        return data;
    }

    private static byte[] Container(string where, AlgorithmIdentifier alg, byte[] encrypted) => where switch
    {
        "pem" => RobustnessTests.Ascii(RobustnessTests.Pem("ENCRYPTED PRIVATE KEY", new EncryptedPrivateKeyInfo(alg, encrypted).GetEncoded())),
        "pfx key bag" => RobustnessTests.PfxOf(RobustnessTests.DataSafe(new[]
        {
            RobustnessTests.CertBagOf(TestPki.Default.Leaf.Certificate),
            new SafeBag(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag, new EncryptedPrivateKeyInfo(alg, encrypted)),
        })),
        _ => RobustnessTests.PfxOf(new BcContentInfo(PkcsObjectIdentifiers.EncryptedData,
            new EncryptedData(PkcsObjectIdentifiers.Data, alg, new BerOctetString(encrypted)))),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedEncryptionParametersAreCategorisedWithoutACrashInside(string where, string algorithm)
    {
        foreach (byte[] encrypted in new[] { new byte[32], Array.Empty<byte>() })
        {
            byte[] bytes = Container(where, Algorithms[algorithm], encrypted);
            var sw = Stopwatch.StartNew();
            Exception? error = Record.Exception(() => ContainerReader.ReadBytes(bytes, "hostile", RobustnessTests.Secure("pw"), null));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"took {sw.Elapsed}");
            var cie = Assert.IsType<CertIntegrationException>(error);
            for (Exception? e = cie; e is not null; e = e.InnerException)
            {
                Assert.False(ContainerCorpusTests.IsCrash(e), $"{cie.ErrorId}: {cie.Message}\ninside: {e}");
            }
        }
    }
}
