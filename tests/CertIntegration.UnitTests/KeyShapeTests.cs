using System.Security;
using CertIntegration.TestSupport;
using Newtonsoft.Json.Linq;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Xunit;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace CertIntegration.UnitTests;

/// <summary>
/// Private keys of every shape a damaged or crafted file can hold (empty or odd contents, missing fields, wrong types,
/// odd algorithm parameters), built with BouncyCastle's ASN.1 classes, through every way a key is read: a PEM text,
/// an encrypted PKCS#8 PEM block, a PKCS#12 key bag (plain and shrouded), a service key's 'key' field and a key file
/// beside a certificate (Import-CertificateBundle -KeyPath). Each gives a categorised error with no crash type in its
/// exception chain.
/// </summary>
public class KeyShapeTests
{
    private const string Password = "pw";

    private const string Read = "(read)";

    private static readonly DerObjectIdentifier Dsa = X9ObjectIdentifiers.IdDsa;

    private static TestPki Pki => TestPki.Default;

    private static DerSequence Seq(params Asn1Encodable[] items) => new(items);

    private static DerInteger Int(long v) => DerInteger.ValueOf(v);

    private static DerInteger Int(BigInteger v) => new(v);

    private static byte[] Pkcs8(DerObjectIdentifier oid, Asn1Encodable? parameters, byte[] privateKey) =>
        Seq(Int(0), parameters is null ? Seq(oid) : Seq(oid, parameters), new DerOctetString(privateKey)).GetEncoded();

    private static byte[] Der(Asn1Encodable e) => e.ToAsn1Object().GetEncoded();

    private static RsaPrivateCrtKeyParameters Rsa => (RsaPrivateCrtKeyParameters)Pki.Leaf.Keys.Private;

    private static Asn1Encodable[] RsaFields => new Asn1Encodable[]
    {
        Int(0), Int(Rsa.Modulus), Int(Rsa.PublicExponent), Int(Rsa.Exponent), Int(Rsa.P), Int(Rsa.Q), Int(Rsa.DP), Int(Rsa.DQ), Int(Rsa.QInv),
    };

    private static Asn1Encodable[] RsaWith(int index, Asn1Encodable value)
    {
        Asn1Encodable[] f = RsaFields;
        f[index] = value;
        return f;
    }

    private static readonly Lazy<DsaPrivateKeyParameters> DsaKey = new(() =>
    {
        var pg = new Org.BouncyCastle.Crypto.Generators.DsaParametersGenerator();
        pg.Init(1024, 20, new SecureRandom());
        var g = new Org.BouncyCastle.Crypto.Generators.DsaKeyPairGenerator();
        g.Init(new DsaKeyGenerationParameters(new SecureRandom(), pg.GenerateParameters()));
        return (DsaPrivateKeyParameters)g.GenerateKeyPair().Private;
    });

    private static DerSequence DsaParams(DsaParameters p) => Seq(Int(p.P), Int(p.Q), Int(p.G));

    private static BigInteger P256Order => ECNamedCurveTable.GetByName("P-256").N;

    /// <summary>P-256 as explicit parameters, its order replaced.</summary>
    private static DerSequence ExplicitP256WithOrder(BigInteger order)
    {
        var p = (Asn1Sequence)ECNamedCurveTable.GetByName("P-256").ToAsn1Object();
        var items = p.Cast<Asn1Encodable>().ToArray();
        items[4] = Int(order);
        return new DerSequence(items);
    }

    private static byte[] Sec1(Asn1Encodable d, Asn1Encodable? curve) =>
        curve is null ? Der(Seq(Int(1), d)) : Der(Seq(Int(1), d, new DerTaggedObject(true, 0, curve)));

    private static DerOctetString Scalar(BigInteger d) => new(d.ToByteArrayUnsigned().Length == 0 ? new byte[1] : d.ToByteArrayUnsigned());

    /// <summary>Name, PEM label, DER, and the error IDs that say it well.</summary>
    private static readonly Lazy<Dictionary<string, (string Label, byte[] Der, string[] Ids)>> Shapes = new(() =>
    {
        string[] malformed = { ErrorIds.PrivateKeyMalformed };
        string[] unsupported = { ErrorIds.UnsupportedAlgorithm };
        string[] either = { ErrorIds.PrivateKeyMalformed, ErrorIds.UnsupportedAlgorithm };

        // Keys BouncyCastle reads although something around them is odd (it ignores RSA parameters and the curve
        // inside SEC1 when the algorithm names one): read, or the error of the path for a key that is no leaf's.
        string[] readable = { Read, ErrorIds.PrivateKeyMalformed, ErrorIds.UnsupportedAlgorithm, ErrorIds.ContainerHasNoCertificate, ErrorIds.KeyCertificateMismatch };
        DerObjectIdentifier rsa = PkcsObjectIdentifiers.RsaEncryption;
        DerObjectIdentifier pss = PkcsObjectIdentifiers.IdRsassaPss;
        DerObjectIdentifier ec = X9ObjectIdentifiers.IdECPublicKey;
        DerObjectIdentifier p256 = X9ObjectIdentifiers.Prime256v1;
        DsaParameters dp = DsaKey.Value.Parameters;
        byte[] rsaKey = Der(Seq(RsaFields));
        var d = new Dictionary<string, (string, byte[], string[])>
        {
            // PKCS#8 RSA
            ["rsa-empty"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Array.Empty<byte>()), malformed),
            ["rsa-not-der"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, new byte[] { 1, 2, 3 }), malformed),
            ["rsa-integer"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Int(5))), malformed),
            ["rsa-empty-sequence"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Seq())), malformed),
            ["rsa-three-fields"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Seq(Int(0), Int(Rsa.Modulus), Int(Rsa.PublicExponent)))), malformed),
            ["rsa-octet-for-modulus"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Seq(RsaWith(1, new DerOctetString(new byte[4]))))), malformed),
            ["rsa-zero-modulus"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Seq(RsaWith(1, Int(0))))), malformed),
            ["rsa-zero-prime"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Seq(RsaWith(4, Int(0))))), malformed),
            ["rsa-negative-exponent"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Seq(RsaWith(2, Int(-3))))), malformed),
            ["rsa-version-2"] = ("PRIVATE KEY", Pkcs8(rsa, DerNull.Instance, Der(Seq(RsaWith(0, Int(2))))), malformed),
            ["rsa-odd-parameters"] = ("PRIVATE KEY", Pkcs8(rsa, Int(7), rsaKey), readable),
            ["rsa-pss-empty"] = ("PRIVATE KEY", Pkcs8(pss, null, Array.Empty<byte>()), malformed),
            ["rsa-pss-integer-parameters"] = ("PRIVATE KEY", Pkcs8(pss, Int(7), rsaKey), readable),
            ["rsa-pss-odd-parameters"] = ("PRIVATE KEY", Pkcs8(pss, Seq(new DerTaggedObject(true, 0, Int(1)), new DerTaggedObject(true, 2, new DerOctetString(new byte[2]))), rsaKey), readable),
            ["rsa-pss-empty-parameters"] = ("PRIVATE KEY", Pkcs8(pss, Seq(), Array.Empty<byte>()), malformed),

            // PKCS#8 EC
            ["ec-empty"] = ("PRIVATE KEY", Pkcs8(ec, p256, Array.Empty<byte>()), malformed),
            ["ec-version-only"] = ("PRIVATE KEY", Pkcs8(ec, p256, Der(Seq(Int(1)))), malformed),
            ["ec-integer"] = ("PRIVATE KEY", Pkcs8(ec, p256, Der(Int(1))), malformed),
            ["ec-no-parameters"] = ("PRIVATE KEY", Pkcs8(ec, null, Sec1(Scalar(BigInteger.Three), null)), malformed),
            ["ec-null-parameters"] = ("PRIVATE KEY", Pkcs8(ec, DerNull.Instance, Sec1(Scalar(BigInteger.Three), null)), either),
            ["ec-unknown-curve"] = ("PRIVATE KEY", Pkcs8(ec, new DerObjectIdentifier("1.2.3.4.5"), Sec1(Scalar(BigInteger.Three), null)), either),
            ["ec-integer-parameters"] = ("PRIVATE KEY", Pkcs8(ec, Int(5), Sec1(Scalar(BigInteger.Three), null)), either),
            ["ec-explicit-garbage"] = ("PRIVATE KEY", Pkcs8(ec, Seq(Int(1), Seq(X9ObjectIdentifiers.PrimeField, Int(0))), Sec1(Scalar(BigInteger.Three), null)), either),
            ["ec-explicit-huge-order"] = ("PRIVATE KEY", Pkcs8(ec, ExplicitP256WithOrder(BigInteger.One.ShiftLeft(20000)), Sec1(Scalar(BigInteger.One.ShiftLeft(19000)), null)), malformed),
            ["ec-empty-scalar"] = ("PRIVATE KEY", Pkcs8(ec, p256, Sec1(new DerOctetString(Array.Empty<byte>()), null)), malformed),
            ["ec-zero-scalar"] = ("PRIVATE KEY", Pkcs8(ec, p256, Sec1(new DerOctetString(new byte[32]), null)), malformed),
            ["ec-scalar-at-order"] = ("PRIVATE KEY", Pkcs8(ec, p256, Sec1(Scalar(P256Order), null)), malformed),
            ["ec-integer-scalar"] = ("PRIVATE KEY", Pkcs8(ec, p256, Der(Seq(Int(1), Int(3)))), malformed),
            ["ec-inner-curve-differs"] = ("PRIVATE KEY", Pkcs8(ec, p256, Sec1(Scalar(BigInteger.Three), SecObjectIdentifiers.SecP384r1)), readable),

            // PKCS#8 DSA
            ["dsa-empty"] = ("PRIVATE KEY", Pkcs8(Dsa, DsaParams(dp), Array.Empty<byte>()), malformed),
            ["dsa-no-parameters"] = ("PRIVATE KEY", Pkcs8(Dsa, null, Der(Int(DsaKey.Value.X))), malformed),
            ["dsa-null-parameters"] = ("PRIVATE KEY", Pkcs8(Dsa, DerNull.Instance, Der(Int(DsaKey.Value.X))), malformed),
            ["dsa-two-parameters"] = ("PRIVATE KEY", Pkcs8(Dsa, Seq(Int(dp.P), Int(dp.Q)), Der(Int(DsaKey.Value.X))), malformed),
            ["dsa-zero-p"] = ("PRIVATE KEY", Pkcs8(Dsa, Seq(Int(0), Int(dp.Q), Int(dp.G)), Der(Int(DsaKey.Value.X))), malformed),
            ["dsa-zero-x"] = ("PRIVATE KEY", Pkcs8(Dsa, DsaParams(dp), Der(Int(0))), malformed),
            ["dsa-q-beyond-p"] = ("PRIVATE KEY", Pkcs8(Dsa, Seq(Int(dp.P), Int(dp.P.ShiftLeft(4000)), Int(dp.G)), Der(Int(DsaKey.Value.X))), malformed),
            ["dsa-octet-x"] = ("PRIVATE KEY", Pkcs8(Dsa, DsaParams(dp), Der(new DerOctetString(new byte[20]))), malformed),

            // PKCS#8 EdDSA and XDH
            ["ed25519-empty"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_Ed25519, null, Array.Empty<byte>()), malformed),
            ["ed25519-short"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_Ed25519, null, Der(new DerOctetString(new byte[31]))), malformed),
            ["ed25519-long"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_Ed25519, null, Der(new DerOctetString(new byte[33]))), malformed),
            ["ed25519-bare"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_Ed25519, null, new byte[32]), malformed),
            ["ed25519-integer"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_Ed25519, null, Der(Int(1))), malformed),
            ["ed448-short"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_Ed448, null, Der(new DerOctetString(new byte[56]))), malformed),
            ["x25519-empty"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_X25519, null, Array.Empty<byte>()), either),
            ["x448-short"] = ("PRIVATE KEY", Pkcs8(EdECObjectIdentifiers.id_X448, null, Der(new DerOctetString(new byte[3]))), either),
            ["dh-empty"] = ("PRIVATE KEY", Pkcs8(PkcsObjectIdentifiers.DhKeyAgreement, Seq(Int(23), Int(5)), Array.Empty<byte>()), either),
            ["dh-no-parameters"] = ("PRIVATE KEY", Pkcs8(PkcsObjectIdentifiers.DhKeyAgreement, null, Der(Int(3))), either),
            ["unknown-algorithm"] = ("PRIVATE KEY", Pkcs8(new DerObjectIdentifier("1.2.3.4.5"), null, new byte[] { 4, 0 }), unsupported),
            ["empty-sequence"] = ("PRIVATE KEY", Der(Seq()), malformed),
            ["no-algorithm"] = ("PRIVATE KEY", Der(Seq(Int(0), Seq(), new DerOctetString(new byte[2]))), malformed),

            // PKCS#1, SEC1 and OpenSSL's DSA structure
            ["pkcs1-empty-sequence"] = ("RSA PRIVATE KEY", Der(Seq()), malformed),
            ["pkcs1-three-fields"] = ("RSA PRIVATE KEY", Der(Seq(Int(0), Int(Rsa.Modulus), Int(Rsa.PublicExponent))), malformed),
            ["pkcs1-octet-field"] = ("RSA PRIVATE KEY", Der(Seq(RsaWith(3, new DerOctetString(new byte[8])))), malformed),
            ["pkcs1-zero-modulus"] = ("RSA PRIVATE KEY", Der(Seq(RsaWith(1, Int(0)))), malformed),
            ["pkcs1-integer"] = ("RSA PRIVATE KEY", Der(Int(1)), malformed),
            ["sec1-no-curve"] = ("EC PRIVATE KEY", Sec1(Scalar(BigInteger.Three), null), malformed),
            ["sec1-empty-scalar"] = ("EC PRIVATE KEY", Sec1(new DerOctetString(Array.Empty<byte>()), p256), malformed),
            ["sec1-unknown-curve"] = ("EC PRIVATE KEY", Sec1(Scalar(BigInteger.Three), new DerObjectIdentifier("1.2.3.4.5")), either),
            ["sec1-version-only"] = ("EC PRIVATE KEY", Der(Seq(Int(1))), malformed),
            ["sec1-empty-sequence"] = ("EC PRIVATE KEY", Der(Seq()), malformed),
            ["dsa-traditional-short"] = ("DSA PRIVATE KEY", Der(Seq(Int(0), Int(dp.P))), malformed),
            ["dsa-traditional-zero"] = ("DSA PRIVATE KEY", Der(Seq(Int(0), Int(0), Int(0), Int(0), Int(0), Int(0))), malformed),
        };
        return d;
    });

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (KeyValuePair<string, (string Label, byte[] Der, string[] Ids)> s in Shapes.Value.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            foreach (string path in new[] { "pem", "service-key", "key-file" })
            {
                data.Add(s.Key, path);
            }

            if (s.Value.Label == "PRIVATE KEY")
            {
                foreach (string path in new[] { "pem-encrypted", "pkcs12-keybag", "pkcs12-shrouded" })
                {
                    data.Add(s.Key, path);
                }
            }
        }

        return data;
    }

    private static SecureString Secure(string s) => new System.Net.NetworkCredential(string.Empty, s).SecurePassword;

    private static string Pem(string label, byte[] der) => RobustnessTests.Pem(label, der);

    private static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    /// <summary>Any bytes encrypted as an EncryptedPrivateKeyInfo (PKCS#12 PBE, 3DES), so that damage inside survives.</summary>
    private static EncryptedPrivateKeyInfo Encrypt(byte[] pkcs8)
    {
        DerObjectIdentifier oid = PkcsObjectIdentifiers.PbeWithShaAnd3KeyTripleDesCbc;
        var parameters = new Pkcs12PbeParams(new byte[8], 2048);
        var cipher = (Org.BouncyCastle.Crypto.IBufferedCipher)PbeUtilities.CreateEngine(oid);
        cipher.Init(true, PbeUtilities.GenerateCipherParameters(oid, Password.ToCharArray(), parameters));
        return new EncryptedPrivateKeyInfo(new AlgorithmIdentifier(oid, parameters), cipher.DoFinal(pkcs8));
    }

    private static byte[] Pfx(SafeBag keyBag)
    {
        var certBag = new SafeBag(PkcsObjectIdentifiers.CertBag, new CertBag(PkcsObjectIdentifiers.X509Certificate, new DerOctetString(Pki.Leaf.Der)));
        var safe = new ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(Seq(certBag, keyBag).GetEncoded()));
        var authSafe = new ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(Seq(safe).GetEncoded()));
        return Seq(Int(3), authSafe).GetEncoded();
    }

    /// <summary>Reads the shape one way; the exception it fails with, or null when it was read.</summary>
    private static Exception? ReadThrough(string path, string label, byte[] der)
    {
        try
        {
            switch (path)
            {
                case "pem":
                    ContainerReader.ReadBytes(Ascii(Pem(label, der)), "key.pem", null, null);
                    break;
                case "pem-encrypted":
                    ContainerReader.ReadBytes(Ascii(Pem("ENCRYPTED PRIVATE KEY", Encrypt(der).GetEncoded())), "key.pem", Secure(Password), null);
                    break;
                case "pkcs12-keybag":
                    ContainerReader.ReadBytes(Pfx(new SafeBag(PkcsObjectIdentifiers.KeyBag, Asn1Object.FromByteArray(der))), "key.pfx", null, null);
                    break;
                case "pkcs12-shrouded":
                    ContainerReader.ReadBytes(Pfx(new SafeBag(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag, Encrypt(der))), "key.pfx", Secure(Password), null);
                    break;
                case "service-key":
                    ServiceKeyReader.Read(JObject.Parse(Pki.ServiceKeyJson(key: Pem(label, der))), "service key");
                    break;
                case "key-file":
                    using (var dir = new TempDir())
                    {
                        string cert = Path.Combine(dir.Path, "cert.pem");
                        string key = Path.Combine(dir.Path, "key.pem");
                        File.WriteAllText(cert, Pki.Leaf.CertificatePem);
                        File.WriteAllText(key, Pem(label, der));
                        PemFilePair.Read(cert, Array.Empty<string>(), key, () => null);
                    }

                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(path));
            }
        }
        catch (Exception ex)
        {
            return ex;
        }

        return null;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AKeyOfAnOddShapeIsACategorisedErrorWithNoCrashInside(string shape, string path)
    {
        (string label, byte[] der, string[] ids) = Shapes.Value[shape];
        Exception? error = ReadThrough(path, label, der);
        if (error is null)
        {
            Assert.Contains(Read, ids);
            return;
        }

        var cie = Assert.IsType<CertIntegrationException>(error);
        if (path == "pem-encrypted" && shape is "empty-sequence" or "no-algorithm")
        {
            // No PrivateKeyInfo at all after decryption: the PEM reader cannot tell it from a wrong password, and says both.
            ids = new[] { ErrorIds.PrivateKeyPasswordIncorrect };
        }

        Assert.True(ids.Contains(cie.ErrorId), $"{shape} through {path}: {cie.ErrorId}: {cie.Message}");
        for (Exception? e = cie; e is not null; e = e.InnerException)
        {
            Assert.False(ContainerCorpusTests.IsCrash(e) || e is NullReferenceException or ArithmeticException or FormatException,
                $"{shape} through {path}: {cie.ErrorId} hides {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }

        Assert.True(cie.Message.Length < 400, cie.Message);
    }
}
