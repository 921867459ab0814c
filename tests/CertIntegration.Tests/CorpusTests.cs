using System.Diagnostics;
using CertIntegration.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace CertIntegration.Tests;

/// <summary>
/// The outside-written corpora through the real engine: every file outside wycheproof (and a sample of wycheproof's
/// 4000 near-identical key files) is given to Import-CertificateBundle with its documented password. The complete
/// walk with all assertions runs against the reader directly in CertIntegration.UnitTests/ContainerCorpusTests.cs.
/// </summary>
public class CorpusTests
{
    private static readonly HashSet<string> KnownIds = new(StringComparer.Ordinal)
    {
        "NotACertificateContainer", "ContainerCorrupt", "ContainerHasNoCertificate", "Pkcs12PasswordRequired", "Pkcs12PasswordIncorrect",
        "KeyStorePasswordRequired", "KeyStorePasswordIncorrect", "UnsupportedAlgorithm", "LimitExceeded", "PemMalformed", "CertificateMalformed",
        "PrivateKeyMalformed", "PrivateKeyPasswordRequired", "PrivateKeyPasswordIncorrect", "KeyCertificateMismatch",
        "ServiceKeyNotJson", "ServiceKeyNoCertificate", "ServiceKeyIsClientSecret",
    };

    private readonly ITestOutputHelper _out;

    public CorpusTests(ITestOutputHelper output) => _out = output;

    [SkippableFact]
    public void CorpusSampleThroughTheEngineIsReadOrGivesOurErrorIds()
    {
        string? corpora = Repo.Corpora;
        Skip.If(corpora is null, "../shared/corpora is not present; the corpus walk needs it.");
        List<string> all = CorpusCatalog.Files(corpora!);
        List<string> sample = all.Where(f => !f.StartsWith("wycheproof/", StringComparison.Ordinal)).ToList();
        sample.AddRange(all.Where(f => f.StartsWith("wycheproof/", StringComparison.Ordinal)).Where((_, i) => i % 40 == 0));

        using var ps = new PsEngine();
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<string>();
        var oracle = CorpusCatalog.Oracle(corpora!);
        foreach (string rel in sample)
        {
            string path = Path.Combine(corpora!, rel);
            string? pw = CorpusCatalog.PasswordFor(corpora!, rel);
            var sw = Stopwatch.StartNew();
            PsResult r = pw is null
                ? ps.Run("Import-CertificateBundle -LiteralPath $args[0]", path)
                : ps.Run("Import-CertificateBundle -LiteralPath $args[0] -Password $args[1]", path, PsEngine.Secure(pw));
            sw.Stop();
            List<BundleView> bundles = BundleView.From(r);
            string outcome = r.Terminating is not null ? "terminating" : r.Errors.Count == 0 ? "read OK" : r.ErrorIds[0];
            counts[outcome] = counts.GetValueOrDefault(outcome) + 1;

            if (r.Terminating is not null || r.Errors.Count > 1 || (r.Errors.Count == 1 && !KnownIds.Contains(r.ErrorIds[0])))
            {
                problems.Add($"{rel}: {r.Terminating} {string.Join("; ", r.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e.Exception.Message))}");
            }

            if (r.Errors.Count == 1 && !Equals(r.Errors[0].TargetObject, path))
            {
                problems.Add($"{rel}: error target is {r.Errors[0].TargetObject}");
            }

            if (r.Errors.Count == 0 && (bundles.Count == 0 || bundles.Any(b => b.Source != path)))
            {
                problems.Add($"{rel}: read without error but {bundles.Count} bundle(s), sources {string.Join(",", bundles.Select(b => b.Source))}");
            }

            if (sw.Elapsed > TimeSpan.FromSeconds(20))
            {
                problems.Add($"{rel}: took {sw.Elapsed}");
            }

            if (pw is not null && pw.Length >= 5 && pw != "password" && r.AllText.Contains(pw, StringComparison.Ordinal)) // "password" is also a word of the messages
            {
                problems.Add($"{rel}: the password appears in the output");
            }

            if (oracle.TryGetValue(rel, out CorpusCatalog.OracleRow? row) && row.MustRead)
            {
                int certs = bundles.SelectMany(b => b.Chain).Select(c => c.Thumbprint).Distinct().Count();
                int keys = bundles.Count(b => b.HasPrivateKey);
                if (r.Errors.Count > 0 || certs != row.Certificates || keys != row.Keys)
                {
                    problems.Add($"{rel}: oracle says {row.Pyca}; we read {certs} cert(s), {keys} key(s), errors {string.Join(",", r.ErrorIds)}");
                }
            }

            if (rel == "bc-csharp/files/jks/cacerts.jks" && bundles.Count != 137)
            {
                problems.Add($"{rel}: {bundles.Count} bundles instead of 137");
            }
        }

        _out.WriteLine($"{sample.Count} of {all.Count} corpus files through the engine:");
        foreach (var (outcome, n) in counts)
        {
            _out.WriteLine($"  {outcome}: {n}");
        }

        foreach (string p in problems)
        {
            _out.WriteLine("PROBLEM " + p);
        }

        Assert.Empty(problems);
        Assert.True(counts.GetValueOrDefault("read OK") > 100, "too few files were read");
    }
}
