using System.Management.Automation;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>Long work shows progress, and the progress bar is closed at the end.</summary>
public class ProgressTests
{
    private static void AssertProgress(PsResult r, string activity, int minRecords)
    {
        List<ProgressRecord> mine = r.Progress.Where(p => p.Activity == activity).ToList();
        Assert.True(mine.Count >= minRecords, $"{mine.Count} progress records for '{activity}': {string.Join(" | ", r.Progress.Select(p => p.Activity + ": " + p.StatusDescription))}");
        Assert.Equal(ProgressRecordType.Completed, mine[^1].RecordType);
        Assert.All(mine.Where(p => p.PercentComplete >= 0), p => Assert.InRange(p.PercentComplete, 0, 100));
    }

    [Fact]
    public void ReadingManyServiceKeysAndContainersShowsProgress()
    {
        var pki = TestPki.Default;
        using var tmp = new TempDir();
        for (int i = 0; i < 4; i++)
        {
            tmp.Write($"key-{i}.json", pki.ServiceKeyJson());
        }

        using var ps = new PsEngine();
        PsResult keys = ps.Run("ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($args[0], '*.json'))", tmp.Path);
        Assert.Empty(keys.Errors);
        Assert.Equal(4, keys.Output.Count);
        AssertProgress(keys, "Reading service keys", 4);

        PsResult import = ps.Run("Import-CertificateBundle -Path ([System.IO.Path]::Combine($args[0], '*.json'))", tmp.Path);
        Assert.Empty(import.Errors);
        Assert.Equal(4, import.Output.Count);
        Assert.Contains(import.Progress, p => p.RecordType == ProgressRecordType.Completed);
        Assert.True(import.Progress.Count >= 4);
    }

    [Fact]
    public void OneFileShowsNoProgressBar()
    {
        var pki = TestPki.Default;
        using var tmp = new TempDir();
        string key = tmp.Write("one.json", pki.ServiceKeyJson());
        using var ps = new PsEngine();
        PsResult r = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0]", key);
        Assert.Single(r.Output);
        Assert.Empty(r.Progress);
    }

    [Fact]
    public void TestingManyEndpointsShowsProgress()
    {
        // A closed port on 127.0.0.1 fails fast; progress is about the count of endpoints done, not their outcome.
        using var ps = new PsEngine();
        PsResult r = ps.Run("1..5 | ForEach-Object { \"https://127.0.0.1:1/x$_\" } | Test-MtlsEndpoint -NoClientCertificate -TimeoutSec 5");
        Assert.Equal(5, r.Output.Count);
        AssertProgress(r, "Testing mTLS endpoints", 2);
    }
}
