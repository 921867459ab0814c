using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Asn1;
using CmsObjectIdentifiers = Org.BouncyCastle.Asn1.Cms.CmsObjectIdentifiers;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using BcPemObject = Org.BouncyCastle.Utilities.IO.Pem.PemObject;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Containers;

/// <summary>
/// Pure encoders for certificate and key files: no file access, no PowerShell. Certificate encoders take DER bytes
/// and never see a key; key encoders are separate so that a certificate export cannot reach key material.
/// </summary>
internal static class CertificateExport
{
    private const string CertificateLabel = "CERTIFICATE";
    private const int SaltSize = 16;

    /// <summary>PEM armour for one certificate: 64-character lines, <paramref name="newline"/> after every line.</summary>
    public static string ToPem(byte[] der, string newline = "\n") => WritePem(new BcPemObject(CertificateLabel, der), newline);

    /// <summary>Windows' "Base-64 encoded X.509 (.CER)": PEM armour with CRLF line ends, ASCII.</summary>
    public static byte[] ToBase64Cer(byte[] der) => Encoding.ASCII.GetBytes(ToPem(der, "\r\n"));

    /// <summary>Several certificates in one PEM text, in the given order (leaf first for a chain), LF line ends.</summary>
    public static string ToPemBundle(IEnumerable<byte[]> ders) => string.Concat(ders.Select(d => ToPem(d)));

    /// <summary>
    /// -----BEGIN CERTIFICATE-----Base64-----END CERTIFICATE----- on one line, without any line break: the form
    /// some web forms (e.g. an X.509 field) take.
    /// </summary>
    public static string ToSingleLine(byte[] der) =>
        "-----BEGIN " + CertificateLabel + "-----" + Convert.ToBase64String(der) + "-----END " + CertificateLabel + "-----";

    /// <summary>
    /// A PKCS#7 / CMS certificates-only message ("degenerate" SignedData: no content, no signers), DER-encoded as
    /// Windows and OpenSSL write .p7b files. The certificates keep the given order (leaf first) rather than DER's
    /// sorted SET order, so readers list them as a chain; every reader takes either.
    /// </summary>
    public static byte[] ToP7b(IEnumerable<byte[]> ders)
    {
        Asn1Encodable[] certs = ders.Select(d => (Asn1Encodable)X509CertificateStructureOf(d)).ToArray();
        if (certs.Length == 0)
        {
            throw new ArgumentException("No certificates to write.", nameof(ders));
        }

        // SignedData ::= SEQUENCE { version 1, digestAlgorithms {}, encapContentInfo { id-data }, certificates [0] IMPLICIT, signerInfos {} }
        // Built from DL (definite-length, unsorted) types: the DER classes would sort the certificate SET by encoding.
        var signedData = new DLSequence(
            DerInteger.One,
            DerSet.Empty,
            new DLSequence(CmsObjectIdentifiers.Data),
            new DLTaggedObject(false, 0, new DLSet(certs)),
            DerSet.Empty);
        var contentInfo = new DLSequence(CmsObjectIdentifiers.SignedData, new DLTaggedObject(true, 0, signedData));
        return contentInfo.GetEncoded(Asn1Encodable.DL);
    }

    private static X509CertificateStructure X509CertificateStructureOf(byte[] der) =>
        X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(der));

    /// <summary>
    /// The role of each certificate of a chain (leaf first): the last one is Root when it is self-signed, the first
    /// is Leaf (or Root when the chain is one self-signed certificate), everything else is Intermediate. A lone
    /// self-signed certificate whose private key is at hand (<paramref name="leafHasKey"/>) is the end entity of its
    /// owner as well as its own root: it is Leaf and Root, so that -Include Leaf finds a self-signed client certificate.
    /// </summary>
    public static CertificateRole[] Roles(IReadOnlyList<X509Certificate2> chain, bool leafHasKey = false)
    {
        var roles = new CertificateRole[chain.Count];
        for (int i = 0; i < chain.Count; i++)
        {
            bool last = i == chain.Count - 1;
            roles[i] = last && IsSelfSigned(chain[i]) ? CertificateRole.Root
                : i == 0 ? CertificateRole.Leaf
                : CertificateRole.Intermediate;
        }

        if (leafHasKey && chain.Count > 0)
        {
            roles[0] |= CertificateRole.Leaf;
        }

        return roles;
    }

    /// <summary>Subject equals issuer and the signature verifies with the certificate's own key (or cannot be checked).</summary>
    public static bool IsSelfSigned(X509Certificate2 certificate)
    {
        BcX509 cert;
        try
        {
            cert = new BcX509(certificate.RawData);
        }
        catch (Exception)
        {
            return false;
        }

        if (!ChainBuilder.IsSelfIssued(cert))
        {
            return false;
        }

        try
        {
            cert.Verify(cert.GetPublicKey());
            return true;
        }
        catch (Exception ex) when (ex is InvalidKeyException or SignatureException or Org.BouncyCastle.Security.Certificates.CertificateException or CryptoException)
        {
            return false; // same name as its issuer, but signed by another key: a re-keyed CA's cross certificate
        }
        catch (Exception)
        {
            return true; // unknown signature algorithm: go by the name
        }
    }

    /// <summary>
    /// The private key as PEM (LF line ends, trailing newline). Pkcs8 writes PRIVATE KEY, or ENCRYPTED PRIVATE KEY
    /// (PBES2: AES-256-CBC, PBKDF2-HMAC-SHA256, <paramref name="iterations"/>, 16-byte random salt) when a password
    /// is given. Pkcs1 writes RSA PRIVATE KEY or, for EC keys, EC PRIVATE KEY (SEC 1), never encrypted.
    /// </summary>
    public static string KeyToPem(PrivateKeyMaterial key, PrivateKeyFormat format, char[]? password = null) =>
        KeyToPem(key, format, password, Limits.WriteKdfIterations, null);

    /// <summary>As <see cref="KeyToPem(PrivateKeyMaterial, PrivateKeyFormat, char[])"/>, with the iteration count and randomness chosen (tests).</summary>
    public static string KeyToPem(PrivateKeyMaterial key, PrivateKeyFormat format, char[]? password, int iterations, SecureRandom? random)
    {
        if (iterations < Limits.WriteKdfIterations)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), $"At least {Limits.WriteKdfIterations} iterations are used.");
        }

        switch (format)
        {
            case PrivateKeyFormat.Pkcs8 when password is null:
                return WritePem(new Pkcs8Generator(key.Key).Generate(), "\n");
            case PrivateKeyFormat.Pkcs8:
                return WritePem(new BcPemObject("ENCRYPTED PRIVATE KEY", EncryptPkcs8(key, password, iterations, random ?? new SecureRandom())), "\n");
            case PrivateKeyFormat.Pkcs1 when password is not null:
                throw new CertIntegrationException(ErrorIds.PasswordWithPkcs1, FailureKind.InvalidArgument,
                    "An encrypted key is written only as PKCS#8. Traditional PEM encryption (Proc-Type/DEK-Info) derives the key with one round of MD5 and is weak.");
            case PrivateKeyFormat.Pkcs1 when key.Key is RsaPrivateCrtKeyParameters or ECPrivateKeyParameters:
            {
                // MiscPemGenerator writes RSA keys as PKCS#1 RSAPrivateKey and EC keys as the SEC 1 ECPrivateKey.
                return WritePem(new MiscPemGenerator(key.Key).Generate(), "\n");
            }

            case PrivateKeyFormat.Pkcs1:
                throw new CertIntegrationException(ErrorIds.PrivateKeyFormatUnsupported, FailureKind.InvalidArgument,
                    $"{key.Algorithm} keys have no traditional (PKCS#1 / SEC 1) PEM form; use -Format Pkcs8.");
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
    }

    /// <summary>
    /// EncryptedPrivateKeyInfo with PBES2: PBKDF2-HMAC-SHA256 (16-byte salt) and AES-256-CBC, as OpenSSL 3 writes it.
    /// The password enters PBKDF2 as UTF-8 (see <see cref="PbePassword"/>).
    /// </summary>
    public static byte[] EncryptPkcs8(PrivateKeyMaterial key, char[] password, int iterations, SecureRandom random)
    {
        byte[] salt = new byte[SaltSize];
        random.NextBytes(salt);
        char[] utf8 = PbePassword.Utf8AsChars(password);
        try
        {
            return EncryptedPrivateKeyInfoFactory.CreateEncryptedPrivateKeyInfo(
                NistObjectIdentifiers.IdAes256Cbc, PkcsObjectIdentifiers.IdHmacWithSha256, utf8, salt, iterations, random, key.ToPrivateKeyInfo()).GetEncoded();
        }
        finally
        {
            Array.Clear(utf8, 0, utf8.Length);
        }
    }

    private static string WritePem(Org.BouncyCastle.Utilities.IO.Pem.PemObjectGenerator pem, string newline)
    {
        using var sw = new StringWriter(System.Globalization.CultureInfo.InvariantCulture) { NewLine = newline };
        var writer = new PemWriter(sw);
        writer.WriteObject(pem);
        writer.Writer.Flush();

        // Whatever line ends the writer used, the caller's choice wins.
        string text = sw.ToString().Replace("\r\n", "\n");
        if (!text.EndsWith("\n", StringComparison.Ordinal))
        {
            text += "\n";
        }

        return newline == "\n" ? text : text.Replace("\n", newline);
    }
}
