using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Containers;

/// <summary>BouncyCastle certificates as .NET certificates.</summary>
internal static class X509Conversion
{
    internal static X509Certificate2 ToX509(Org.BouncyCastle.X509.X509Certificate cert) => ToX509(cert, "The input");

    /// <summary>
    /// A certificate BouncyCastle has read, as .NET's type. .NET parses it again and can refuse what BouncyCastle took:
    /// that is a malformed certificate, named as such.
    /// </summary>
    internal static X509Certificate2 ToX509(Org.BouncyCastle.X509.X509Certificate cert, string label)
    {
        try
        {
#if NET9_0_OR_GREATER
            return X509CertificateLoader.LoadCertificate(cert.GetEncoded());
#else
            return new X509Certificate2(cert.GetEncoded());
#endif
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new CertIntegrationException(ErrorIds.CertificateMalformed, FailureKind.InvalidData,
                $"{label}: the certificate '{Messages.Quote(cert.SubjectDN.ToString())}' could not be loaded by .NET ({Messages.Clause(ex.Message)}).", ex);
        }
    }
}
