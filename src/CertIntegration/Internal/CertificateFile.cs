using System.Collections.Generic;
using System.Management.Automation;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Internal;

/// <summary>Reads the certificates of a PEM file, or of a single DER certificate file.</summary>
internal static class CertificateFile
{
    public static IReadOnlyList<BcX509> Read(string path)
    {
        byte[] bytes = SafeFile.ReadBounded(path);
        string source = $"Certificate file '{path}'";
        if (bytes.Length > 0 && bytes[0] == 0x30)
        {
            return new[] { PemText.ParseCertificate(bytes, source, 1, "DER") };
        }

        PemContents pem = PemText.Read(SafeFile.DecodeText(bytes), source);
        if (pem.Certificates.Count == 0)
        {
            throw new CertIntegrationException(ErrorIds.PemNoCertificate, ErrorCategory.InvalidData, $"{source} contains no certificate.");
        }

        return pem.Certificates;
    }
}
