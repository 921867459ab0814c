using System;
using System.IO;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using BcPemReader = Org.BouncyCastle.Utilities.IO.Pem.PemReader;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Keys;

/// <summary>
/// Refuses RSA keys larger than <see cref="MaxRsaBits"/> before BouncyCastle builds them: it checks each RSA public
/// modulus (certificates' keys) with probabilistic primality tests, which take about 4 s at 8192 bits and 25 s at
/// 16384 bits, and all other RSA arithmetic grows with the size too. (Private keys are read with that test off and
/// checked exactly instead: see PrivateKeyMaterial.ReadWithoutModulusTest.)
/// </summary>
internal static class KeySizeGuard
{
    /// <summary>Largest RSA modulus read (certificates and keys). Real client and CA keys are 2048 to 4096 bits.</summary>
    public const int MaxRsaBits = 8192;

    private static readonly DerObjectIdentifier RsaPss = new("1.2.840.113549.1.1.10");

    public static void CheckModulus(Org.BouncyCastle.Math.BigInteger modulus, string label, string what)
    {
        if (modulus.BitLength > MaxRsaBits)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"{label}: {what} is a {modulus.BitLength}-bit RSA key; at most {MaxRsaBits} bits are read.");
        }
    }

    public static void Check(BcX509 cert, string label)
    {
        SubjectPublicKeyInfo spki = cert.CertificateStructure.SubjectPublicKeyInfo;
        if (!IsRsa(spki.Algorithm.Algorithm))
        {
            return;
        }

        RsaPublicKeyStructure? rsa;
        try
        {
            rsa = RsaPublicKeyStructure.GetInstance(spki.ParsePublicKey());
        }
        catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex))
        {
            return;
        }

        if (rsa is null)
        {
            // An empty BIT STRING parses to nothing; every later use of the key would fail on it.
            throw new CertIntegrationException(ErrorIds.CertificateMalformed, FailureKind.InvalidData,
                $"{label}: the certificate '{Messages.Quote(cert.SubjectDN.ToString())}' is malformed: its RSA public key is empty.");
        }

        CheckModulus(rsa.Modulus, label, $"the certificate '{Messages.Quote(cert.SubjectDN.ToString())}'");
    }

    /// <summary>
    /// Looks at PEM blocks before <see cref="PemText"/> decodes them: unencrypted RSA keys are size-checked, every
    /// block is depth-checked, and legacy-encryption headers must carry a hexadecimal IV (BouncyCastle would
    /// otherwise fail with an index error). Damage of other kinds is left for PemText to name.
    /// </summary>
    public static void PreScanPem(string text, string label)
    {
        using var reader = new BcPemReader(new StringReader(PemText.Normalize(text)));
        for (int i = 0; i <= Limits.MaxPemBlocks; i++)
        {
            Org.BouncyCastle.Utilities.IO.Pem.PemObject? o;
            try
            {
                o = reader.ReadPemObject();
            }
            catch (Exception ex) when (ex is IOException or FormatException or ArgumentException)
            {
                return;
            }

            if (o is null)
            {
                return;
            }

            bool encrypted = false;
            string? dekInfo = null;
            foreach (object h in o.Headers)
            {
                if (h is Org.BouncyCastle.Utilities.IO.Pem.PemHeader header)
                {
                    if (header.Name.Equals("Proc-Type", StringComparison.OrdinalIgnoreCase) && header.Value.IndexOf("ENCRYPTED", StringComparison.OrdinalIgnoreCase) >= 0)
                    {
                        encrypted = true;
                    }
                    else if (header.Name.Equals("DEK-Info", StringComparison.OrdinalIgnoreCase))
                    {
                        dekInfo = header.Value;
                    }
                }
            }

            if (encrypted)
            {
                CheckDekInfo(dekInfo, o.Type, label);
                continue;
            }

            try
            {
                Asn1Guard.Check(o.Content, label);
                switch (o.Type)
                {
                    case "RSA PRIVATE KEY":
                        CheckModulus(RsaPrivateKeyStructure.GetInstance(Asn1Guard.Parse(o.Content, label)).Modulus, label, "the 'RSA PRIVATE KEY' block");
                        break;
                    case "PRIVATE KEY":
                        PrivateKeyShape.Check(PrivateKeyShape.Info(Asn1Guard.Parse(o.Content, label), label), label);
                        break;
                }
            }
            catch (CertIntegrationException ex) when (ex.ErrorId != ErrorIds.LimitExceeded)
            {
                // damaged block: PemText names it
            }
            catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex))
            {
                // damaged block: PemText names it
            }
        }
    }

    private static void CheckDekInfo(string? dekInfo, string type, string label)
    {
        if (dekInfo is null)
        {
            return; // PemText reports the missing header as a decryption failure
        }

        int comma = dekInfo.IndexOf(',');
        string iv = comma < 0 ? string.Empty : dekInfo.Substring(comma + 1).Trim();
        bool hex = iv.Length > 0 && iv.Length % 2 == 0;
        foreach (char c in iv)
        {
            hex &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }

        if (!hex)
        {
            throw new CertIntegrationException(ErrorIds.PemMalformed, FailureKind.InvalidData,
                $"Malformed PEM in {label}: the encrypted '{type}' block has a DEK-Info header whose IV is not an even number of hexadecimal digits.");
        }
    }

    private static bool IsRsa(DerObjectIdentifier oid) => oid.Equals(PkcsObjectIdentifiers.RsaEncryption) || oid.Equals(RsaPss);
}
