using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using CertIntegration.TestSupport;
using Xunit;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>Test-MtlsEndpoint and Get-ServerCertificateChain against openssl s_server, an independent TLS stack.</summary>
public sealed class TlsOpenSslTests : IDisposable
{
    private static readonly TestPki Pki = TestPki.Default;
    private static readonly Lazy<TestPki> Other = new(() => new TestPki("Unrelated"));

    private readonly TempDir _tmp = new();
    private readonly PsEngine _ps = new();
    private readonly string _key;

    public TlsOpenSslTests()
    {
        _ps.SetVariable("root", Cert(Pki.Root));
        _key = ServiceKey(_tmp, Pki, Pki.Leaf);
        Assert.Empty(_ps.Run("$b = ConvertFrom-ServiceKey $args[0]", _key).Errors);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _tmp.Dispose();
    }

    private string Pem(params Issued[] certs) => _tmp.Write("ca-" + Guid.NewGuid().ToString("N")[..6] + ".pem", string.Concat(certs.Select(c => c.CertificatePem)));

    private PSObject Probe(string url, string extra = "")
    {
        PsResult r = _ps.Run($"Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -TimeoutSec 20 {extra}", url);
        return Single(r);
    }

    [SkippableFact]
    public void ServerThatDoesNotAskForACertificateIsReported()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate });
        PSObject o = Probe(server.Url);
        // An mTLS test against a server that never asks for the certificate tested nothing: a failure of its own.
        Assert.False((bool)P(o, "Success")!, Describe(o));
        Assert.Equal("FAILED 200 no mTLS", P(o, "Verdict"));
        Assert.Equal(200, P(o, "StatusCode"));
        Assert.False((bool)P(o, "ClientCertificateRequested")!);
        Assert.False((bool)P(o, "ClientCertificateSent")!);
        Assert.Contains("does not use mTLS", Diagnosis(o));
        Assert.DoesNotContain("is not an expected status", Diagnosis(o));
        PsResult quiet = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $root -Quiet", server.Url);
        Assert.Equal(new object[] { false }, quiet.Output.Select(x => x.BaseObject).ToArray());

        // Without a certificate, a plain-TLS answer is what was asked for.
        PsResult plain = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -NoClientCertificate -TrustedCertificate $root", server.Url);
        Assert.True((bool)P(Single(plain), "Success")!, Describe(Single(plain)));
        Assert.Null(P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.Contains("without asking for a client certificate", Diagnosis(o));
    }

    [SkippableTheory]
    [InlineData("-tls1_3")]
    [InlineData("-tls1_2")]
    public void LeafAndIntermediateAreSentToAServerThatTrustsOnlyTheRoot(string version)
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "-Verify", "2", "-verify_return_error", "-CAfile", Pem(Pki.Root), version);
        PSObject o = Probe(server.Url);
        Assert.True((bool)P(o, "Success")!, Describe(o) + "\nserver: " + server.Output);
        Assert.True((bool)P(o, "ClientCertificateSent")!);
        Assert.Equal(version == "-tls1_3" ? "Tls13" : "Tls12", P(o, "TlsProtocol"));
        Assert.Equal(true, P(o, "ClientChainMatchesAcceptableIssuers"));

        // the status page s_server answers with names the client certificate it verified
        Assert.Contains("Client certificate", (string)P(o, "ResponseBody")!);

        // The same leaf without its intermediate is refused by this server: the test above can fail.
        _ps.SetVariable("leafOnly", FakeCpiRuntime.WithKey(Pki.Leaf));
        PSObject alone = Single(_ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $leafOnly -TrustedCertificate $root -TimeoutSec 20", server.Url));
        Assert.False((bool)P(alone, "Success")!, Describe(alone));
        Assert.True((bool)P(alone, "ClientCertificateSent")!);
    }

    [SkippableFact]
    public void AcceptableIssuersAreWhatTheServerWasConfiguredToSend()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "-verify", "2", "-CAfile", Pem(Pki.Root, Other.Value.Root));
        PSObject o = Probe(server.Url);
        Assert.True((bool)P(o, "ClientCertificateRequested")!);
        var expected = new[] { Pki.Root, Other.Value.Root }.Select(c => Dn(Cert(c).Subject)).OrderBy(s => s).ToArray();
        Assert.Equal(expected, Strings(o, "AcceptableIssuers").Select(Dn).OrderBy(s => s).ToArray());
        Assert.Equal(true, P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.True((bool)P(o, "Success")!, Describe(o));
    }

    [SkippableTheory]
    [InlineData("-tls1_3")]
    [InlineData("-tls1_2")]
    public void RequestWithoutACaListIsStillSeen(string version)
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "-verify", "2", version);
        PSObject o = Probe(server.Url);
        Assert.True((bool)P(o, "ClientCertificateRequested")!, Describe(o));
        Assert.Empty(Strings(o, "AcceptableIssuers"));
        Assert.Null(P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.True((bool)P(o, "ClientCertificateSent")!);
    }

    [SkippableTheory]
    [InlineData("-tls1_3")]
    [InlineData("-tls1_2")]
    public void AcceptableCasThatDoNotIncludeOursAreDiagnosed(string version)
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "-Verify", "2", "-verify_return_error", "-CAfile", Pem(Other.Value.Root), version);
        PSObject o = Probe(server.Url);
        Assert.False((bool)P(o, "Success")!);
        Assert.True((bool)P(o, "ClientCertificateRequested")!);
        Assert.Equal(new[] { Dn(Cert(Other.Value.Root).Subject) }, Strings(o, "AcceptableIssuers").Select(Dn).ToArray());
        Assert.Equal(false, P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.Contains("None of them is in your certificate's chain", Diagnosis(o));
        Assert.Contains(Cert(Other.Value.Root).GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false), Diagnosis(o));
    }

    [SkippableFact]
    public void ServerChainFromAnUntrustedRootStopsBeforeTheClientCertificateIsPresented()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        TestPki other = Other.Value;
        // The server asks for a certificate and would accept ours; its own chain ends in a root we do not trust.
        using var server = OpenSslServer.Start(_tmp, other.Server, new[] { other.Intermediate }, "-verify", "2", "-CAfile", Pem(Pki.Root));
        PSObject o = Probe(server.Url);
        Assert.False((bool)P(o, "Success")!);
        Assert.False((bool)P(o, "ServerCertificateValid")!);
        Assert.False((bool)P(o, "ClientCertificateSent")!);
        Assert.Equal("FAILED server certificate", P(o, "Verdict"));
        Assert.Contains(Strings(o, "ServerCertificateErrors"), e => e.StartsWith("UntrustedRoot") || e.StartsWith("PartialChain"));
        Assert.Contains("Get-ServerCertificateChain", Diagnosis(o));
        Assert.Contains("was not presented", Diagnosis(o));
        Assert.Equal(2, ((Array)o.Methods["GetServerCertificateChain"].Invoke()).Length);
        Thread.Sleep(200);
        Assert.DoesNotContain(Pki.Leaf.Certificate.SubjectDN.ToString().Split(',')[0].Split('=')[1], server.Output);

        // Trusting that root makes it pass.
        _ps.SetVariable("otherRoot", Cert(other.Root));
        PsResult ok = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TrustedCertificate $otherRoot -TimeoutSec 20", server.Url);
        PSObject o2 = Single(ok);
        Assert.True((bool)P(o2, "Success")!, Describe(o2));
        Assert.True((bool)P(o2, "ClientCertificateSent")!);
    }

    [SkippableFact]
    public void HostNameMismatchIsAServerCertificateError()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        Issued wrongName = TestPki.IssueServer("CN=elsewhere.example", Pki.Intermediate, "elsewhere.example");
        using var server = OpenSslServer.Start(_tmp, wrongName, new[] { Pki.Intermediate });
        PSObject o = Probe(server.Url);
        Assert.False((bool)P(o, "ServerCertificateValid")!);
        Assert.Contains(Strings(o, "ServerCertificateErrors"), e => e.StartsWith("NameMismatch") && e.Contains("elsewhere.example"));
        Assert.Contains("does not name the host", Diagnosis(o));

        PsResult skip = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -NoClientCertificate -SkipCertificateCheck -TimeoutSec 20", server.Url);
        PSObject s = Single(skip);
        Assert.True((bool)P(s, "Success")!, Describe(s));
        Assert.Contains(skip.Warnings, w => w.Contains("SkipCertificateCheck"));
    }

    [SkippableFact]
    public void ServerChainIsFetchedEvenWhenUntrustedAndOrderedLeafFirst()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        TestPki other = Other.Value;
        using var server = OpenSslServer.Start(_tmp, other.Server, new[] { other.Intermediate });
        PsResult r = _ps.Run("Get-ServerCertificateChain $args[0]", server.Url);
        PSObject o = Single(r);
        var chain = (Array)o.Methods["GetChain"].Invoke();
        Assert.Equal(2, chain.Length);
        Assert.Equal(other.Server.Thumbprint, P(o, "Thumbprint"));
        Assert.Equal(false, P(o, "IsTrusted"));
        Assert.NotEmpty(Strings(o, "ValidationErrors"));
        Assert.Equal(false, P(o, "HasPrivateKey"));

        _ps.SetVariable("otherRoot", Cert(other.Root));
        PsResult r2 = _ps.Run("Get-ServerCertificateChain -HostName 127.0.0.1 -Port $args[0] -TrustedCertificate $otherRoot -IncludeRoot", server.Port);
        PSObject o2 = Single(r2);
        Assert.Equal(true, P(o2, "IsTrusted"));
        Assert.Equal(3, P(o2, "ChainLength"));
        Assert.Equal(true, P(o2, "RootAddedFromLocalStore"));
    }

    [SkippableFact]
    public void ServerChainPipesIntoExportCertificateChain()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        Skip.If(_ps.Run("Get-Command Export-CertificateChain -ErrorAction SilentlyContinue").Output.Count == 0, "Export-CertificateChain is not in this build of the module");
        TestPki other = Other.Value;
        using var server = OpenSslServer.Start(_tmp, other.Server, new[] { other.Intermediate });
        string dest = Path.Combine(_tmp.Path, "lb");
        PsResult r = _ps.Run("Get-ServerCertificateChain $args[0] | Export-CertificateChain -Destination $args[1]", server.Url, dest);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(2, Directory.GetFiles(dest).Length);
    }

    [SkippableFact]
    public void ServerChainIsFetchedFromATls12ServerThatRequiresACertificate()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        // The server aborts the handshake without a client certificate, before .NET shows the chain: it is read off the wire.
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "-Verify", "2", "-verify_return_error", "-CAfile", Pem(Pki.Root), "-tls1_2");
        PsResult r = _ps.Run("Get-ServerCertificateChain $args[0] -TrustedCertificate $root", server.Url);
        PSObject o = Single(r);
        Assert.Equal(2, P(o, "ChainLength"));
        Assert.Equal(true, P(o, "IsTrusted"));
        Assert.Equal(true, P(o, "ClientCertificateRequested"));
    }

    [Fact]
    public void ConnectionRefusedIsDiagnosed()
    {
        int port = TestPorts.Free();
        PSObject o = Probe($"https://127.0.0.1:{port}/");
        Assert.Equal("FAILED refused", P(o, "Verdict"));
        Assert.Contains("refused", Diagnosis(o));
    }

    [Fact]
    public void UnknownHostIsDiagnosedAsDns()
    {
        PSObject o = Probe("https://no-such-host.invalid/");
        Assert.False((bool)P(o, "Success")!);
        Assert.True(P(o, "Verdict") is "FAILED DNS" or "FAILED timeout", Describe(o));
        Assert.Contains(P(o, "Verdict") is "FAILED DNS" ? "could not be resolved" : "No answer", Diagnosis(o));
    }

    [Fact]
    public void SilentServerTimesOutInTime()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $b -TimeoutSec 2", $"https://127.0.0.1:{port}/");
            sw.Stop();
            PSObject o = Single(r);
            Assert.Equal("FAILED timeout", P(o, "Verdict"));
            Assert.Contains("No answer within 2 s during the TLS handshake", Diagnosis(o));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), sw.Elapsed.ToString());
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void StopEndsManyProbesPromptly()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(100);
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var ps = PowerShell.Create();
            ps.Runspace = _ps.Runspace;
            ps.AddScript("$p = $args[0]; 1..20 | ForEach-Object { \"https://127.0.0.1:$p/$_\" } | Test-MtlsEndpoint -Certificate $b -TimeoutSec 120 -ThrottleLimit 4").AddArgument(port);
            IAsyncResult pending = ps.BeginInvoke();
            Thread.Sleep(1500);
            Assert.False(pending.IsCompleted, "the probes should still be waiting for the silent server");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            ps.Stop();
            sw.Stop();
            Assert.True(pending.IsCompleted);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), sw.Elapsed.ToString());
        }
        finally
        {
            listener.Stop();
        }
    }
}
