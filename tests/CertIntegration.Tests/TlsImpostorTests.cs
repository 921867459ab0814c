using System.Management.Automation;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Xunit;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>
/// The two-handshake design must not trust the first connection for the second: a server (or a load balancer pool,
/// or someone in the path) that presents a valid certificate on the observing connection and another on the real one
/// must never receive the client certificate.
/// </summary>
public sealed class TlsImpostorTests : IDisposable
{
    private static readonly TestPki Pki = TestPki.Default;
    private static readonly Lazy<TestPki> Other = new(() => new TestPki("Impostor"));

    private readonly TempDir _tmp = new();
    private readonly PsEngine _ps = new();

    public TlsImpostorTests()
    {
        _ps.SetVariable("root", Cert(Pki.Root));
        Assert.Empty(_ps.Run("$b = ConvertFrom-ServiceKey $args[0]", ServiceKey(_tmp, Pki, Pki.Leaf)).Errors);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _tmp.Dispose();
    }

    private static SslStreamCertificateContext Context(TestPki pki) =>
        SslStreamCertificateContext.Create(FakeCpiRuntime.WithKey(pki.Server), new X509Certificate2Collection { Cert(pki.Intermediate) }, offline: true);

    [Fact]
    public void Tls12CertificateIsNotPresentedWhenTheSecondConnectionShowsAnotherServer()
    {
        SslStreamCertificateContext good = Context(Pki);
        SslStreamCertificateContext impostor = Context(Other.Value);
        using var server = new ScriptedTlsServer(n => n == 0 ? good : impostor, SslProtocols.Tls12);
        PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20", server.Url));
        Thread.Sleep(300);
        Assert.True(server.Connections >= 2, "the probe should have made its real connection");
        Assert.Empty(server.ClientCertificates);
        Assert.False((bool)P(o, "Success")!, Describe(o));
        Assert.False((bool)P(o, "ClientCertificateSent")!, Describe(o));
        Assert.False((bool)P(o, "ServerCertificateValid")!, Describe(o));
        Assert.True((bool)P(o, "ServerChangedBetweenConnections")!, Describe(o));
        Assert.Equal("FAILED server certificate", P(o, "Verdict"));
        Assert.Contains("different certificate on the second connection", Diagnosis(o));
        Assert.Contains("was not presented", Diagnosis(o));
    }

    /// <summary>
    /// TLS 1.3 encrypts the server's certificate, and .NET judges it only after the handshake: the impostor is caught
    /// before any request, and the result must say truthfully whether our certificate reached it.
    /// </summary>
    [Fact]
    public void Tls13ImpostorOnTheSecondConnectionIsCaughtAndReportedTruthfully()
    {
        SslStreamCertificateContext good = Context(Pki);
        SslStreamCertificateContext impostor = Context(Other.Value);
        using var server = new ScriptedTlsServer(n => n == 0 ? good : impostor, SslProtocols.Tls13);
        PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20", server.Url));
        Thread.Sleep(300);
        Assert.True(server.Connections >= 2, "the probe should have made its real connection");
        Assert.False((bool)P(o, "Success")!, Describe(o));
        Assert.False((bool)P(o, "ServerCertificateValid")!, Describe(o));
        Assert.True((bool)P(o, "ServerChangedBetweenConnections")!, Describe(o));
        Assert.Equal("FAILED server certificate", P(o, "Verdict"));
        Assert.Equal(server.ClientCertificates.Count > 0, (bool)P(o, "ClientCertificateSent")!);
        Assert.Contains(server.ClientCertificates.Count > 0 ? "was presented to this server before it was found untrusted" : "was not presented", Diagnosis(o));
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public void CertificateIsPresentedWhenBothConnectionsShowTheTrustedServer(SslProtocols protocol)
    {
        SslStreamCertificateContext good = Context(Pki);
        using var server = new ScriptedTlsServer(_ => good, protocol);
        PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20", server.Url));
        Assert.True((bool)P(o, "Success")!, Describe(o));
        Assert.True((bool)P(o, "ClientCertificateSent")!, Describe(o));
        Thread.Sleep(300);
        Assert.Contains(server.ClientCertificates, s => s.Contains(" Client "));
    }

    /// <summary>One observing handshake per server and cmdlet call, not one per endpoint: half the handshakes, and one
    /// "no client certificate" entry in the server's log instead of one per endpoint.</summary>
    [Fact]
    public void ManyEndpointsOfOneServerShareOneObservingHandshake()
    {
        SslStreamCertificateContext good = Context(Pki);
        using var server = new ScriptedTlsServer(_ => good, SslProtocols.Tls13);
        PsResult r = _ps.Run("$p = $args[0]; 1..5 | ForEach-Object { \"https://127.0.0.1:$p/e$_\" } | Test-MtlsEndpoint -Certificate $b -TrustedCertificate $root -TimeoutSec 20 -ThrottleLimit 1", server.Port);
        Assert.Empty(r.Errors);
        Assert.Equal(5, r.Output.Count);
        Assert.All(r.Output, o => Assert.True((bool)P(o, "Success")!, Describe(o)));
        Thread.Sleep(300);
        Assert.Equal(6, server.Connections);
        Assert.Equal(5, server.ClientCertificates.Count);
    }

    /// <summary>
    /// A later call in the same session must observe afresh: a resumed TLS session (which .NET offers on its own)
    /// carries no certificate request, and would look like a server that does not ask for one.
    /// </summary>
    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public void RepeatedCallsStillSeeTheCertificateRequest(SslProtocols protocol)
    {
        SslStreamCertificateContext good = Context(Pki);
        using var server = new ScriptedTlsServer(_ => good, protocol);
        for (int call = 0; call < 3; call++)
        {
            PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20", server.Url + "c" + call));
            Assert.True((bool)P(o, "ClientCertificateRequested")!, "call " + call + ": " + Describe(o));
            Assert.True((bool)P(o, "ClientCertificateSent")!, "call " + call + ": " + Describe(o));
            Assert.True((bool)P(o, "Success")!, "call " + call + ": " + Describe(o));
        }
    }

    [SkippableTheory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public void RepeatedCallsStillSeeTheCertificateRequestOfOpenSsl(string version)
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        string ca = _tmp.Write("ca-rep.pem", Pki.Root.CertificatePem);
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "-verify", "3", "-CAfile", ca, version);
        for (int call = 0; call < 3; call++)
        {
            PSObject o = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20", server.Url));
            Assert.True((bool)P(o, "ClientCertificateRequested")!, "call " + call + ": " + Describe(o));
            Assert.True((bool)P(o, "ClientCertificateSent")!, "call " + call + ": " + Describe(o));
            Assert.True((bool)P(o, "Success")!, "call " + call + ": " + Describe(o) + "\n" + server.Output);
        }
    }
}
