using System.Net;
using CertIntegration.Core.CloudFoundry;
using Newtonsoft.Json.Linq;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>The cf session (config.json and the choice of authentication) and the parts of the CF client that need no server.</summary>
public sealed class CloudFoundryTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cfunit-" + Guid.NewGuid().ToString("N").Substring(0, 8));

    public CloudFoundryTests() => Directory.CreateDirectory(Path.Combine(_folder, ".cf"));

    public void Dispose() => Directory.Delete(_folder, true);

    private CfConfig Write(string json)
    {
        string path = CfConfig.DefaultPath(_folder, "/nonexistent");
        File.WriteAllText(path, json);
        return CfConfig.Load(path)!;
    }

    private const string Session = "{\"Target\":\"https://api.cf.example.com\",\"AccessToken\":\"bearer abc.def.ghi\",\"RefreshToken\":\"r-1\"," +
        "\"UaaEndpoint\":\"https://uaa.cf.example.com\",\"SpaceFields\":{\"GUID\":\"s-1\",\"Name\":\"dev\"},\"OrganizationFields\":{\"GUID\":\"o-1\",\"Name\":\"org\"}}";

    [Fact]
    public void ConfigPathIsCfHomeElseTheUserHome()
    {
        Assert.Equal(Path.Combine("/cfhome", ".cf", "config.json"), CfConfig.DefaultPath("/cfhome", "/home/u"));
        Assert.Equal(Path.Combine("/home/u", ".cf", "config.json"), CfConfig.DefaultPath(null, "/home/u"));
        Assert.Equal(Path.Combine("/home/u", ".cf", "config.json"), CfConfig.DefaultPath("", "/home/u"));
    }

    [Fact]
    public void LoadReadsTheSessionAndStripsBearer()
    {
        CfConfig c = Write(Session);
        Assert.Equal("abc.def.ghi", c.AccessToken);
        Assert.Equal("r-1", c.RefreshToken);
        Assert.Equal("s-1", c.SpaceGuid);
        Assert.Equal("dev", c.SpaceName);
        Assert.Equal("o-1", c.OrganizationGuid);
        Assert.Equal(new Uri("https://uaa.cf.example.com"), c.UaaEndpoint);
    }

    [Fact]
    public void EmptyFieldsAreAbsentAndBrokenJsonIsCfConfigInvalid()
    {
        CfConfig c = Write("{\"Target\":\"https://api.cf.example.com\",\"AccessToken\":\"\",\"SpaceFields\":{\"GUID\":\"\",\"Name\":\"\"}}");
        Assert.Null(c.AccessToken);
        Assert.Null(c.SpaceGuid);
        var ex = Assert.Throws<CertIntegrationException>(() => Write("{\"Target\":"));
        Assert.Equal(ErrorIds.CfConfigInvalid, ex.ErrorId);
        Assert.Null(CfConfig.Load(Path.Combine(_folder, "none.json")));
    }

    [Fact]
    public void TheSessionTokenGoesOnlyToItsOwnTarget()
    {
        CfConfig c = Write(Session);
        CfAuthentication same = CfAuthentication.Resolve(c, "p", null, null, null);
        Assert.Equal("abc.def.ghi", same.AccessToken);
        Assert.Equal("s-1", same.SpaceGuid);
        var ex = Assert.Throws<CertIntegrationException>(() => CfAuthentication.Resolve(c, "p", new Uri("https://api.other.example.com"), null, null));
        Assert.Equal(ErrorIds.CfNotLoggedIn, ex.ErrorId);
        Assert.DoesNotContain("abc.def.ghi", ex.Message);
    }

    [Fact]
    public void TokenAndCredentialWinOverTheSession()
    {
        CfConfig c = Write(Session);
        CfAuthentication t = CfAuthentication.Resolve(c, "p", null, null, "Bearer given");
        Assert.Equal("given", t.AccessToken);
        Assert.Null(t.RefreshToken);
        CfAuthentication p = CfAuthentication.Resolve(c, "p", null, new NetworkCredential("u", "pw"), null);
        Assert.Null(p.AccessToken);
        Assert.Equal("u", p.Password!.UserName);
        Assert.DoesNotContain("pw", p.Origin);
        CfAuthentication other = CfAuthentication.Resolve(c, "p", new Uri("https://api.other.example.com"), new NetworkCredential("u", "pw"), null);
        Assert.Null(other.SpaceGuid);
        Assert.Null(other.UaaEndpoint);
    }

    [Fact]
    public void EndpointsMustBeHttps()
    {
        var ex = Assert.Throws<CertIntegrationException>(() => CfAuthentication.Resolve(null, "p", new Uri("http://api.cf.example.com"), new NetworkCredential("u", "p"), null));
        Assert.Equal(ErrorIds.UriInvalid, ex.ErrorId);
        ex = Assert.Throws<CertIntegrationException>(() => CfAuthentication.Resolve(null, "p", null, new NetworkCredential("u", "p"), null));
        Assert.Equal(ErrorIds.CfApiEndpointMissing, ex.ErrorId);
    }

    [Fact]
    public void ErrorsTextJoinsTitleAndDetailBounded()
    {
        var json = JObject.Parse("{\"errors\":[{\"title\":\"CF-A\",\"detail\":\"first\"},{\"detail\":\"" + new string('x', 1000) + "\"}]}");
        string text = CfClient.ErrorsText(json);
        Assert.StartsWith("CF-A: first; ", text);
        Assert.True(text.Length < 300, text);
        Assert.Equal(string.Empty, CfClient.ErrorsText(JObject.Parse("{}")));
    }

    [Fact]
    public void LinksAreFollowedOnlyOnTheApisHost()
    {
        var auth = new CfAuthentication { ApiEndpoint = new Uri("https://api.cf.example.com/"), AccessToken = "t" };
        using var client = new CfClient(auth, new ServerCertificateValidator(null), null, 5, null);
        Assert.Equal(new Uri("https://api.cf.example.com/v3/jobs/1"), client.Follow(new Uri("/v3/jobs/1", UriKind.Relative), "x", "Location"));
        Assert.Equal(new Uri("https://api.cf.example.com/v3/jobs/1"), client.Follow(new Uri("https://API.cf.example.com/v3/jobs/1"), "x", "Location"));
        foreach (string bad in new[] { "https://evil.example.com/v3/jobs/1", "http://api.cf.example.com/v3/jobs/1", "https://api.cf.example.com:8443/v3/jobs/1" })
        {
            var ex = Assert.Throws<CertIntegrationException>(() => client.Follow(new Uri(bad), "x", "Location"));
            Assert.Equal(ErrorIds.CfAnswerInvalid, ex.ErrorId);
        }
    }
}
