using System.Diagnostics;
using CertIntegration.Core.Chains;
using CertIntegration.Core.Containers;
using CertIntegration.Core.Files;
using CertIntegration.Core.ServiceKeys;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Bench;

/// <summary>The parts of reading one service key, timed separately (the steps ServiceKeyReader.Read takes).</summary>
internal static class ParseProfile
{
    public static int Run(string keyFile, int count)
    {
        var steps = new Dictionary<string, TimeSpan>();
        for (int i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            void Lap(string step)
            {
                steps[step] = steps.GetValueOrDefault(step) + sw.Elapsed;
                sw.Restart();
            }

            JObject doc = ServiceKeyFraming.ParseDocuments(SafeFile.DecodeText(SafeFile.ReadBounded(keyFile)), "k")[0];
            var creds = (JObject)doc["oauth"]!;
            Lap("file + JSON");
            var certs = PemText.Read((string)creds["certificate"]!, "c");
            Lap("PEM certificates (3)");
            var keyPem = PemText.Read((string)creds["key"]!, "k");
            Lap("PEM key (RSA 2048)");
            var chains = ChainBuilder.Build(certs.Certificates, keyPem.Keys, out _);
            Lap("chain building");
            var x509 = chains[0].Certificates.Select(c => X509Conversion.ToX509(c, "c")).ToList();
            Lap("X509Certificate2 (3)");
            _ = x509;
        }

        TimeSpan total = steps.Values.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Console.WriteLine($"reading a service key: {total.TotalMilliseconds / count:F3} ms");
        foreach (var (step, t) in steps)
        {
            Console.WriteLine($"  {step,-30} {t.TotalMilliseconds / count,8:F3} ms  {100 * t / total,5:F1} %");
        }

        return 0;
    }
}
