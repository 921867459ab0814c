using System.Diagnostics;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace CertIntegration.Bench;

/// <summary>
/// The floor of New-PfxFromPem: the key derivations one PFX needs, and nothing else, for <c>count</c> PFX files on
/// every core. Counted from what Pkcs12Writer writes (2,048 iterations each):
/// TripleDesSha1: two bags (certificates, key), each a PKCS#12-KDF (SHA-1) 3DES key (24 bytes = 2 hash blocks, ID 1)
/// and IV (8 bytes = 1 block, ID 2); the MAC key (20 bytes = 1 block, ID 3): 7 x 2,048 SHA-1 iterations.
/// Aes256Sha256: two bags, each PBKDF2-HMAC-SHA256 for a 32-byte key (1 block); the MAC key by the PKCS#12 KDF with
/// SHA-256 (32 bytes = 1 block, ID 3).
/// Each derivation is timed with BouncyCastle's managed digests and with the platform's (a native digest inside
/// BouncyCastle's PKCS#12 generator; Rfc2898DeriveBytes for PBKDF2); the floor uses the faster of each.
/// </summary>
internal static class KdfFloor
{
    private const int Iterations = 2048;
    private static readonly char[] Password = "bench-password".ToCharArray();

    public static int Run(int count, string profile, int rounds)
    {
        bool sha1 = profile == "TripleDesSha1";
        var variants = new List<(string Name, Action Derive)>();
        if (sha1)
        {
            variants.Add(("PKCS#12 KDF, BouncyCastle SHA-1", () => Pkcs12Set(() => new Sha1Digest(), 20)));
            variants.Add(("PKCS#12 KDF, platform SHA-1", () => Pkcs12Set(() => new PlatformDigest(HashAlgorithmName.SHA1, 20, 64), 20)));
        }
        else
        {
            variants.Add(("PBKDF2 + PKCS#12 KDF, BouncyCastle SHA-256", () => { Pbkdf2Bc(); Pbkdf2Bc(); Pkcs12Mac(new Sha256Digest(), 32); }));
            variants.Add(("PBKDF2 platform, PKCS#12 KDF BouncyCastle SHA-256", () => { Pbkdf2Native(); Pbkdf2Native(); Pkcs12Mac(new Sha256Digest(), 32); }));
            variants.Add(("PBKDF2 + PKCS#12 KDF, platform SHA-256", () => { Pbkdf2Native(); Pbkdf2Native(); Pkcs12Mac(new PlatformDigest(HashAlgorithmName.SHA256, 32, 64), 32); }));
        }

        // One thread, per PFX: which primitive is faster here (a short calibration, not part of the timed run).
        var perPfx = new Dictionary<string, double>();
        foreach (var (name, derive) in variants)
        {
            derive();
            var samples = new List<double>();
            for (int r = 0; r < 5; r++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < 8; i++)
                {
                    derive();
                }

                samples.Add(sw.Elapsed.TotalMilliseconds / 8);
            }

            samples.Sort();
            perPfx[name] = samples[samples.Count / 2];
            Console.WriteLine($"  one thread, per PFX: {name}: {perPfx[name]:F2} ms");
        }

        string fastest = perPfx.OrderBy(p => p.Value).First().Key;
        Action best = variants.First(v => v.Name == fastest).Derive;
        var walls = new List<double>();
        var cpu = new List<double>();
        using var self = Process.GetCurrentProcess();
        for (int r = 0; r < rounds; r++)
        {
            self.Refresh();
            TimeSpan cpu0 = self.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, _ => best());
            walls.Add(sw.Elapsed.TotalMilliseconds);
            self.Refresh();
            cpu.Add((self.TotalProcessorTime - cpu0).TotalMilliseconds);
        }

        walls.Sort();
        cpu.Sort();
        Console.WriteLine($"  floor: {fastest}, {Environment.ProcessorCount} threads");
        Console.WriteLine($"FLOOR_MS {walls[walls.Count / 2]:F0} {cpu[cpu.Count / 2]:F0}");
        return 0;
    }

    private static byte[] Salt(int n) => RandomNumberGenerator.GetBytes(n);

    private static void Pkcs12Set(Func<IDigest> digest, int macKeyBytes)
    {
        for (int bag = 0; bag < 2; bag++)
        {
            var gen = new Pkcs12ParametersGenerator(digest());
            gen.Init(PbeParametersGenerator.Pkcs12PasswordToBytes(Password), Salt(16), Iterations);
            _ = gen.GenerateDerivedParameters("DESEDE", 192, 64); // ID 1 (key) and ID 2 (IV)
        }

        Pkcs12Mac(digest(), macKeyBytes);
    }

    private static void Pkcs12Mac(IDigest digest, int keyBytes)
    {
        var gen = new Pkcs12ParametersGenerator(digest);
        gen.Init(PbeParametersGenerator.Pkcs12PasswordToBytes(Password), Salt(keyBytes), Iterations);
        _ = gen.GenerateDerivedMacParameters(keyBytes * 8); // ID 3
    }

    private static void Pbkdf2Bc()
    {
        var gen = new Pkcs5S2ParametersGenerator(new Sha256Digest());
        gen.Init(PbeParametersGenerator.Pkcs5PasswordToUtf8Bytes(Password), Salt(16), Iterations);
        _ = (KeyParameter)gen.GenerateDerivedMacParameters(256);
    }

    private static void Pbkdf2Native() =>
        _ = Rfc2898DeriveBytes.Pbkdf2(System.Text.Encoding.UTF8.GetBytes(Password), Salt(16), Iterations, HashAlgorithmName.SHA256, 32);
}

/// <summary>The platform's hash behind BouncyCastle's digest interface (for the comparison).</summary>
internal sealed class PlatformDigest : IDigest
{
    private readonly IncrementalHash _hash;
    private readonly int _size;
    private readonly int _block;

    public PlatformDigest(HashAlgorithmName name, int size, int block)
    {
        _hash = IncrementalHash.CreateHash(name);
        _size = size;
        _block = block;
    }

    public string AlgorithmName => "platform";

    public int GetDigestSize() => _size;

    public int GetByteLength() => _block;

    public void Update(byte input) => _hash.AppendData(new[] { input });

    public void BlockUpdate(byte[] input, int inOff, int inLen) => _hash.AppendData(input, inOff, inLen);

    public void BlockUpdate(ReadOnlySpan<byte> input) => _hash.AppendData(input);

    public int DoFinal(byte[] output, int outOff) => _hash.GetHashAndReset(output.AsSpan(outOff));

    public int DoFinal(Span<byte> output) => _hash.GetHashAndReset(output);

    public void Reset() => _hash.GetHashAndReset();
}
