using System;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Misc;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace CertIntegration.Core.Keys;

/// <summary>
/// Looks at a password-based encryption or MAC algorithm before any key derivation runs: refuses parameters that are
/// missing or malformed (BouncyCastle would fail on them with null or index errors), algorithms it does not know, and
/// iteration counts or scrypt costs that would hold a CPU for minutes. Returns what the derivation costs in work units
/// (see <see cref="Limits.MaxKdfWorkPerInput"/>), so that callers can add up a whole file before deriving anything.
/// A crafted 80-byte file must fail in milliseconds.
/// </summary>
internal static class KdfGuard
{
    // PKCS#5 v1.5 (PBES1): pbeWithMD2AndDES-CBC (1), MD5AndDES (3), MD2AndRC2 (4), MD5AndRC2 (6), SHA1AndDES (10), SHA1AndRC2 (11).
    private const string Pkcs5Arc = "1.2.840.113549.1.5.";

    // PKCS#12 PBE: pbeWithSHAAnd128BitRC4 (1) ... pbeWithSHAAnd40BitRC2-CBC (6), all SHA-1 based.
    private const string Pkcs12Arc = "1.2.840.113549.1.12.1.";

    /// <summary>Checks one password-based encryption algorithm and returns its cost in work units.</summary>
    public static long Check(AlgorithmIdentifier algorithm, string source)
    {
        DerObjectIdentifier oid = algorithm.Algorithm;
        string id = oid.Id;
        try
        {
            if (oid.Equals(PkcsObjectIdentifiers.IdPbeS2))
            {
                Asn1Sequence seq = Fields(algorithm.Parameters, 2, 2, source, "the PBES2 parameters");
                AlgorithmIdentifier kdf = Algorithm(seq[0], source, "the key derivation function");
                AlgorithmIdentifier scheme = Algorithm(seq[1], source, "the cipher");
                if (scheme.Parameters is null or DerNull)
                {
                    throw Malformed(source, $"the cipher {Messages.Quote(scheme.Algorithm.Id)} has no parameters (no IV)");
                }

                if (kdf.Algorithm.Equals(PkcsObjectIdentifiers.IdPbkdf2))
                {
                    Fields(kdf.Parameters, 2, 4, source, "the PBKDF2 parameters");
                    var pbkdf2 = Pbkdf2Params.GetInstance(kdf.Parameters);
                    CheckKeyLength(pbkdf2.KeyLength, source);
                    long weight = Weight(pbkdf2.Prf.Algorithm);
                    return weight > 0
                        ? CheckCount(pbkdf2.IterationCount, source) * weight
                        : throw Unsupported(source, $"the PBKDF2 pseudo-random function {Messages.Quote(pbkdf2.Prf.Algorithm.Id)}");
                }

                if (kdf.Algorithm.Equals(MiscObjectIdentifiers.id_scrypt))
                {
                    Fields(kdf.Parameters, 4, 5, source, "the scrypt parameters");
                    return CheckScrypt(ScryptParams.GetInstance(kdf.Parameters), source);
                }

                throw Unsupported(source, $"the key derivation function {Messages.Quote(kdf.Algorithm.Id)}");
            }

            if (id.StartsWith(Pkcs12Arc, StringComparison.Ordinal) && id.Length == Pkcs12Arc.Length + 1 && id[id.Length - 1] is >= '1' and <= '6')
            {
                Fields(algorithm.Parameters, 2, 2, source, "the PKCS#12 PBE parameters");
                return CheckCount(Pkcs12PbeParams.GetInstance(algorithm.Parameters).Iterations, source);
            }

            if (id.StartsWith(Pkcs5Arc, StringComparison.Ordinal) && id.Substring(Pkcs5Arc.Length) is "1" or "3" or "4" or "6" or "10" or "11")
            {
                Fields(algorithm.Parameters, 2, 2, source, "the PBES1 parameters");
                long count = CheckCount(PbeParameter.GetInstance(algorithm.Parameters).IterationCountObject.Value, source);
                return count * (id.EndsWith(".1", StringComparison.Ordinal) || id.EndsWith(".4", StringComparison.Ordinal) ? Md2Weight : 1);
            }

            throw Unsupported(source, $"the encryption algorithm {id}");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException or FormatException)
        {
            throw new CertIntegrationException(ErrorIds.PrivateKeyMalformed, FailureKind.InvalidData,
                $"{source}: the encryption parameters are malformed ({ex.GetType().Name}).", ex);
        }
    }

    /// <summary>
    /// Checks the PKCS#12 MAC's iteration count and returns the cost of one MAC derivation (an unknown digest counts
    /// as SHA-256; the reader then names it as not supported).
    /// </summary>
    public static long CheckMac(MacData mac, string source) =>
        CheckCount(mac.IterationCount, source) * Math.Max(1, Weight(mac.Mac.DigestAlgorithm.Algorithm));

    /// <summary>Refuses counts that are not positive or above <see cref="Limits.MaxKdfIterations"/>; returns the count.</summary>
    public static long CheckCount(BigInteger count, string source)
    {
        if (count.SignValue <= 0)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.InvalidData,
                $"{source}: the iteration count {Describe(count)} is not a positive number.");
        }

        if (count.BitLength > 31 || count.IntValue > Limits.MaxKdfIterations)
        {
            throw TooCostly(source, count.BitLength <= 63 ? $"{count} iterations" : $"an iteration count of {count.BitLength} bits", $"at most {Limits.MaxKdfIterations} iterations are accepted");
        }

        return count.IntValue;
    }

    /// <summary>
    /// A number for a message: small ones in decimal, big ones by size only. Printing a crafted 160 KB INTEGER in
    /// decimal takes tens of seconds (the conversion is quadratic) and makes a message of 385,000 characters.
    /// </summary>
    internal static string Describe(BigInteger n) =>
        n.BitLength <= 63 ? n.ToString() : $"{(n.SignValue < 0 ? "a negative" : "a")} {n.BitLength}-bit number";

    // Weights: the cost of one iteration next to one PBKDF2-HMAC-SHA256 iteration, rounded up, as measured with
    // BouncyCastle 2.7.0: SHA-1, SHA-224/256 and MD5 cost about as much, SHA-384/512 and SHA-3 up to twice, MD2 up to
    // 20 times (18-20x in PBKDF2 and the PKCS#12 KDF, 6.5x in PBES1).
    private const long Md2Weight = 20;

    /// <summary>The weight of a digest or HMAC, 0 when it is not one of those known.</summary>
    private static long Weight(DerObjectIdentifier digest)
    {
        string id = digest.Id;
        switch (id)
        {
            case "1.3.14.3.2.26": // SHA-1 (PKCS#12 MAC)
            case "2.16.840.1.101.3.4.2.1": // SHA-256
            case "2.16.840.1.101.3.4.2.4": // SHA-224
            case "1.2.840.113549.2.5": // MD5
            case "1.2.840.113549.2.7": // hmacWithSHA1
            case "1.2.840.113549.2.8": // hmacWithSHA224
            case "1.2.840.113549.2.9": // hmacWithSHA256
                return 1;
            case "2.16.840.1.101.3.4.2.2": // SHA-384
            case "2.16.840.1.101.3.4.2.3": // SHA-512
            case "2.16.840.1.101.3.4.2.5": // SHA-512/224
            case "2.16.840.1.101.3.4.2.6": // SHA-512/256
            case "1.2.840.113549.2.10": // hmacWithSHA384
            case "1.2.840.113549.2.11": // hmacWithSHA512
            case "1.2.840.113549.2.12": // hmacWithSHA512-224
            case "1.2.840.113549.2.13": // hmacWithSHA512-256
                return 2;
            case "1.2.840.113549.2.2": // MD2
                return Md2Weight;
        }

        if (id.StartsWith("2.16.840.1.101.3.4.2.", StringComparison.Ordinal))
        {
            return 2; // SHA-3 digests and their HMACs (7-10, 13-16)
        }

        return 0;
    }

    private static long CheckScrypt(ScryptParams scrypt, string source)
    {
        BigInteger n = scrypt.CostParameter.Value;
        BigInteger r = scrypt.BlockSize.Value;
        BigInteger p = scrypt.ParallelizationParameter.Value;
        if (n.SignValue <= 0 || r.SignValue <= 0 || p.SignValue <= 0 || n.BitCount != 1 || n.Equals(BigInteger.One))
        {
            throw Malformed(source, $"scrypt needs N a power of 2 above 1 and r, p of at least 1, not N={Describe(n)}, r={Describe(r)}, p={Describe(p)}");
        }

        CheckKeyLength(scrypt.KeyLength?.Value, source);

        // Memory: 128 * r * (N + p) bytes; time: N * r * p block mixes, about half a work unit each.
        if (n.BitLength > 31 || r.BitLength > 31 || p.BitLength > 31
            || 128L * r.LongValue * (n.LongValue + p.LongValue) > Limits.MaxScryptMemoryBytes)
        {
            throw TooCostly(source, $"scrypt with N={Describe(n)}, r={Describe(r)}, p={Describe(p)}", $"at most {Limits.MaxScryptMemoryBytes / (1024 * 1024)} MiB of scrypt memory (128 * r * (N + p) bytes) are accepted");
        }

        return Math.Max(1, n.LongValue * r.LongValue * p.LongValue / 2);
    }

    private static void CheckKeyLength(BigInteger? keyLength, string source)
    {
        if (keyLength is not null && (keyLength.SignValue <= 0 || keyLength.BitLength > 7))
        {
            throw Malformed(source, $"the key derivation asks for a key of {Describe(keyLength)} bytes (ciphers use 5 to 32)");
        }
    }

    /// <summary>The parameters as a SEQUENCE of <paramref name="min"/> to <paramref name="max"/> elements.</summary>
    private static Asn1Sequence Fields(Asn1Encodable? parameters, int min, int max, string source, string what)
    {
        if (parameters?.ToAsn1Object() is not Asn1Sequence seq || seq.Count < min || seq.Count > max)
        {
            throw Malformed(source, parameters is null or DerNull ? $"{what} are missing" : $"{what} are not a sequence of {min}{(max > min ? $" to {max}" : string.Empty)} fields");
        }

        return seq;
    }

    private static AlgorithmIdentifier Algorithm(Asn1Encodable field, string source, string what)
    {
        if (field.ToAsn1Object() is not Asn1Sequence seq || seq.Count is < 1 or > 2 || seq[0] is not DerObjectIdentifier)
        {
            throw Malformed(source, $"{what} is not an algorithm identifier");
        }

        return AlgorithmIdentifier.GetInstance(seq);
    }

    private static CertIntegrationException Malformed(string source, string what) =>
        new(ErrorIds.PrivateKeyMalformed, FailureKind.InvalidData, $"{source}: the encryption parameters are malformed: {what}.");

    private static CertIntegrationException Unsupported(string source, string what) =>
        new(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented, $"{source}: {what} is not supported.");

    private static CertIntegrationException TooCostly(string source, string what, string limit) =>
        new(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
            $"{source}: the password-based encryption asks for {what}; {limit}, so the file was not decrypted.");
}
