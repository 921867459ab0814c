using System;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Misc;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;

namespace CertIntegration.Core.Keys;

/// <summary>
/// Looks at a password-based encryption or MAC algorithm before any key derivation runs, and refuses iteration
/// counts (or scrypt costs) that would hold a CPU for minutes. A crafted 80-byte file must fail in milliseconds.
/// </summary>
internal static class KdfGuard
{
    public static void Check(AlgorithmIdentifier algorithm, string source)
    {
        DerObjectIdentifier oid = algorithm.Algorithm;
        Asn1Encodable? parameters = algorithm.Parameters;
        try
        {
            if (oid.Equals(PkcsObjectIdentifiers.IdPbeS2))
            {
                var pbes2 = PbeS2Parameters.GetInstance(parameters);
                AlgorithmIdentifier kdf = pbes2.KeyDerivationFunc;
                if (kdf.Algorithm.Equals(PkcsObjectIdentifiers.IdPbkdf2))
                {
                    CheckCount(Pbkdf2Params.GetInstance(kdf.Parameters).IterationCount, source);
                }
                else if (kdf.Algorithm.Equals(MiscObjectIdentifiers.id_scrypt))
                {
                    var scrypt = ScryptParams.GetInstance(kdf.Parameters);
                    if (scrypt.CostParameter.Value.BitLength > 31 || scrypt.CostParameter.Value.IntValue > Limits.MaxScryptN
                        || scrypt.BlockSize.Value.BitLength > 8 || scrypt.ParallelizationParameter.Value.BitLength > 8)
                    {
                        throw TooCostly(source, $"scrypt N={scrypt.CostParameter}, r={scrypt.BlockSize}, p={scrypt.ParallelizationParameter}");
                    }
                }
                else
                {
                    throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                        $"{source}: the key derivation function {kdf.Algorithm.Id} is not supported.");
                }

                return;
            }

            string id = oid.Id;
            if (id.StartsWith("1.2.840.113549.1.12.1.", StringComparison.Ordinal))
            {
                CheckCount(Pkcs12PbeParams.GetInstance(parameters).Iterations, source);
                return;
            }

            if (id.StartsWith("1.2.840.113549.1.5.", StringComparison.Ordinal))
            {
                CheckCount(PbeParameter.GetInstance(parameters).IterationCountObject.Value, source);
            }
        }
        catch (CertIntegrationException)
        {
            throw;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException or NullReferenceException)
        {
            throw new CertIntegrationException(ErrorIds.PrivateKeyMalformed, FailureKind.InvalidData,
                $"{source}: the encryption parameters are malformed.", ex);
        }
    }

    public static void CheckCount(Org.BouncyCastle.Math.BigInteger count, string source)
    {
        if (count.SignValue <= 0)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.InvalidData,
                $"{source}: the iteration count {count} is not a positive number.");
        }

        if (count.BitLength > 31 || count.IntValue > Limits.MaxKdfIterations)
        {
            throw TooCostly(source, $"{count} iterations");
        }
    }

    private static CertIntegrationException TooCostly(string source, string what) =>
        new(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
            $"{source}: the password-based encryption asks for {what}; at most {Limits.MaxKdfIterations} iterations are accepted, so the file was not decrypted.");
}
