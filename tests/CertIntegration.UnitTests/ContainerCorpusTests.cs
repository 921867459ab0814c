using System.Diagnostics;
using System.Security;
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

    public static Outcome Read(string corpora, string rel) => Read(corpora, rel, CorpusCatalog.PasswordFor(corpora, rel));

    public static Outcome Read(string folder, string rel, string? pw)
    {
        SecureString? secure = pw is null ? null : new System.Net.NetworkCredential(string.Empty, pw).SecurePassword;
        var sw = Stopwatch.StartNew();
        var task = Task.Run(() => ContainerReader.ReadFile(Path.Combine(folder, rel), secure, null));
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(PerFile))
        {
            return new Outcome(rel, null, new TimeoutException($"no result after {PerFile.TotalSeconds} s"), sw.Elapsed);
        }

        return task.IsFaulted
            ? new Outcome(rel, null, task.Exception!.InnerException!, sw.Elapsed)
            : new Outcome(rel, task.Result, null, sw.Elapsed);
    }

    /// <summary>Exception types that mean a bug was hit, even when a categorised error wraps them.</summary>
    internal static bool IsCrash(Exception e) => e is NullReferenceException or ArgumentNullException or InvalidCastException
        or IndexOutOfRangeException or ArgumentOutOfRangeException or NotImplementedException;

    [SkippableFact]
    public void NoErrorOfAFuzzFindOrCorpusFileHidesACrash()
    {
        string? fuzz = Repo.FuzzFinds;
        string? corpora = Repo.Corpora;
        Skip.If(fuzz is null && corpora is null, "../shared/fuzz-finds and ../shared/corpora are absent; this walk needs them.");
        var outcomes = new List<Outcome>();
        if (fuzz is not null)
        {
            foreach (string file in Directory.EnumerateFiles(fuzz).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal))
            {
                outcomes.Add(Read(fuzz, Path.GetFileName(file), Repo.FuzzPassword));
            }
        }

        if (corpora is not null)
        {
            outcomes.AddRange(CorpusCatalog.Files(corpora).Select(rel => Read(corpora, rel)));
        }

        var crashes = new List<string>();
        foreach (Outcome o in outcomes.Where(o => o.Error is not null))
        {
            for (Exception? e = o.Error; e is not null; e = e.InnerException)
            {
                if (IsCrash(e))
                {
                    crashes.Add($"{o}\n    {e.GetType().Name} {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
                    break;
                }
            }
        }

        Assert.True(crashes.Count == 0, $"{crashes.Count} of {outcomes.Count} files hit a crash type:\n{string.Join("\n", crashes)}");
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
        foreach (var g in outcomes.Where(o => o.File.StartsWith("wycheproof/", StringComparison.Ordinal)).GroupBy(o => o.File.Split('/')[1] + " " + (o.ErrorId ?? (o.Bundles is null ? "unexpected" : "OK"))))
        {
            _out.WriteLine($"  {g.Key}: {g.Count()}  e.g. {g.First()}");
        }

        foreach (Outcome o in outcomes.Where(o => !o.File.StartsWith("wycheproof/", StringComparison.Ordinal)))
        {
            _out.WriteLine("  " + o);
        }

        Assert.Empty(unexpected);
        var byFile = outcomes.ToDictionary(o => o.File);

        // No null dereference or index error anywhere, not even wrapped inside a categorised error.
        foreach (Outcome o in outcomes.Where(o => o.Error is not null))
        {
            for (Exception? e = o.Error; e is not null; e = e.InnerException)
            {
                Assert.False(IsCrash(e), $"{o.File}: {o.Error}");
            }

            Assert.True(o.Elapsed < PerFile, $"{o.File} took {o.Elapsed}");
        }

        // PKCS12_ORACLE.tsv: what pyca/cryptography or OpenSSL -legacy read, we read with the same key and certificate
        // counts; what all of them refused, we refuse with a categorised error. No exceptions were needed.
        var oracle = CorpusCatalog.Oracle(corpora!);
        Assert.True(oracle.Count >= 30, "PKCS12_ORACLE.tsv not found or short");
        foreach (CorpusCatalog.OracleRow row in oracle.Values)
        {
            Outcome o = byFile[row.File];
            if (row.MustRead)
            {
                Assert.True(o.Bundles is not null, $"oracle says OK, we said {o}");
                Assert.Equal((row.File, row.Keys), (row.File, o.Keys));
                Assert.Equal((row.File, row.Certificates), (row.File, o.Certificates));
            }
            else
            {
                Assert.True(o.ErrorId is not null, $"oracle says ERR, we said {o}");
            }
        }

        // BoringSSL's PEM verdicts: its OK inputs hold made-up labels (no certificate), so we must not call them
        // malformed; every input it rejects must give an error here too.
        var pem = CorpusCatalog.PemExpected(corpora!);
        Assert.Equal(23, pem.Count);
        foreach (var (file, verdict) in pem)
        {
            Outcome o = byFile[file];
            if (verdict == "OK")
            {
                Assert.True(o.ErrorId == ErrorIds.ContainerHasNoCertificate, $"BoringSSL reads it; we said {o}");
            }
            else
            {
                Assert.True(o.ErrorId is not null, $"BoringSSL says {verdict}; we said {o}");
            }
        }

        // Facts from the folders' READMEs.
        Assert.Equal(137, byFile["bc-csharp/files/jks/cacerts.jks"].Bundles?.Count);
        Assert.Equal(1, byFile["bc-csharp/jks-embedded/Test2.jks"].Keys);
        Assert.Equal(ErrorIds.KeyStorePasswordIncorrect, byFile["bc-csharp/jks-embedded/Test1.jks"].ErrorId); // key password differs from the store's
        Assert.Equal(ErrorIds.LimitExceeded, byFile["pyca-cryptography/PKCS8/enc-rsa-pkcs8-pbkdf2-0iter.pem"].ErrorId);
        Assert.Equal(ErrorIds.LimitExceeded, byFile["boringssl/rsa/test/rsa16384.pem"].ErrorId); // BouncyCastle would spend ~25 s checking the modulus
        Assert.Equal(3, byFile["boringssl/pkcs7/test/nss.p7c"].Certificates);
        Assert.Equal(1, byFile["boringssl/pkcs7/test/windows.p7c"].Certificates);
        Assert.Equal(ErrorIds.ContainerHasNoCertificate, byFile["boringssl/pkcs7/test/openssl_crl.p7c"].ErrorId);
        Assert.NotNull(byFile["bc-csharp/files/openssl/trusted_cert.pem"].Bundles);
        Assert.NotNull(byFile["pyca-cryptography/x509/cryptography.io.old_header.pem"].Bundles);
        Assert.Equal(2, byFile["bc-csharp/files/cert_chain.data"].Certificates); // CRLF
        foreach (Outcome o in outcomes.Where(o => o.File.StartsWith("golang-go/encoding-pem/bad_", StringComparison.Ordinal)))
        {
            Assert.True(o.ErrorId is not null, o.ToString());
        }

        // Every legacy-encrypted key under openssl/rsa and openssl/dsa decrypts with "changeit": the only complaint is
        // that there is no certificate next to it.
        foreach (Outcome o in outcomes.Where(o => o.File.StartsWith("bc-csharp/files/openssl/rsa/", StringComparison.Ordinal) || o.File.StartsWith("bc-csharp/files/openssl/dsa/", StringComparison.Ordinal)))
        {
            Assert.True(o.ErrorId == ErrorIds.ContainerHasNoCertificate, o.ToString());
        }

        // Key files and public keys are not containers of certificates, and say so.
        foreach (Outcome o in outcomes.Where(o => o.File.StartsWith("wycheproof/", StringComparison.Ordinal) && !o.File.Contains("multiprime", StringComparison.Ordinal) && !o.File.EndsWith("LICENSE", StringComparison.Ordinal) && !o.File.EndsWith(".md", StringComparison.Ordinal)))
        {
            bool empty = new FileInfo(Path.Combine(corpora!, o.File)).Length == 0;
            Assert.True(o.ErrorId == (empty ? ErrorIds.NotACertificateContainer : ErrorIds.ContainerHasNoCertificate), o.ToString());
        }
    }
}
