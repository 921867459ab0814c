using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Security;

namespace CertIntegration.Core.Keys;

/// <summary>The private key of a .NET certificate, copied into the core's form where the platform allows it.</summary>
internal static class PlatformKey
{
    /// <summary>The key, or null when the platform will not export it (a non-exportable Windows key) or its type is not read.</summary>
    public static PrivateKeyMaterial? TryExport(X509Certificate2 certificate)
    {
        try
        {
#if NET8_0_OR_GREATER
            using AsymmetricAlgorithm? key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey();
            return key is null ? null : new PrivateKeyMaterial(PrivateKeyFactory.CreateKey(key.ExportPkcs8PrivateKey()));
#else
            using RSA? rsa = certificate.GetRSAPrivateKey();
            return rsa is null ? null : new PrivateKeyMaterial(DotNetUtilities.GetRsaKeyPair(rsa.ExportParameters(true)).Private);
#endif
        }
        catch (CryptographicException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
