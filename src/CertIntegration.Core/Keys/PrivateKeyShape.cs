using System;
using System.IO;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace CertIntegration.Core.Keys;

/// <summary>
/// Every private key the module reads becomes a key here: a PKCS#8 PrivateKeyInfo (PEM "PRIVATE KEY", decrypted
/// "ENCRYPTED PRIVATE KEY", PKCS#12 key bags) or a traditional OpenSSL block (PKCS#1 "RSA PRIVATE KEY", SEC1
/// "EC PRIVATE KEY", "DSA PRIVATE KEY"), turned into PrivateKeyInfo with BouncyCastle's structure classes. Before
/// BouncyCastle's key factory sees it, the shape is checked for the key types the module supports (RSA, RSA-PSS, EC,
/// DSA, Ed25519, Ed448): key data present and DER, the fields each type needs, domain parameters present and of a
/// bounded size, the secret in range. The factory itself meets empty or missing parts with a NullReferenceException or
/// an InvalidCastException; here they are a <see cref="ErrorIds.PrivateKeyMalformed"/> that says what is wrong.
/// </summary>
internal static class PrivateKeyShape
{
    /// <summary>Largest field of an EC curve given by explicit parameters (the largest standard curve, sect571).</summary>
    public const int MaxEcFieldBits = 571;

    private static readonly DerObjectIdentifier Dsa = X9ObjectIdentifiers.IdDsa;

    /// <summary>The key of a PKCS#8 structure. <paramref name="subject"/> names it in messages ("'a.pem', line 3: the 'PRIVATE KEY' block").</summary>
    public static PrivateKeyMaterial FromPkcs8(PrivateKeyInfo info, string subject)
    {
        Check(info, subject);
        AsymmetricKeyParameter key;
        try
        {
            key = PrivateKeyMaterial.ReadWithoutModulusTest(() => PrivateKeyFactory.CreateKey(info));
        }
        catch (Exception ex) when (ex is SecurityUtilityException or NotSupportedException)
        {
            throw Unsupported(subject, info.PrivateKeyAlgorithm.Algorithm, ex);
        }
        catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex) && ex is not InvalidCastException)
        {
            throw Malformed(subject, Messages.Clause(ex.Message), ex);
        }

        return new PrivateKeyMaterial(key);
    }

    /// <summary>The key of the DER of a PEM block of <paramref name="label"/> ("PRIVATE KEY" or a traditional one).</summary>
    public static PrivateKeyMaterial FromPemBlock(string label, byte[] der, string subject) =>
        FromPkcs8(ToPrivateKeyInfo(label, der, subject), subject);

    /// <summary>A traditional OpenSSL key block (or PKCS#8 "PRIVATE KEY") as PrivateKeyInfo, as BouncyCastle's PEM reader builds it.</summary>
    private static PrivateKeyInfo ToPrivateKeyInfo(string label, byte[] der, string subject)
    {
        Asn1Sequence seq = Sequence(der, subject, "its content");
        try
        {
            switch (label)
            {
                case "RSA PRIVATE KEY":
                    return new PrivateKeyInfo(new AlgorithmIdentifier(PkcsObjectIdentifiers.RsaEncryption, DerNull.Instance), Rsa(seq, subject));
                case "EC PRIVATE KEY":
                    ECPrivateKeyStructure ec = Ec(seq, subject);
                    Asn1Encodable? curve = ec.Parameters;
                    if (curve is null)
                    {
                        throw Malformed(subject, "the EC key names no curve (its [0] parameters are missing)");
                    }

                    return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.IdECPublicKey, curve), ec);
                case "DSA PRIVATE KEY":
                    // OpenSSL's structure: version, p, q, g, y, x.
                    if (seq.Count != 6)
                    {
                        throw Malformed(subject, $"a DSA key has 6 fields (version, p, q, g, y, x), this one {seq.Count}");
                    }

                    var p = new DsaParameter(Integer(seq[1], subject, "p"), Integer(seq[2], subject, "q"), Integer(seq[3], subject, "g"));
                    return new PrivateKeyInfo(new AlgorithmIdentifier(Dsa, p), new DerInteger(Integer(seq[5], subject, "x")));
                default:
                    return Info(seq, subject);
            }
        }
        catch (ArgumentException ex)
        {
            throw Malformed(subject, Messages.Clause(ex.Message), ex);
        }
    }

    /// <summary>A PKCS#8 structure (a PKCS#12 key bag's content), or <see cref="ErrorIds.PrivateKeyMalformed"/> when it is none.</summary>
    public static PrivateKeyInfo Info(Asn1Encodable e, string subject)
    {
        try
        {
            return PrivateKeyInfo.GetInstance(e) ?? throw Malformed(subject, "it is empty");
        }
        catch (ArgumentException ex)
        {
            throw Malformed(subject, $"it is not a PKCS#8 PrivateKeyInfo ({Messages.Clause(ex.Message)})", ex);
        }
    }

    /// <summary>Checks the shape of a PKCS#8 key of a supported type; other types are <see cref="ErrorIds.UnsupportedAlgorithm"/>.</summary>
    public static void Check(PrivateKeyInfo info, string subject)
    {
        AlgorithmIdentifier alg = info.PrivateKeyAlgorithm;
        DerObjectIdentifier oid = alg.Algorithm;
        byte[] data = info.PrivateKey.GetOctets();
        if (data.Length == 0)
        {
            throw Malformed(subject, $"its {Name(oid)} key data is empty");
        }

        if (oid.Equals(PkcsObjectIdentifiers.RsaEncryption) || oid.Equals(PkcsObjectIdentifiers.IdRsassaPss))
        {
            RsaPrivateKeyStructure rsa = Rsa(Sequence(data, subject, "its RSA key data"), subject);
            KeySizeGuard.CheckModulus(rsa.Modulus, subject, "the key");
        }
        else if (oid.Equals(X9ObjectIdentifiers.IdECPublicKey))
        {
            BigInteger order = CurveOrder(alg.Parameters, subject);
            BigInteger d = Ec(Sequence(data, subject, "its EC key data"), subject).GetKey();
            if (d.SignValue <= 0 || d.CompareTo(order) >= 0)
            {
                throw Malformed(subject, "its EC secret is not between 1 and the order of its curve");
            }
        }
        else if (oid.Equals(Dsa))
        {
            Asn1Object? parameters = alg.Parameters?.ToAsn1Object();
            if (parameters is null or Asn1Null)
            {
                throw Malformed(subject, "the DSA key has no domain parameters (p, q, g)");
            }

            if (parameters is not Asn1Sequence ps || ps.Count != 3)
            {
                throw Malformed(subject, "the DSA domain parameters are not the three integers p, q, g");
            }

            BigInteger p = Integer(ps[0], subject, "p"), q = Integer(ps[1], subject, "q"), g = Integer(ps[2], subject, "g");
            if (p.BitLength > KeySizeGuard.MaxRsaBits)
            {
                throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                    $"{subject}: a {p.BitLength}-bit DSA key; at most {KeySizeGuard.MaxRsaBits} bits are read.");
            }

            BigInteger x = Integer(Parse(data, subject, "its DSA key data"), subject, "x");
            if (p.CompareTo(BigInteger.Two) <= 0 || q.CompareTo(BigInteger.One) <= 0 || q.BitLength > p.BitLength || g.CompareTo(BigInteger.One) <= 0 || g.CompareTo(p) >= 0
                || x.SignValue <= 0 || x.CompareTo(q) >= 0)
            {
                throw Malformed(subject, "its DSA parameters or secret are out of range");
            }
        }
        else if (oid.Equals(EdECObjectIdentifiers.id_Ed25519) || oid.Equals(EdECObjectIdentifiers.id_Ed448))
        {
            int want = oid.Equals(EdECObjectIdentifiers.id_Ed25519) ? 32 : 57;
            if (Parse(data, subject, $"its {Name(oid)} key data") is not Asn1OctetString secret || secret.GetOctets().Length != want)
            {
                throw Malformed(subject, $"an {Name(oid)} key is an OCTET STRING of {want} bytes");
            }
        }
        else
        {
            throw Unsupported(subject, oid, null);
        }
    }

    private static RsaPrivateKeyStructure Rsa(Asn1Sequence seq, string subject)
    {
        if (seq.Count < 9)
        {
            throw Malformed(subject, $"an RSA key has 9 fields (version, modulus, exponents, primes, coefficients), this one {seq.Count}");
        }

        for (int i = 0; i < 9; i++)
        {
            if (seq[i] is not DerInteger)
            {
                throw Malformed(subject, $"field {i + 1} of the RSA key is not an INTEGER");
            }
        }

        RsaPrivateKeyStructure rsa;
        try
        {
            rsa = RsaPrivateKeyStructure.GetInstance(seq);
        }
        catch (ArgumentException ex)
        {
            throw Malformed(subject, Messages.Clause(ex.Message), ex);
        }

        if (rsa.Modulus.SignValue <= 0 || rsa.PublicExponent.SignValue <= 0 || rsa.PrivateExponent.SignValue <= 0
            || rsa.Prime1.SignValue <= 0 || rsa.Prime2.SignValue <= 0 || rsa.Exponent1.SignValue <= 0 || rsa.Exponent2.SignValue <= 0
            || rsa.Coefficient.SignValue <= 0)
        {
            throw Malformed(subject, "an RSA field that must be positive is zero or negative");
        }

        return rsa;
    }

    private static ECPrivateKeyStructure Ec(Asn1Sequence seq, string subject)
    {
        if (seq.Count < 2 || seq[0] is not DerInteger || seq[1] is not Asn1OctetString secret)
        {
            throw Malformed(subject, "an EC key is a SEQUENCE of a version and the secret as an OCTET STRING");
        }

        if (secret.GetOctets().Length == 0)
        {
            throw Malformed(subject, "its EC secret is empty");
        }

        try
        {
            return ECPrivateKeyStructure.GetInstance(seq);
        }
        catch (ArgumentException ex)
        {
            throw Malformed(subject, Messages.Clause(ex.Message), ex);
        }
    }

    /// <summary>The order of the curve that EC parameters name: a known named curve, or explicit parameters of a bounded field.</summary>
    private static BigInteger CurveOrder(Asn1Encodable? parameters, string subject)
    {
        if (parameters is null)
        {
            throw Malformed(subject, "the EC key names no curve (the algorithm has no parameters)");
        }

        X962Parameters p;
        try
        {
            p = X962Parameters.GetInstance(parameters);
        }
        catch (ArgumentException ex)
        {
            throw Malformed(subject, "its EC parameters are neither a curve name nor a curve", ex);
        }

        if (p.IsImplicitlyCA)
        {
            throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                $"{subject}: the EC key inherits its curve (implicitlyCA), which is not supported.");
        }

        if (p.IsNamedCurve)
        {
            DerObjectIdentifier curve = (DerObjectIdentifier)p.Parameters;
            X9ECParameters? named = Org.BouncyCastle.Crypto.EC.CustomNamedCurves.GetByOid(curve) ?? ECNamedCurveTable.GetByOid(curve);
            if (named is null)
            {
                throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                    $"{subject}: the EC key's curve {Messages.Quote(curve.Id)} is not a curve this module knows.");
            }

            return named.N;
        }

        // ECParameters: version, fieldID, curve, base, order[, cofactor]; BouncyCastle indexes into them unchecked.
        if (p.Parameters is not Asn1Sequence e || e.Count < 5 || e.Count > 6 || e[0] is not DerInteger || e[1] is not Asn1Sequence { Count: 2 } field
            || field[0] is not DerObjectIdentifier || e[2] is not Asn1Sequence { Count: >= 2 } || e[3] is not Asn1OctetString || e[4] is not DerInteger)
        {
            throw Malformed(subject, "its explicit EC curve parameters are not version, field, curve, base point and order");
        }

        // The field's size before BouncyCastle builds the curve (it tests a prime field for primality): a prime, or
        // the degree m of a binary field.
        BigInteger size = field[1] switch
        {
            DerInteger prime => BigInteger.ValueOf(prime.Value.BitLength),
            Asn1Sequence { Count: > 0 } binary when binary[0] is DerInteger m => m.Value,
            _ => throw Malformed(subject, "its explicit EC curve has a field that is neither a prime nor a binary field"),
        };
        if (size.CompareTo(BigInteger.ValueOf(MaxEcFieldBits)) > 0)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"{subject}: its explicit EC curve has a field of {Messages.Quote(size.ToString())} bits; at most {MaxEcFieldBits} are read.");
        }

        X9ECParameters explicitCurve;
        try
        {
            explicitCurve = X9ECParameters.GetInstance(p.Parameters);
        }
        catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex))
        {
            throw Malformed(subject, $"its explicit EC curve parameters are malformed ({Messages.Clause(ex.Message)})", ex);
        }
        catch (ArithmeticException ex)
        {
            throw Malformed(subject, $"its explicit EC curve parameters do not make a curve ({Messages.Clause(ex.Message)})");
        }

        // The order is about the size of the field (Hasse); the secret below it is what the public key is derived with.
        if (explicitCurve.N is null || explicitCurve.N.SignValue <= 0 || explicitCurve.N.BitLength > explicitCurve.Curve.FieldSize + 1)
        {
            throw Malformed(subject, "its explicit EC curve has no positive order of the size of its field");
        }

        return explicitCurve.N;
    }

    private static Asn1Object Parse(byte[] data, string subject, string what)
    {
        try
        {
            Asn1Guard.Check(data, subject);
            return Asn1Object.FromByteArray(data) ?? throw Malformed(subject, $"{what} is empty");
        }
        catch (CertIntegrationException ex) when (ex.ErrorId == ErrorIds.ContainerCorrupt)
        {
            throw Malformed(subject, $"{what} is not valid DER", ex);
        }
        catch (IOException ex)
        {
            throw Malformed(subject, $"{what} is not valid DER ({Messages.Clause(ex.Message)})", ex);
        }
    }

    private static Asn1Sequence Sequence(byte[] data, string subject, string what) =>
        Parse(data, subject, what) as Asn1Sequence ?? throw Malformed(subject, $"{what} is not a SEQUENCE");

    private static BigInteger Integer(Asn1Encodable e, string subject, string name) =>
        e is DerInteger i ? i.Value : throw Malformed(subject, $"its '{name}' is not an INTEGER");

    private static string Name(DerObjectIdentifier oid) =>
        oid.Equals(PkcsObjectIdentifiers.RsaEncryption) ? "RSA"
        : oid.Equals(PkcsObjectIdentifiers.IdRsassaPss) ? "RSA-PSS"
        : oid.Equals(X9ObjectIdentifiers.IdECPublicKey) ? "EC"
        : oid.Equals(Dsa) ? "DSA"
        : oid.Equals(EdECObjectIdentifiers.id_Ed25519) ? "Ed25519"
        : oid.Equals(EdECObjectIdentifiers.id_Ed448) ? "Ed448"
        : Messages.Quote(oid.Id);

    public static CertIntegrationException Malformed(string subject, string what, Exception? inner = null) =>
        new(ErrorIds.PrivateKeyMalformed, FailureKind.InvalidData, $"{subject} is not a valid private key: {Messages.Clause(what, clip: false)}.", inner);

    private static CertIntegrationException Unsupported(string subject, DerObjectIdentifier oid, Exception? inner) =>
        new(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
            $"{subject} is a private key of algorithm {Name(oid)}, which is not supported (RSA, RSA-PSS, EC, DSA, Ed25519 and Ed448 are).", inner);
}
