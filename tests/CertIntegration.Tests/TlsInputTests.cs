using CertIntegration.TestSupport;
using Xunit;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>Bad input to Test-MtlsEndpoint and Get-ServerCertificateChain: clear, categorised errors, no network needed.</summary>
public sealed class TlsInputTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly PsEngine _ps = new();

    public TlsInputTests()
    {
        _ps.SetVariable("leafWithKey", FakeCpiRuntime.WithKey(TestPki.Default.Leaf));
    }

    public void Dispose()
    {
        _ps.Dispose();
        _tmp.Dispose();
    }

    [Theory]
    [InlineData("http://example.com/x", "UriNotHttps")]
    [InlineData("ftp://example.com/x", "UriNotHttps")]
    [InlineData("/http/x", "RelativeUriWithoutBase")]
    public void UrlsThatCannotBeTestedAreErrorsPerItem(string uri, string id)
    {
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $leafWithKey", uri);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Output);
        Assert.Equal(new[] { id }, r.ErrorIds);
        Assert.Equal(uri, r.Errors[0].TargetObject);
    }

    [Fact]
    public void MissingUriWithoutServiceKeyIsAnError()
    {
        PsResult r = _ps.Run("Test-MtlsEndpoint -Certificate $leafWithKey");
        Assert.Equal(new[] { "UriMissing" }, r.ErrorIds);
    }

    [Fact]
    public void HeaderInjectionIsRefusedBeforeAnyConnection()
    {
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri https://127.0.0.1:1/ -NoClientCertificate -Headers @{ 'X-A' = \"1`r`nX-Injected: 1\" }");
        Assert.Empty(r.Output);
        Assert.Equal(new[] { "HeaderInvalid" }, r.ErrorIds);
    }

    [Fact]
    public void MissingPfxIsATerminatingFileNotFound()
    {
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri https://127.0.0.1:1/ -PfxPath $args[0]", _tmp.File("nope.pfx"));
        Assert.Empty(r.Output);
        Assert.Equal(new[] { "FileNotFound" }, r.ErrorIds);
    }

    [Fact]
    public void PfxThatIsNotAPfxIsAClearError()
    {
        string path = _tmp.Write("bad.pfx", "this is not a pfx");
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri https://127.0.0.1:1/ -PfxPath $args[0]", path);
        Assert.Empty(r.Output);
        Assert.Equal(new[] { "NotACertificateContainer" }, r.ErrorIds);
    }

    [Fact]
    public void BundleWithoutKeyIsAnError()
    {
        string pem = _tmp.Write("chain.json", TestPki.Default.ServiceKeyJson(key: string.Empty));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri https://127.0.0.1:1/", pem);
        Assert.Empty(r.Output);
        Assert.Contains("BundleHasNoPrivateKey", r.ErrorIds);
    }

    [Fact]
    public void TrustedCertificateOfTheWrongTypeIsRefused()
    {
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri https://127.0.0.1:1/ -NoClientCertificate -TrustedCertificate ([datetime]::UtcNow)");
        Assert.Empty(r.Output);
        Assert.Equal(new[] { "CertificateInputInvalid" }, r.ErrorIds);
    }

    [Fact]
    public void GetServerCertificateChainReportsUnreachableServers()
    {
        int port = TestPorts.Free();
        PsResult r = _ps.Run("Get-ServerCertificateChain -HostName 127.0.0.1 -Port $args[0] -TimeoutSec 5; Get-ServerCertificateChain 'http://x/'", port);
        Assert.Empty(r.Output);
        Assert.Equal(new[] { "ServerUnreachable", "UriInvalid" }, r.ErrorIds);
    }
}
