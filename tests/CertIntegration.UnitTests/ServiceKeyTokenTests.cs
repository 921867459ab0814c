using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>The core of New-ServiceKeyParameter (the JSON shape and its checks) and of Get-ServiceKeyToken (the host rule and the answer reader).</summary>
public class ServiceKeyTokenTests
{
    private static TestPki Pki => TestPki.Default;

    private static X509Certificate2 X509(Issued i) => new(i.Der);

    private static CertificateBundle Chain(params Issued[] chain) => new(chain.Select(X509).ToList(), null);

    // ---- New-ServiceKeyParameter ----

    [Fact]
    public void GeneratedCertificateJsonHasSapsOrderAndTheDefaultKeyLength()
    {
        Assert.Equal("{\"key-type\":\"certificate\",\"key-length\":2048}", ServiceKeyParameterBuilder.ForGeneratedCertificate(null, null).ToJson());
        Assert.Equal("{\"key-type\":\"certificate\",\"validity\":365,\"key-length\":2048}", ServiceKeyParameterBuilder.ForGeneratedCertificate(365, null).ToJson());
        Assert.Equal("{\"key-type\":\"certificate\",\"validity\":7,\"key-length\":4096}", ServiceKeyParameterBuilder.ForGeneratedCertificate(7, 4096).ToJson());
    }

    [Fact]
    public void DictionaryKeepsTheOrderAndIgnoresCase()
    {
        var d = ServiceKeyParameterBuilder.ForGeneratedCertificate(30, null).ToDictionary();
        Assert.Equal(new[] { "key-type", "validity", "key-length" }, d.Keys.Cast<string>().ToArray());
        Assert.Equal(30, d["VALIDITY"]);
        Assert.Equal("certificate", d["key-type"]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(366)]
    [InlineData(int.MinValue)]
    public void ValidityOutsideSapsRangeIsRefused(int days)
    {
        var ex = Assert.Throws<CertIntegrationException>(() => ServiceKeyParameterBuilder.ForGeneratedCertificate(days, null));
        Assert.Equal(ErrorIds.ServiceKeyValidityOutOfRange, ex.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void ShortKeyLengthIsRefused()
    {
        var ex = Assert.Throws<CertIntegrationException>(() => ServiceKeyParameterBuilder.ForGeneratedCertificate(null, 1024));
        Assert.Equal(ErrorIds.ServiceKeyKeyLengthInvalid, ex.ErrorId);
    }

    [Fact]
    public void ExternalCertificateIsTheLeafOnOneLineAndAChainIsCutWithAWarning()
    {
        var warnings = new List<ParameterWarning>();
        ServiceKeyParameters p = ServiceKeyParameterBuilder.ForExternalCertificate(Chain(Pki.Leaf, Pki.Intermediate, Pki.Root), 90, null, DateTime.UtcNow, warnings);
        string line = "-----BEGIN CERTIFICATE-----" + Convert.ToBase64String(Pki.Leaf.Der) + "-----END CERTIFICATE-----";
        Assert.Equal("{\"key-type\":\"certificate_external\",\"X.509\":\"" + line + "\",\"validity\":90}", p.ToJson());
        Assert.Equal(new[] { ErrorIds.ServiceKeyChainReduced }, warnings.Select(w => w.Code).ToArray());
        Assert.StartsWith("ServiceKeyChainReduced: ", warnings[0].ToString());
    }

    [Fact]
    public void ExternalCertificateWithoutClientAuthWarnsAndAnExpiredOneIsRefused()
    {
        var warnings = new List<ParameterWarning>();
        ServiceKeyParameterBuilder.ForExternalCertificate(Chain(Pki.Server), null, 2048, DateTime.UtcNow, warnings);
        Assert.Contains(warnings, w => w.Code == ErrorIds.ServiceKeyNoClientAuthEku);

        var leaf = X509(Pki.Leaf);
        var expired = Assert.Throws<CertIntegrationException>(() =>
            ServiceKeyParameterBuilder.ForExternalCertificate(Chain(Pki.Leaf), null, null, leaf.NotAfter.ToUniversalTime().AddSeconds(1), new List<ParameterWarning>()));
        Assert.Equal(ErrorIds.ServiceKeyCertificateExpired, expired.ErrorId);

        var early = new List<ParameterWarning>();
        ServiceKeyParameterBuilder.ForExternalCertificate(Chain(Pki.Leaf), null, null, leaf.NotBefore.ToUniversalTime().AddDays(-1), early);
        Assert.Equal(new[] { ErrorIds.ServiceKeyCertificateNotYetValid }, early.Select(w => w.Code).ToArray());
    }

    // ---- the token host rule ----

    [Theory]
    [InlineData("https://sub.authentication.eu10.hana.ondemand.com/oauth/token", "https://sub.authentication.cert.eu10.hana.ondemand.com/oauth/token")]
    [InlineData("https://SUB.Authentication.us10.hana.ondemand.com:8443/oauth/token?x=1", "https://sub.authentication.cert.us10.hana.ondemand.com:8443/oauth/token?x=1")]
    [InlineData("https://sub.authentication.cert.eu10.hana.ondemand.com/oauth/token", null)]
    [InlineData("https://authentication.eu10.hana.ondemand.com/oauth/token", null)]
    [InlineData("https://127.0.0.1:8443/oauth/token", null)]
    [InlineData("https://login.example.com/oauth/token", null)]
    public void PlainAuthenticationHostBecomesTheCertificateHost(string url, string? expected)
    {
        Uri? moved = TokenEndpoint.ToCertificateHost(new Uri(url));
        Assert.Equal(expected, moved?.ToString());
    }

    [Fact]
    public void TokenUrlMustBeHttpsAndIsShownWithoutUserInfo()
    {
        Assert.Equal(ErrorIds.TokenUrlMissing, Assert.Throws<CertIntegrationException>(() => TokenEndpoint.Parse(" ", "The key")).ErrorId);
        Assert.Equal(ErrorIds.UriNotHttps, Assert.Throws<CertIntegrationException>(() => TokenEndpoint.Parse("http://x.example/oauth/token", "The key")).ErrorId);
        var ex = Assert.Throws<CertIntegrationException>(() => TokenEndpoint.Parse("ftp://user:hunter2@x.example/", "The key"));
        Assert.DoesNotContain("hunter2", ex.Message);
        Assert.Equal("https://x.example/oauth/token", TokenEndpoint.Parse("https://u:p@x.example/oauth/token", "k").ToString());
        Assert.Equal("https://x.example/oauth/token", TokenEndpoint.Parse("x.example/oauth/token", "k").ToString());
    }

    // ---- the token answer ----

    private static readonly Uri Url = new("https://sub.authentication.cert.eu10.hana.ondemand.com/oauth/token");

    private static CertIntegrationException Fails(int status, string? type, string body) =>
        Assert.Throws<CertIntegrationException>(() => TokenAnswer.Read(status, "x", type, body, Url, "sb-client"));

    [Fact]
    public void SuccessGivesTokenTypeExpiryAndScope()
    {
        TokenGrant g = TokenAnswer.Read(200, "OK", "application/json", "{\"access_token\":\"abc.def\",\"token_type\":\"bearer\",\"expires_in\":3599,\"scope\":\"a b\"}", Url, "c");
        Assert.Equal("abc.def", g.AccessToken);
        Assert.Equal("bearer", g.TokenType);
        Assert.Equal(3599, g.ExpiresInSeconds);
        Assert.Equal("a b", g.Scope);
        Assert.DoesNotContain("abc.def", g.ToString());
        Assert.Equal(60, TokenAnswer.Read(200, "OK", null, "{\"access_token\":\"t\",\"expires_in\":\"60\"}", Url, "c").ExpiresInSeconds);
        Assert.Null(TokenAnswer.Read(200, "OK", null, "{\"access_token\":\"t\",\"expires_in\":-1}", Url, "c").ExpiresInSeconds);
    }

    [Fact]
    public void OAuthErrorsAreQuotedWithTheirLikelyCause()
    {
        var invalid = Fails(401, "application/json", "{\"error\":\"invalid_client\",\"error_description\":\"Bad credentials\"}");
        Assert.Equal(ErrorIds.TokenInvalidClient, invalid.ErrorId);
        Assert.Contains("error \"invalid_client\": \"Bad credentials\"", invalid.Message);
        Assert.Contains("not the one of this service key", invalid.Message);

        var unauthorized = Fails(401, "application/json", "{\"error\":\"unauthorized\",\"error_description\":\"Full authentication is required\"}");
        Assert.Equal(ErrorIds.TokenUnauthorized, unauthorized.ErrorId);
        Assert.Contains(".authentication.cert.", unauthorized.Message);

        var other = Fails(400, "application/json", "{\"error\":\"unauthorized_client\"}");
        Assert.Equal(ErrorIds.TokenRequestRejected, other.ErrorId);
        Assert.Contains("\"unauthorized_client\"", other.Message);
    }

    [Fact]
    public void NonJsonAndTokenlessAnswersAreNamed()
    {
        var html = Fails(200, "text/html", "<html>Log on</html>");
        Assert.Equal(ErrorIds.TokenAnswerNotJson, html.ErrorId);
        Assert.Contains("text/html", html.Message);
        Assert.Equal(ErrorIds.TokenAnswerNotJson, Fails(502, null, "").ErrorId);
        Assert.Equal(ErrorIds.TokenAnswerNotJson, Fails(200, "application/json", "{\"access_token\":").ErrorId);

        var empty = Fails(200, "application/json", "{\"token_type\":\"bearer\"}");
        Assert.Equal(ErrorIds.TokenAnswerNoAccessToken, empty.ErrorId);
        Assert.Contains("token_type", empty.Message);
        Assert.Equal(ErrorIds.TokenAnswerNoAccessToken, Fails(200, "application/json", "{\"access_token\":\"\"}").ErrorId);
    }

    [Fact]
    public void QuotedServerTextIsBoundedCleanAndWithoutTokens()
    {
        string longText = new string('x', 5000);
        var ex = Fails(400, "application/json", "{\"error\":\"invalid_request\",\"error_description\":\"" + longText + "\"}");
        Assert.True(ex.Message.Length < 1000, ex.Message.Length.ToString());
        Assert.Contains("...", ex.Message);

        var ctl = Fails(400, "application/json", "{\"error\":\"bad\\r\\nX-Injected: 1\"}");
        Assert.DoesNotContain("\n", ctl.Message);

        var echo = Fails(200, "text/plain", "access_token=secret-token-value-123&token_type=bearer");
        Assert.DoesNotContain("secret-token-value-123", echo.Message);
        var jsonEcho = Fails(500, "application/json", "{\"error\":\"server_error\",\"error_description\":\"{\\\"access_token\\\":\\\"leaked-token-456\\\"}\"}");
        Assert.DoesNotContain("leaked-token-456", jsonEcho.Message);
    }
}
