using System;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Utilities;
using Org.BouncyCastle.X509;

namespace CertIntegration.Core.Keys;

/// <summary>
/// A private key held inside a bundle. BouncyCastle types stay internal; nothing here prints key material.
/// </summary>
internal sealed class PrivateKeyMaterial
{
    public PrivateKeyMaterial(AsymmetricKeyParameter privateKey)
    {
        if (privateKey is null || !privateKey.IsPrivate)
        {
            throw new ArgumentException("A private key is required.", nameof(privateKey));
        }

        Key = privateKey;
        if (privateKey is RsaPrivateCrtKeyParameters crt && !IsConsistent(crt))
        {
            throw new CertIntegrationException(
                ErrorIds.PrivateKeyMalformed,
                FailureKind.InvalidData,
                "The RSA private key is inconsistent: its primes do not multiply to its modulus.");
        }

        if (privateKey is RsaKeyParameters and not RsaPrivateCrtKeyParameters)
        {
            throw new CertIntegrationException(
                ErrorIds.PrivateKeyMalformed,
                FailureKind.InvalidData,
                "The RSA private key lacks its CRT parameters and public exponent, so it cannot be checked against a certificate.");
        }

        // The public half is derived from the private key (never trusted from a file's own public field). RSA keys
        // are named by modulus and exponent, without building an RSA public key (see RsaId). Unsupported key types
        // fail here, at read time.
        PublicKeyId = privateKey is RsaPrivateCrtKeyParameters rsa
            ? RsaId(rsa.Modulus, rsa.PublicExponent)
            : Convert.ToBase64String(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(DerivePublicKey(privateKey)).PublicKey.GetOctets());
    }

    public AsymmetricKeyParameter Key { get; }

    /// <summary>The public key as <see cref="PublicKeyIdOf"/> encodes a certificate's.</summary>
    public string PublicKeyId { get; }

    public string Algorithm => Key switch
    {
        RsaKeyParameters => "RSA",
        ECPrivateKeyParameters => "EC",
        Ed25519PrivateKeyParameters => "Ed25519",
        Ed448PrivateKeyParameters => "Ed448",
        DsaPrivateKeyParameters => "DSA",
        _ => Key.GetType().Name,
    };

    public int KeySize => Key switch
    {
        RsaKeyParameters rsa => rsa.Modulus.BitLength,
        ECPrivateKeyParameters ec => ec.Parameters.Curve.FieldSize,
        Ed25519PrivateKeyParameters => 256,
        Ed448PrivateKeyParameters => 456,
        DsaPrivateKeyParameters dsa => dsa.Parameters.P.BitLength,
        _ => 0,
    };

    public PrivateKeyInfo ToPrivateKeyInfo() => PrivateKeyInfoFactory.CreatePrivateKeyInfo(Key);

    // RSA keys are compared by modulus and exponent as the certificate encodes them: decoding a certificate's RSA key
    // through BouncyCastle runs a primality test on the modulus, which costs more than the whole comparison.
    private static string RsaId(Org.BouncyCastle.Math.BigInteger modulus, Org.BouncyCastle.Math.BigInteger exponent) =>
        "RSA:" + Convert.ToBase64String(new RsaPublicKeyStructure(modulus, exponent).GetDerEncoded());

    /// <summary>
    /// The certificate's public key, decoded and re-encoded, or null when it cannot be decoded. Both sides are
    /// re-encoded the same way, so encodings that differ but name the same key (an EC point stored compressed, as
    /// RFC 5480 allows) still match.
    /// </summary>
    public static string? PublicKeyIdOf(X509Certificate certificate)
    {
        try
        {
            SubjectPublicKeyInfo spki = certificate.CertificateStructure.SubjectPublicKeyInfo;
            string oid = spki.Algorithm.Algorithm.Id;
            if (oid == PkcsObjectIdentifiers.RsaEncryption.Id || oid == PkcsObjectIdentifiers.IdRsassaPss.Id)
            {
                RsaPublicKeyStructure rsa = RsaPublicKeyStructure.GetInstance(spki.ParsePublicKey());
                return RsaId(rsa.Modulus, rsa.PublicExponent);
            }

            return Convert.ToBase64String(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(certificate.GetPublicKey()).PublicKey.GetOctets());
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>True when this key is the private half of the certificate's public key.</summary>
    public bool Matches(X509Certificate certificate) =>
        PublicKeyIdOf(certificate) is { } id && string.Equals(id, PublicKeyId, StringComparison.Ordinal);

    public bool Matches(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        Matches(new X509Certificate(certificate.RawData));

    public static void EnsureMatches(PrivateKeyMaterial key, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        if (!key.Matches(certificate))
        {
            throw new CertIntegrationException(
                ErrorIds.KeyCertificateMismatch,
                FailureKind.InvalidData,
                $"The private key does not belong to the certificate '{Messages.Quote(certificate.Subject)}' (thumbprint {certificate.Thumbprint}): its public key differs. Pair the certificate with the key that was created with it.");
        }
    }

    /// <summary>
    /// Exact check of an RSA CRT key: p and q are proper factors of n. This is what makes BouncyCastle's probabilistic
    /// modulus test redundant for keys read through <see cref="ReadWithoutModulusTest{T}"/>.
    /// </summary>
    private static bool IsConsistent(RsaPrivateCrtKeyParameters k) =>
        k.P.CompareTo(Org.BouncyCastle.Math.BigInteger.One) > 0
        && k.Q.CompareTo(Org.BouncyCastle.Math.BigInteger.One) > 0
        && k.P.Multiply(k.Q).Equals(k.Modulus);

    /// <summary>
    /// Runs a private-key parse with BouncyCastle's Miller-Rabin test of RSA moduli switched off for this thread only
    /// (tens of milliseconds per 2048-bit key, the slowest step of reading a service key). The key that comes out is
    /// checked exactly instead when it becomes a <see cref="PrivateKeyMaterial"/> (p * q = n).
    /// </summary>
    public static T ReadWithoutModulusTest<T>(Func<T> parse) =>
        Org.BouncyCastle.Utilities.Properties.WithThreadProperty("Org.BouncyCastle.Rsa.MaxMRTests", "0", parse);

    /// <summary>The public half of a non-RSA key (RSA keys are named by <see cref="RsaId"/>).</summary>
    private static AsymmetricKeyParameter DerivePublicKey(AsymmetricKeyParameter key)
    {
        switch (key)
        {
            case ECPrivateKeyParameters ec:
                return ec.PublicKeyParamSet is not null
                    ? new ECPublicKeyParameters(ec.AlgorithmName, ec.Parameters.G.Multiply(ec.D).Normalize(), ec.PublicKeyParamSet)
                    : new ECPublicKeyParameters(ec.AlgorithmName, ec.Parameters.G.Multiply(ec.D).Normalize(), ec.Parameters);
            case Ed25519PrivateKeyParameters ed:
                return ed.GeneratePublicKey();
            case Ed448PrivateKeyParameters ed448:
                return ed448.GeneratePublicKey();
            case DsaPrivateKeyParameters dsa:
                return new DsaPublicKeyParameters(dsa.Parameters.G.ModPow(dsa.X, dsa.Parameters.P), dsa.Parameters);
            default:
                throw new CertIntegrationException(
                    ErrorIds.UnsupportedAlgorithm,
                    FailureKind.NotImplemented,
                    $"Private keys of type {key.GetType().Name} are not supported.");
        }
    }
}
