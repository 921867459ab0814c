using System.Diagnostics;
using CertIntegration.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>
/// Benchmark, not a timed test: 200 endpoints in parallel against one. Runs only when CI_BENCH_MTLS=1
/// (build/bench-mtls.sh sets it). Each request takes a fixed time on the server, like a real iFlow; the numbers are
/// printed, and only a generous sanity bound is asserted.
/// </summary>
public sealed class TlsBenchmark
{
    private readonly ITestOutputHelper _out;

    public TlsBenchmark(ITestOutputHelper output) => _out = output;

    [SkippableFact]
    [Trait("Category", "Benchmark")]
    public void TwoHundredEndpointsInParallelAgainstOne()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("CI_BENCH_MTLS") == "1", "benchmark: run build/bench-mtls.sh (sets CI_BENCH_MTLS=1)");
        int delayMs = int.TryParse(Environment.GetEnvironmentVariable("CI_BENCH_DELAY_MS"), out int d) ? d : 250;
        int count = int.TryParse(Environment.GetEnvironmentVariable("CI_BENCH_COUNT"), out int c) ? c : 200;
        TestPki pki = TestPki.Default;
        using var tmp = new TempDir();
        using var runtime = FakeCpiRuntime.Start(pki, new[] { pki.Root }, new[] { pki.Leaf.Thumbprint }, Array.Empty<string>(), TimeSpan.FromMilliseconds(delayMs));
        using var ps = new PsEngine();
        ps.SetVariable("root", Cert(pki.Root));
        Assert.Empty(ps.Run("$b = ConvertFrom-ServiceKey $args[0]", ServiceKey(tmp, pki, pki.Leaf, runtime.Url)).Errors);
        ps.Run("$b | Test-MtlsEndpoint -Uri /warmup -TrustedCertificate $root | Out-Null");

        double one = Median(Enumerable.Range(0, 5).Select(_ => Time(ps, "$b | Test-MtlsEndpoint -Uri /http/one -TrustedCertificate $root -Quiet", 1)).ToList());
        _out.WriteLine($"server delay {delayMs} ms per request; one endpoint: {one:F0} ms (median of 5)");
        foreach (int throttle in new[] { 32, 64, count })
        {
            double all = Time(ps, $"$u = 1..{count} | ForEach-Object {{ \"/http/bench/$_\" }}; $b | Test-MtlsEndpoint -Uri $u -TrustedCertificate $root -ThrottleLimit {throttle} -Quiet", count);
            _out.WriteLine($"{count} endpoints, -ThrottleLimit {throttle}: {all:F0} ms = {all / one:F1} x one endpoint (sequential would be ~{count} x)");
            Assert.True(all < one * count / 2, $"{count} endpoints took {all:F0} ms, one {one:F0} ms: no parallelism");
        }
    }

    private static double Time(PsEngine ps, string script, int expected)
    {
        var sw = Stopwatch.StartNew();
        PsResult r = ps.Run(script);
        sw.Stop();
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(expected, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal(true, o.BaseObject));
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
