using System;
using System.Collections.Generic;
using System.Linq;
using Org.BouncyCastle.X509;

namespace CertIntegration.Core.Containers;

/// <summary>
/// A certificate file, optional chain files and a key file (curl's --cert/--key pair, openssl's -in/-inkey) read
/// into one bundle: the certificates are chained, the key must belong to the leaf.
/// </summary>
internal static class PemFilePair
{
    public static CertificateBundle Read(string certFile, IReadOnlyList<string> chainFiles, string keyFile, Func<PasswordChars?> password)
    {
        var certs = new List<X509Certificate>(CertificateFile.Read(certFile));
        foreach (string chainFile in chainFiles)
        {
            certs.AddRange(CertificateFile.Read(chainFile));
        }

        string keyText = SafeFile.DecodeText(SafeFile.ReadBounded(keyFile));
        PemContents keyPem = PemText.Read(keyText, $"Key file '{keyFile}'", password);
        if (keyPem.Keys.Count == 0)
        {
            throw new CertIntegrationException(ErrorIds.PemNoPrivateKey, FailureKind.InvalidData, $"Key file '{keyFile}' contains no private key block.");
        }

        PrivateKeyMaterial key = keyPem.Keys[0];
        List<ChainBuilder.Chain> chains = ChainBuilder.Build(certs, new[] { key }, out var unmatched);
        if (unmatched.Count > 0)
        {
            throw new CertIntegrationException(ErrorIds.KeyCertificateMismatch, FailureKind.InvalidData,
                $"The private key in '{keyFile}' belongs to none of the certificates in '{certFile}'. Pair the certificate with the key that was created with it.");
        }

        ChainBuilder.Chain chain = chains.First(c => c.Key is not null);
        if (ChainBuilder.FirstIssuedBy(chains, chain.Leaf) is { } issued)
        {
            throw new CertIntegrationException(ErrorIds.KeyCertificateMismatch, FailureKind.InvalidData,
                $"The private key in '{keyFile}' belongs to the CA certificate '{Messages.Quote(chain.Leaf.SubjectDN.ToString())}', not to '{Messages.Quote(issued.SubjectDN.ToString())}' that it issued in '{certFile}'. Pair the certificate with the key that was created with it.");
        }

        return new CertificateBundle(chain.Certificates.Select(X509Conversion.ToX509).ToList(), chain.Key) { Source = certFile };
    }
}
