using System.Diagnostics;
using System.Security;
using CertIntegration.Internal;
using CertIntegration.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace CertIntegration.UnitTests;

/// <summary>
/// Every file of the outside-written corpora through <see cref="ContainerReader"/> directly (the engine is exercised
/// on a sample in CertIntegration.Tests/CorpusTests.cs): valid containers are read, bad ones give a categorised error,
/// nothing crashes or hangs.
/// </summary>
public class ContainerCorpusTests
{
    private static readonly TimeSpan PerFile = TimeSpan.FromSeconds(20);

    private readonly ITestOutputHelper _out;

    public ContainerCorpusTests(ITestOutputHelper output) => _out = output;

    public sealed record Outcome(string File, IReadOnlyList<CertificateBundle>? Bundles, Exception? Error, TimeSpan Elapsed)
    {
        public string? ErrorId => (Error as CertIntegrationException)?.ErrorId;

        public int Certificates => Bundles?.SelectMany(b => b.Chain).Select(c => c.Thumbprint).Distinct().Count() ?? 0;

        public int Keys => Bundles?.Count(b => b.HasPrivateKey) ?? 0;

        public override string ToString() => Bundles is not null
            ? $"{File}: OK {Bundles.Count} bundle(s), {Certificates} cert(s), {Keys} key(s)"
            : $"{File}: {ErrorId ?? Error!.GetType().Name}: {Error!.Message}";
    }

    public static Outcome Read(string corpora, string rel)
    {
        string? pw = CorpusCatalog.PasswordFor(corpora, rel);
        SecureString? secure = pw is null ? null : new System.Net.NetworkCredential(string.Empty, pw).SecurePassword;
        var sw = Stopwatch.StartNew();
        var task = Task.Run(() => ContainerReader.ReadFile(Path.Combine(corpora, rel), secure, null));
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(PerFile))
        {
            return new Outcome(rel, null, new TimeoutException($"no result after {PerFile.TotalSeconds} s"), sw.Elapsed);
        }

        return task.IsFaulted
            ? new Outcome(rel, null, task.Exception!.InnerException!, sw.Elapsed)
            : new Outcome(rel, task.Result, null, sw.Elapsed);
    }

    [SkippableFact]
    public void EveryCorpusFileIsReadOrGivesACategorisedError()
    {
        string? corpora = Repo.Corpora;
        Skip.If(corpora is null, "../shared/corpora is not present; the corpus walk needs it.");
        List<string> files = CorpusCatalog.Files(corpora!);
        Assert.True(files.Count > 4000, $"expected the whole corpus, found {files.Count} files");

        var outcomes = new List<Outcome>();
        foreach (string rel in files)
        {
            outcomes.Add(Read(corpora!, rel));
        }

        // Counts per outcome.
        _out.WriteLine($"{files.Count} files walked.");
        _out.WriteLine($"read OK: {outcomes.Count(o => o.Bundles is not null)}");
        foreach (var g in outcomes.Where(o => o.ErrorId is not null).GroupBy(o => o.ErrorId).OrderBy(g => g.Key))
        {
            _out.WriteLine($"categorised error {g.Key}: {g.Count()}");
        }

        var unexpected = outcomes.Where(o => o.Error is not null && o.ErrorId is null).ToList();
        _out.WriteLine($"unexpected: {unexpected.Count}");
        foreach (Outcome o in unexpected)
        {
            _out.WriteLine("  UNEXPECTED " + o + "\n" + o.Error);
        }

        Outcome slowest = outcomes.OrderByDescending(o => o.Elapsed).First();
        _out.WriteLine($"slowest: {slowest.File} {slowest.Elapsed.TotalMilliseconds:F0} ms");
        foreach (Outcome o in outcomes.Where(o => !o.File.StartsWith("wycheproof/", StringComparison.Ordinal)))
        {
            _out.WriteLine("  " + o);
        }

        Assert.Empty(unexpected);
    }
}
