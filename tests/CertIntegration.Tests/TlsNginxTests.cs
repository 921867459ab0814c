using System.Management.Automation;
using CertIntegration.TestSupport;
using Xunit;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>Test-MtlsEndpoint against nginx with ssl_verify_client (skipped when nginx is not installed).</summary>
public sealed class TlsNginxTests : IDisposable
{
    private static readonly TestPki Pki = TestPki.Default;
    private static readonly Lazy<TestPki> Other = new(() => new TestPki("Nginx Unrelated"));

    private readonly TempDir _tmp = new();
    private readonly PsEngine _ps = new();

    public TlsNginxTests()
    {
        _ps.SetVariable("root", Cert(Pki.Root));
        Assert.Empty(_ps.Run("$b = ConvertFrom-ServiceKey $args[0]", ServiceKey(_tmp, Pki, Pki.Leaf)).Errors);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _tmp.Dispose();
    }

    private static void SkipWithoutNginx() => Skip.If(NginxServer.Binary is null, "nginx is not installed (.ci/run installs nginx-light)");

    [SkippableFact]
    public void VerifyOnAcceptsLeafWithIntermediateAgainstARootOnlyTrustList()
    {
        SkipWithoutNginx();
        using var nginx = NginxServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "on", new[] { Pki.Root });
        PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20", nginx.Url + "http/test"));
        Assert.True((bool)P(o, "Success")!, Describe(o));
        Assert.StartsWith("hello ", (string)P(o, "ResponseBody")!);
        Assert.Contains("Client ", (string)P(o, "ResponseBody")!);
        Assert.Equal(new[] { Dn(Cert(Pki.Root).Subject) }, Strings(o, "AcceptableIssuers").Select(Dn).ToArray());
        Assert.Equal(true, P(o, "ClientChainMatchesAcceptableIssuers"));
    }

    [SkippableFact]
    public void VerifyOptionalWithoutCertificateGives401WithTheReason()
    {
        SkipWithoutNginx();
        using var nginx = NginxServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "optional", new[] { Pki.Root });
        PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -NoClientCertificate -TrustedCertificate $root -TimeoutSec 20", nginx.Url));
        Assert.Equal(401, P(o, "StatusCode"));
        Assert.True((bool)P(o, "ClientCertificateRequested")!);
        Assert.False((bool)P(o, "ClientCertificateSent")!);
        Assert.Contains("NONE", (string)P(o, "ResponseBody")!);
        Assert.Contains("without a client certificate", Diagnosis(o));
    }

    [SkippableFact]
    public void ForeignCertificateIsRefusedAndTheCaListExplainsWhy()
    {
        SkipWithoutNginx();
        TestPki other = Other.Value;
        using var nginx = NginxServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "on", new[] { other.Root });
        PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20", nginx.Url));
        Assert.False((bool)P(o, "Success")!);
        Assert.Equal(false, P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.Equal(new[] { Dn(Cert(other.Root).Subject) }, Strings(o, "AcceptableIssuers").Select(Dn).ToArray());
        Assert.Contains("None of them is in your certificate's chain", Diagnosis(o));
    }

    [SkippableFact]
    public void ManyEndpointsRunInParallel()
    {
        SkipWithoutNginx();
        using var nginx = NginxServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "on", new[] { Pki.Root });
        PsResult r = _ps.Run("$u = $args[0]; 1..30 | ForEach-Object { \"${u}item/$_\" } | Test-MtlsEndpoint -Certificate $b -TrustedCertificate $root -ThrottleLimit 8 -Quiet", nginx.Url);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(30, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal(true, o.BaseObject));
    }
}
