using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// Expiry arithmetic must not depend on the machine's time zone. build/test.sh runs this category a second time
/// under TZ=Pacific/Auckland (UTC+13 in summer), where a local/UTC mix-up shifts the result by a day.
/// </summary>
[Trait("Category", "TimeZone")]
public class TimeZoneTests
{
    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 23)]
    [InlineData(0, 2)]
    [InlineData(-3, 1)]
    public void DaysRemainingCountsWholeDaysInUtc(int days, int extraHours)
    {
        var pki = TestPki.Default;
        DateTime notAfterUtc = DateTime.UtcNow.AddDays(days).AddHours(extraHours);
        Issued leaf = TestPki.IssueLeaf("CN=Expiry Test", pki.Intermediate, notAfter: notAfterUtc);
        using var tmp = new TempDir();
        string key = tmp.Write("key.json", pki.ServiceKeyJson(certificate: pki.ChainPem(leaf, pki.Intermediate, pki.Root), key: leaf.KeyPemTraditional));

        using var ps = new PsEngine();
        PsResult r = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | ForEach-Object { $_.DaysRemaining; $_.NotAfter.ToUniversalTime().ToString('o') }", key);
        Assert.Empty(r.Errors);
        Assert.Equal(days, Convert.ToInt32(r.Output[0].BaseObject));

        // NotAfter is local time (like X509Certificate2.NotAfter) and converts back to the certificate's UTC instant.
        DateTime roundTrip = DateTime.Parse((string)r.Output[1].BaseObject, null, System.Globalization.DateTimeStyles.RoundtripKind);
        Assert.Equal(leaf.Certificate.NotAfter.ToUniversalTime(), roundTrip);
    }

    [SkippableFact]
    public void TheSecondRunReallyUsesTheRequestedZone()
    {
        // Guards the test script itself: when TZ is set, .NET must report that zone, or the second run proves nothing.
        string? tz = Environment.GetEnvironmentVariable("TZ");
        Skip.If(string.IsNullOrEmpty(tz), "TZ is not set in this run (the UTC run); build/test.sh sets it for the second run.");
        Assert.Equal(tz, TimeZoneInfo.Local.Id);
        Assert.NotEqual(TimeSpan.Zero, TimeZoneInfo.Local.GetUtcOffset(DateTime.UtcNow));
    }
}
