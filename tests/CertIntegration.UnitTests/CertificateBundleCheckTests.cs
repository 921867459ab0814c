using System.Text;
using System.Text.RegularExpressions;
using CertIntegration.TestSupport;
using Newtonsoft.Json.Linq;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>The core of Test-CertificateBundle without PowerShell: codes and help in step, dates, names, chain order.</summary>
public class CertificateBundleCheckTests
{
    private static TestPki Pki => TestPki.Default;

    private static CertificateBundle Read(string text) =>
        Assert.Single(ContainerReader.ReadBytes(Encoding.ASCII.GetBytes(text), "unit.pem", null, null));

    [Fact]
    public void TheHelpListsEveryFindingCodeWithItsSeverityAndNoOther()
    {
        string help = File.ReadAllText(Path.Combine(Repo.Root, "docs", "en-US", "Test-CertificateBundle.md"));
        var documented = Regex.Matches(help, @"^- \*\*(\w+)\*\* \((Error|Warning|Info)", RegexOptions.Multiline)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        var codes = typeof(CertificateFindingCodes).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Equal(codes.OrderBy(c => c), CertificateFindingCodes.All.Select(p => p.Key).OrderBy(c => c));
        Assert.Equal(CertificateFindingCodes.All.Select(p => (p.Key, p.Value)), documented);
    }

    [Theory]
    [InlineData("2031-02-03T04:05:06Z", "2031-02-03T04:05:06")]
    [InlineData("2031-02-03T06:05:06+02:00", "2031-02-03T04:05:06")]
    [InlineData("2031-02-03 04:05:06", "2031-02-03T04:05:06")]
    [InlineData("2031-02-03", "2031-02-03T00:00:00")]
    [InlineData("20310203040506Z", "2031-02-03T04:05:06")]
    [InlineData("310203040506Z", "2031-02-03T04:05:06")]
    [InlineData("Mon Feb 03 04:05:06 UTC 2031", "2031-02-03T04:05:06")]
    [InlineData("1927857906", "2031-02-03T04:05:06")]
    [InlineData("1927857906000", "2031-02-03T04:05:06")]
    public void ValidUntilIsReadInTheFormsServiceKeysUse(string text, string utc)
    {
        DateTime? parsed = ServiceKeyReader.ParseDate(text);
        Assert.NotNull(parsed);
        Assert.Equal(DateTimeKind.Utc, parsed!.Value.Kind);
        Assert.Equal(DateTime.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), parsed.Value);
    }

    [Theory]
    [InlineData("next year")]
    [InlineData("")]
    [InlineData("99999999999999999999")]
    public void ValidUntilThatIsNoDateIsNull(string text) => Assert.Null(ServiceKeyReader.ParseDate(text));

    [Fact]
    public void ToUtcReadsADateWithoutKindAsLocalTime()
    {
        var typed = new DateTime(2031, 2, 3, 4, 5, 6, DateTimeKind.Unspecified);
        Assert.Equal(DateTime.SpecifyKind(typed, DateTimeKind.Local).ToUniversalTime(), CertificateBundleCheck.ToUtc(typed));
        var utc = new DateTime(2031, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        Assert.Equal(utc, CertificateBundleCheck.ToUtc(utc));
        Assert.Equal(DateTimeKind.Utc, CertificateBundleCheck.ToUtc(utc.ToLocalTime()).Kind);
    }

    [Fact]
    public void PemInAnyOtherOrderThanLeafFirstIsOutOfOrder()
    {
        CertificateBundle ordered = Read(Pki.Leaf.CertificatePem + Pki.Intermediate.CertificatePem + Pki.Root.CertificatePem);
        Assert.False(ordered.SourceOutOfOrder);
        CertificateBundle reversed = Read(Pki.Root.CertificatePem + Pki.Intermediate.CertificatePem + Pki.Leaf.CertificatePem);
        Assert.True(reversed.SourceOutOfOrder);
        Assert.Equal(3, reversed.SourceOrder!.Length);
        Assert.StartsWith("CertIntegration Test Root CA", reversed.SourceOrder[0]);
        var result = CertificateBundleCheck.Check(reversed, new CertificateBundleCheck.Options { MinimumDaysValid = 0 });
        Assert.Equal(new[] { CertificateFindingCodes.ChainOutOfOrder }, result.Findings.Select(f => f.Code));
        Assert.True(result.Passed);
    }

    [Fact]
    public void Pkcs7OrderMeansNothingAndIsNotChecked()
    {
        byte[] p7 = CertificateExport.ToP7b(new[] { Pki.Root.Der, Pki.Intermediate.Der, Pki.Leaf.Der });
        CertificateBundle b = Assert.Single(ContainerReader.ReadBytes(p7, "unit.p7b", null, null));
        Assert.False(b.SourceOutOfOrder);
    }

    [Fact]
    public void ServiceKeyDetailsAreReadFromTheCredentialsOrBesideThem()
    {
        string pem = Pki.Leaf.CertificatePem + Pki.Intermediate.CertificatePem + Pki.Root.CertificatePem;
        foreach (string shape in new[] { "inside", "beside" })
        {
            var creds = new JObject { ["clientid"] = "sb-x", ["certificate"] = pem, ["key"] = Pki.Leaf.KeyPemTraditional };
            var details = new JObject { ["subjectdn"] = "CN=x", ["serialnumber"] = "0A", ["validity"] = "365", ["validitytype"] = "DAYS", ["validuntil"] = "not a date" };
            JObject root = shape == "inside"
                ? new JObject { ["oauth"] = new JObject(creds.Properties()) { ["certificatedetails"] = details } }
                : new JObject { ["oauth"] = creds, ["certificatedetails"] = details };
            CertificateBundle b = ServiceKeyReader.Read(root, "unit key");
            Assert.NotNull(b.CertificateDetails);
            Assert.Equal("CN=x", b.CertificateDetails!.SubjectDN);
            Assert.Equal(365, b.CertificateDetails.Validity);
            Assert.Null(b.CertificateDetails.ValidUntil);
            var result = CertificateBundleCheck.Check(b, new CertificateBundleCheck.Options { MinimumDaysValid = 0 });
            CertificateFinding f = Assert.Single(result.Findings);
            Assert.Equal(CertificateFindingCodes.ServiceKeyDetailsMismatch, f.Code);
            Assert.Contains("validuntil 'not a date', which is not a date", f.Message);
            Assert.Contains("serialnumber '0A'", f.Message);
        }
    }

    [Fact]
    public void AMismatchedServiceKeyFailsTheReadButTheCheckKeepsItsCertificate()
    {
        string pem = Pki.Leaf.CertificatePem + Pki.Intermediate.CertificatePem + Pki.Root.CertificatePem;
        var root = new JObject { ["clientid"] = "sb-x", ["certificate"] = pem, ["key"] = Pki.Server.KeyPemTraditional };
        var ex = Assert.Throws<CertIntegrationException>(() => ServiceKeyReader.Read(root, "unit key"));
        Assert.Equal(ErrorIds.KeyCertificateMismatch, ex.ErrorId);
        CertificateBundle b = ServiceKeyReader.Read(root, "unit key", null, keepCertificateOfMismatchedKey: true);
        Assert.False(b.HasPrivateKey);
        Assert.Equal(3, b.ChainLength);
        var result = CertificateBundleCheck.Check(b, new CertificateBundleCheck.Options { MinimumDaysValid = 0 });
        Assert.Equal(new[] { CertificateFindingCodes.KeyCertificateMismatch }, result.Findings.Select(f => f.Code));
    }
}
