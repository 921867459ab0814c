using System.Collections.Generic;
using System.Linq;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Containers;

/// <summary>
/// Reads the certificates of a certificate file for New-PfxFromPem -CertificatePath/-ChainPath: PEM text (any number of
/// certificates; keys in it are left alone), or a binary container (DER certificate, PKCS#7 .p7b) or PEM PKCS#7, read
/// through <see cref="ContainerReader"/> as Import-CertificateBundle reads them.
/// </summary>
internal static class CertificateFile
{
    public static IReadOnlyList<BcX509> Read(string path)
    {
        byte[] bytes = SafeFile.ReadBounded(path);
        string source = $"Certificate file '{path}'";
        if (bytes.Length > 0 && bytes[0] == 0x30)
        {
            return FromContainer(bytes, path);
        }

        PemContents pem = PemText.Read(SafeFile.DecodeText(bytes), source);
        if (pem.Certificates.Count == 0)
        {
            if (pem.Skipped.Any(s => ContainerReader.Pkcs7Labels.Contains(s)))
            {
                return FromContainer(bytes, path);
            }

            throw new CertIntegrationException(ErrorIds.PemNoCertificate, FailureKind.InvalidData, $"{source} contains no certificate.");
        }

        return pem.Certificates;
    }

    // Certificates only: a password-protected container (PFX, JKS) is refused with its password error, as no password
    // is asked for here; keys in the file are not taken.
    private static IReadOnlyList<BcX509> FromContainer(byte[] bytes, string path) =>
        ContainerReader.ReadBytes(bytes, path, null, null)
            .SelectMany(b => b.Chain)
            .Select(c => new BcX509(c.RawData))
            .ToList();
}
