using System.Net.Http;
using CertIntegration.Core.Cpi;
using Newtonsoft.Json.Linq;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>The pure parts of the Cloud Integration API client: hex keys, OData dates, service keys and error texts.</summary>
public class CpiKeystoreTests
{
    [Theory]
    [InlineData("partner_root", "706172746e65725f726f6f74")]
    [InlineData("a b", "612062")]
    [InlineData("é", "c3a9")]
    public void TheEntryKeyIsTheHexOfTheAliasUtf8Bytes(string alias, string hex) => Assert.Equal(hex, CpiKeystore.Hex(alias));

    [Fact]
    public void ODataDatesAreReadWithAndWithoutOffset()
    {
        Assert.Equal(new DateTime(2027, 1, 2, 3, 4, 5, DateTimeKind.Utc), CpiKeystore.ParseDate(new JValue("/Date(1798859045000)/"))!.Value.UtcDateTime);
        DateTimeOffset withOffset = CpiKeystore.ParseDate(new JValue("/Date(1798859045000+0000)/"))!.Value;
        Assert.Equal(new DateTime(2027, 1, 2, 3, 4, 5, DateTimeKind.Utc), withOffset.UtcDateTime);
        Assert.Equal(TimeSpan.Zero, withOffset.Offset);
        DateTimeOffset plusTwo = CpiKeystore.ParseDate(new JValue("/Date(1798859045000+0200)/"))!.Value;
        Assert.Equal(new DateTime(2027, 1, 2, 3, 4, 5, DateTimeKind.Utc), plusTwo.UtcDateTime);
        Assert.Equal(TimeSpan.FromHours(2), plusTwo.Offset);
        Assert.Equal(new DateTime(1969, 12, 31, 23, 59, 59, DateTimeKind.Utc), CpiKeystore.ParseDate(new JValue("/Date(-1000)/"))!.Value.UtcDateTime);
        Assert.Null(CpiKeystore.ParseDate(new JValue("/Date(abc)/")));
        Assert.Null(CpiKeystore.ParseDate(JValue.CreateNull()));
        Assert.Null(CpiKeystore.ParseDate(new JValue("/Date(999999999999999)/")));
    }

    [Fact]
    public void AnApiPlanKeyWithASecretIsRead()
    {
        CpiEndpoint e = CpiServiceKey.FromText(
            "{\"oauth\":{\"url\":\"https://t.it-cpi001.cfapps.eu10.hana.ondemand.com\",\"clientid\":\"sb-1\",\"clientsecret\":\"s3cr3t\",\"tokenurl\":\"https://t.authentication.eu10.hana.ondemand.com/oauth/token\"}}",
            "The key");
        Assert.Equal("https://t.it-cpi001.cfapps.eu10.hana.ondemand.com/api/v1/", e.ApiRoot.AbsoluteUri);
        Assert.Equal("sb-1", e.ClientId);
        Assert.Equal("s3cr3t", e.ClientSecret);
        Assert.Null(e.Certificate);

        // The plain token host stays for a secret (only a certificate needs the .cert. host).
        Assert.Equal("t.authentication.eu10.hana.ondemand.com", e.TokenUrl.Host);
    }

    [Theory]
    [InlineData("{\"oauth\":{\"clientid\":\"a\",\"clientsecret\":\"b\",\"tokenurl\":\"https://x/oauth/token\"}}", "no 'url'")]
    [InlineData("{\"oauth\":{\"url\":\"https://t\",\"clientsecret\":\"b\",\"tokenurl\":\"https://x/oauth/token\"}}", "no 'clientid'")]
    [InlineData("{\"oauth\":{\"url\":\"https://t\",\"clientid\":\"a\",\"tokenurl\":\"https://x/oauth/token\"}}", "neither a 'clientsecret' nor a 'certificate'")]
    public void AKeyThatIsNotAnApiPlanKeySaysWhatIsMissing(string json, string expected)
    {
        var ex = Assert.Throws<CertIntegrationException>(() => CpiServiceKey.FromText(json, "The key"));
        Assert.Equal(ErrorIds.CpiServiceKeyInvalid, ex.ErrorId);
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain("\"b\"", ex.Message);
    }

    [Fact]
    public void AnHttpUrlIsRefused()
    {
        var ex = Assert.Throws<CertIntegrationException>(() => CpiServiceKey.FromText(
            "{\"url\":\"http://t\",\"clientid\":\"a\",\"clientsecret\":\"b\",\"tokenurl\":\"https://x/oauth/token\"}", "The key"));
        Assert.Equal(ErrorIds.UriNotHttps, ex.ErrorId);
    }

    [Theory]
    [InlineData(400, "CpiBadRequest")]
    [InlineData(401, "CpiUnauthorized")]
    [InlineData(403, "CpiForbidden")]
    [InlineData(404, "CpiEntryNotFound")]
    [InlineData(409, "CpiTrustPathNotEstablished")]
    [InlineData(413, "CpiPayloadTooLarge")]
    [InlineData(415, "CpiUnsupportedFormat")]
    [InlineData(429, "CpiThrottled")]
    [InlineData(503, "CpiUnavailable")]
    [InlineData(500, "CpiRequestFailed")]
    public void EachStatusHasItsIdAndQuotesTheODataMessage(int status, string id)
    {
        CertIntegrationException ex = CpiErrors.FromResponse(Response(status, "application/json", "{\"error\":{\"code\":\"x\",\"message\":{\"lang\":\"en\",\"value\":\"Entry is locked\"}}}"),
            "the upload", new Uri("https://t.example"));
        Assert.Equal(id, ex.ErrorId);
        Assert.Contains("\"Entry is locked\"", ex.Message);
        Assert.Contains("HTTP " + status, ex.Message);
    }

    [Fact]
    public void ServerTextIsBoundedStrippedOfMarkupAndTokens()
    {
        string page = "<html><body><h1>Denied</h1>" + new string('x', 5000) + " Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl</body></html>";
        CertIntegrationException ex = CpiErrors.FromResponse(Response(403, "text/html", page), "the delete", new Uri("https://t.example"));
        Assert.DoesNotContain("<h1>", ex.Message);
        Assert.Contains("Denied", ex.Message);
        Assert.True(ex.Message.Length < 1200, ex.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.DoesNotContain("eyJzdWIiOiIxIn0", ex.Message);
    }

    [Fact]
    public void ReservedAliasesAreRefusedForDeletes()
    {
        foreach (string alias in new[] { "sap_cloudintegrationcertificate", "HCICertificate1", "hcimsgcertificate" })
        {
            var ex = Assert.Throws<CertIntegrationException>(() => CpiKeystore.CheckNotReserved(alias, "deleted"));
            Assert.Equal(ErrorIds.KeystoreAliasReserved, ex.ErrorId);
        }

        CpiKeystore.CheckNotReserved("partner_sap_root", "deleted");
    }

    private static CpiResponse Response(int status, string type, string body)
    {
        using var message = new HttpResponseMessage((System.Net.HttpStatusCode)status);
        return new CpiResponse(status, message.ReasonPhrase, type, System.Text.Encoding.UTF8.GetBytes(body), message.Headers);
    }
}
