using System;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Misc;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace CertIntegration.Core.Keys;

/// <summary>
/// PBES2 with scrypt (RFC 7914, section 7; what `openssl pkcs8 -topk8 -scrypt` writes). BouncyCastle's PBE helpers
/// read every PBES2 key derivation as PBKDF2, so this one is put together from its parts: BouncyCastle's SCrypt for
/// the key, and its cipher and parameter factories for the cipher named in the encryption scheme. The parameters
/// must have passed <see cref="KdfGuard.Check"/>, which bounds N, r and p.
/// </summary>
internal static class ScryptPbes2
{
    public static bool Uses(AlgorithmIdentifier algorithm) =>
        algorithm.Algorithm.Equals(PkcsObjectIdentifiers.IdPbeS2)
        && PbeS2Parameters.GetInstance(algorithm.Parameters).KeyDerivationFunc.Algorithm.Equals(MiscObjectIdentifiers.id_scrypt);

    /// <summary>Decrypts <paramref name="data"/>; a wrong password shows as <see cref="InvalidCipherTextException"/> (bad padding).</summary>
    public static byte[] Decrypt(AlgorithmIdentifier algorithm, byte[] data, char[] password, string source)
    {
        var pbes2 = PbeS2Parameters.GetInstance(algorithm.Parameters);
        var scrypt = ScryptParams.GetInstance(pbes2.KeyDerivationFunc.Parameters);
        DerObjectIdentifier cipherOid = pbes2.EncryptionScheme.Algorithm;
        IBufferedCipher cipher;
        int keyBytes;
        try
        {
            cipher = CipherUtilities.GetCipher(cipherOid);
            keyBytes = scrypt.KeyLength?.IntValueExact ?? GeneratorUtilities.GetKeyGenerator(cipherOid).DefaultStrength / 8;
        }
        catch (SecurityUtilityException ex)
        {
            throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                $"{source}: the cipher {Messages.Quote(cipherOid.Id)} of the scrypt-encrypted key is not supported.", ex);
        }

        // RFC 7914 and OpenSSL take the password's bytes as given; UTF-8 is what every tool writes.
        byte[] pw = System.Text.Encoding.UTF8.GetBytes(password);
        byte[] key = Array.Empty<byte>();
        try
        {
            key = SCrypt.Generate(pw, scrypt.Salt.GetOctets(), scrypt.CostParameter.IntValueExact, scrypt.BlockSize.IntValueExact, scrypt.ParallelizationParameter.IntValueExact, keyBytes);
            KeyParameter keyParameter = ParameterUtilities.CreateKeyParameter(cipherOid, key);
            cipher.Init(false, ParameterUtilities.GetCipherParameters(cipherOid, keyParameter, pbes2.EncryptionScheme.Parameters.ToAsn1Object()));
            return cipher.DoFinal(data);
        }
        finally
        {
            Array.Clear(pw, 0, pw.Length);
            Array.Clear(key, 0, key.Length);
        }
    }
}
