using System.Diagnostics;
using System.Security.Cryptography;
using CertIntegration.Core;
using CertIntegration.Core.Containers;
using CertIntegration.Core.Files;
using CertIntegration.Core.Keys;
using CertIntegration.Core.ServiceKeys;
using Org.BouncyCastle.Crypto.Digests;

namespace CertIntegration.Bench;

/// <summary>
/// Where the time of "service key -> PFX file" goes, in the core without PowerShell: each step of what
/// ConvertFrom-ServiceKey | New-PfxFromPem does per key, timed separately over <c>count</c> keys on one thread,
/// plus the hash primitive alone (BouncyCastle's managed SHA-1 against the platform's).
/// </summary>
internal static class Profile
{
    public static int Run(string keyFile, int count, string outDir, string profile)
    {
        PfxEncryption encryption = Enum.Parse<PfxEncryption>(profile);
        Directory.CreateDirectory(outDir);
        char[] password = "bench-password".ToCharArray();
        var steps = new Dictionary<string, TimeSpan>();
        void Add(string step, Stopwatch sw) => steps[step] = steps.GetValueOrDefault(step) + sw.Elapsed;

        for (int i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            string text = SafeFile.DecodeText(SafeFile.ReadBounded(keyFile));
            var docs = ServiceKeyFraming.ParseDocuments(text, "key");
            Add("read + JSON", sw);
            sw.Restart();
            CertificateBundle bundle = ServiceKeyReader.Read(docs[0], "key");
            Add("service key -> bundle (PEM, certificates, key)", sw);
            sw.Restart();
            PrivateKeyMaterial.EnsureMatches(bundle.Key!, bundle.Certificate);
            Add("key matches certificate", sw);
            sw.Restart();
            byte[] pfx = Pkcs12Writer.Build(bundle, password, encryption, bundle.CommonName);
            Add($"PKCS#12 build ({encryption})", sw);
            sw.Restart();
            SafeFile.Write(Path.Combine(outDir, $"p{i}.pfx"), pfx, overwrite: true, ownerOnly: true);
            Add("atomic owner-only write", sw);
        }

        TimeSpan total = steps.Values.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Console.WriteLine($"{count} keys, one thread, {encryption}: {total.TotalMilliseconds / count:F2} ms per key");
        foreach (var (step, t) in steps)
        {
            Console.WriteLine($"  {step,-48} {t.TotalMilliseconds / count,8:F3} ms  {100 * t / total,5:F1} %");
        }

        HashPrimitives();
        return 0;
    }

    /// <summary>The hash the PKCS#12 KDF iterates (20 bytes in, one block), best of five rounds each.</summary>
    private static void HashPrimitives()
    {
        const int hashes = 200_000;
        byte[] input = new byte[20], output = new byte[20];
        var bc = new Sha1Digest();
        using var inc = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        var candidates = new (string Name, Action Hash)[]
        {
            ("BouncyCastle Sha1Digest", () => { bc.BlockUpdate(input, 0, input.Length); bc.DoFinal(output, 0); }),
            ("SHA1.HashData (one-shot)", () => SHA1.HashData(input, output)),
            ("IncrementalHash", () => { inc.AppendData(input); inc.GetHashAndReset(output); }),
        };
        var best = candidates.ToDictionary(c => c.Name, _ => double.MaxValue);
        for (int round = 0; round < 5; round++)
        {
            foreach (var (name, hash) in candidates)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < hashes; i++)
                {
                    hash();
                }

                best[name] = Math.Min(best[name], sw.Elapsed.TotalMilliseconds * 1e6 / hashes);
            }
        }

        Console.WriteLine("SHA-1 of 20 bytes (best of 5 rounds): " + string.Join(", ", best.Select(b => $"{b.Key} {b.Value:F0} ns")));
    }
}
