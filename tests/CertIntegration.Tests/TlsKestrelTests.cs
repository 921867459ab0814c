using System.Management.Automation;
using CertIntegration.TestSupport;
using Xunit;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>Test-MtlsEndpoint against an in-process Kestrel that behaves like the Cloud Integration runtime.</summary>
public sealed class TlsKestrelTests : IDisposable
{
    private static readonly TestPki Pki = TestPki.Default;
    private static readonly Lazy<Issued> NoRoleLeaf = new(() => TestPki.IssueLeaf("CN=No Role Client,O=CertIntegration Tests,C=DE", Pki.Intermediate));
    private static readonly Lazy<Issued> UnknownLeaf = new(() => TestPki.IssueLeaf("CN=Unknown Client,O=CertIntegration Tests,C=DE", Pki.Intermediate));
    private static readonly Lazy<TestPki> Foreign = new(() => new TestPki("Foreign"));

    private readonly TempDir _tmp = new();
    private readonly FakeCpiRuntime _runtime;
    private readonly PsEngine _ps = new();

    public TlsKestrelTests()
    {
        _runtime = FakeCpiRuntime.Start(Pki, new[] { Pki.Root }, new[] { Pki.Leaf.Thumbprint }, new[] { NoRoleLeaf.Value.Thumbprint });
        _ps.SetVariable("root", Cert(Pki.Root));
    }

    public void Dispose()
    {
        _ps.Dispose();
        _runtime.Dispose();
        _tmp.Dispose();
    }

    private PSObject Probe(Issued leaf, string path = "/http/test/clientcert", string extra = "", TestPki? pki = null)
    {
        pki ??= Pki;
        string key = ServiceKey(_tmp, pki, leaf, _runtime.Url, pki.Intermediate, pki.Root);
        PsResult r = _ps.Run($"ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri $args[1] -TrustedCertificate $root -TimeoutSec 20 {extra}", key, path);
        return Single(r);
    }

    [Fact]
    public void KnownCertificateGets200WithBodyAndTheWholeChainIsSent()
    {
        PSObject o = Probe(Pki.Leaf);
        Assert.True((bool)P(o, "Success")!, Describe(o));
        Assert.Equal(200, P(o, "StatusCode"));
        Assert.Contains("Hello from the test runtime", (string)P(o, "ResponseBody")!);
        Assert.Contains("GET /http/test/clientcert", (string)P(o, "ResponseBody")!);
        Assert.True((bool)P(o, "ClientCertificateRequested")!);
        Assert.True((bool)P(o, "ClientCertificateSent")!);
        Assert.True((bool)P(o, "ServerCertificateValid")!);
        Assert.Equal(true, P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.Equal(new[] { Dn(Cert(Pki.Root).Subject) }, Strings(o, "AcceptableIssuers").Select(Dn).ToArray());
        Assert.Equal("Tls13", P(o, "TlsProtocol"));
        Assert.Equal($"{_runtime.Url}/http/test/clientcert", P(o, "Uri")!.ToString());
        Assert.Equal(2, ((Array)o.Methods["GetServerCertificateChain"].Invoke()).Length);
        Assert.Empty(Strings(o, "Diagnosis"));
    }

    [Fact]
    public void NoCertificateGets401AndTheDiagnosisSaysSo()
    {
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -NoClientCertificate -TrustedCertificate $root -TimeoutSec 20", _runtime.Url + "/http/x");
        PSObject o = Single(r);
        Assert.False((bool)P(o, "Success")!);
        Assert.Equal(401, P(o, "StatusCode"));
        Assert.True((bool)P(o, "ClientCertificateRequested")!);
        Assert.False((bool)P(o, "ClientCertificateSent")!);
        Assert.Contains("without a client certificate", Diagnosis(o));
        Assert.Equal("FAILED 401", P(o, "Verdict"));
    }

    [Fact]
    public void KnownCertificateWithoutRoleGets403AndTheHourHint()
    {
        PSObject o = Probe(NoRoleLeaf.Value);
        Assert.Equal(403, P(o, "StatusCode"));
        Assert.True((bool)P(o, "ClientCertificateSent")!);
        Assert.Contains("ESBMessaging.send", Diagnosis(o));
        Assert.Contains("up to an hour", Diagnosis(o));
    }

    [Fact]
    public void UnknownCertificateGetsInvalidClientAndTheServiceKeyHint()
    {
        PSObject o = Probe(UnknownLeaf.Value);
        Assert.Equal(401, P(o, "StatusCode"));
        Assert.Contains("invalid_client", (string)P(o, "ResponseBody")!);
        Assert.Contains("only the leaf certificate goes into certificate_external", Diagnosis(o));
    }

    [Fact]
    public void CertificateFromAnotherCaIsRejectedAfterTheTls13HandshakeAndTheCaListExplainsWhy()
    {
        PSObject o = Probe(Foreign.Value.Leaf, pki: Foreign.Value);
        Assert.False((bool)P(o, "Success")!);
        Assert.Null(P(o, "StatusCode"));
        Assert.Equal(false, P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.Equal("FAILED rejected after handshake", P(o, "Verdict"));
        string d = Diagnosis(o);
        Assert.Contains("closed the connection on the first read", d);
        Assert.Contains("None of them is in your certificate's chain", d);
        Assert.Contains(Cert(Pki.Root).Subject.Split(',')[0], d);
    }

    [Fact]
    public void RelativeUriAndOmittedUriResolveAgainstTheServiceKeyUrl()
    {
        string key = ServiceKey(_tmp, Pki, Pki.Leaf, _runtime.Url);
        PsResult r = _ps.Run("$b = ConvertFrom-ServiceKey $args[0]; $b | Test-MtlsEndpoint -TrustedCertificate $root; Test-MtlsEndpoint -Certificate $b -Uri 'http/y', '/http/z?q=1' -TrustedCertificate $root -ThrottleLimit 1", key);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var uris = r.Output.Select(o => P(o, "Uri")!.ToString()).OrderBy(s => s).ToList();
        Assert.Equal(new[] { _runtime.Url + "/", _runtime.Url + "/http/y", _runtime.Url + "/http/z?q=1" }, uris);
        Assert.All(r.Output, o => Assert.Equal(200, P(o, "StatusCode")));
    }

    [Fact]
    public void QuietGivesOneBooleanPerEndpointAndPostSendsTheBody()
    {
        string key = ServiceKey(_tmp, Pki, Pki.Leaf, _runtime.Url);
        PsResult r = _ps.Run("$b = ConvertFrom-ServiceKey $args[0]; '/http/a', '/http/b', 'https://127.0.0.1:1/closed' | Test-MtlsEndpoint -Certificate $b -TrustedCertificate $root -Quiet -TimeoutSec 10", key);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(new object[] { false, true, true }, r.Output.Select(o => o.BaseObject).OrderBy(b => b).ToArray());

        PsResult post = _ps.Run("ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri /http/post -Method Post -Body '<a/>' -ContentType application/xml -Headers @{ 'X-Test' = '1' } -TrustedCertificate $root", key);
        PSObject o = Single(post);
        Assert.Contains("POST /http/post", (string)P(o, "ResponseBody")!);
    }

    [Fact]
    public void UrlsPipedWithoutCertificateAreProbedWithoutOne()
    {
        PsResult r = _ps.Run("$args[0], [uri]$args[1] | Test-MtlsEndpoint -TrustedCertificate $root", _runtime.Url + "/http/1", _runtime.Url + "/http/2");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal(401, P(o, "StatusCode")));
        Assert.All(r.Output, o => Assert.Contains("Pass -Certificate", Diagnosis(o)));
    }

    [Fact]
    public void RedirectsAreReportedNotFollowed()
    {
        PSObject o = Probe(Pki.Leaf, "/http/redirect/x");
        Assert.False((bool)P(o, "Success")!);
        Assert.Equal(302, P(o, "StatusCode"));
        Assert.Equal("https://login.elsewhere.example/sso?from=cpi", P(o, "RedirectLocation"));
        Assert.Contains("Redirects are not followed", Diagnosis(o));
    }

    [Fact]
    public void VerboseCarriesTheDiagnosisAndNoSecretAppears()
    {
        string key = ServiceKey(_tmp, Pki, NoRoleLeaf.Value, _runtime.Url);
        PsResult r = _ps.Run("ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri /http/v -TrustedCertificate $root -Verbose", key);
        Assert.Contains(r.Verbose, v => v.Contains("up to an hour"));
        string keyBody = NoRoleLeaf.Value.KeyPemPkcs8.Split('\n')[2];
        Assert.DoesNotContain(keyBody, r.AllText);
    }

    [Fact]
    public void Plain401WithTheCertificateSentPointsAtTheServiceKey()
    {
        PSObject o = Probe(Pki.Leaf, "/http/unmapped");
        Assert.Equal(401, P(o, "StatusCode"));
        Assert.True((bool)P(o, "ClientCertificateSent")!);
        Assert.Contains("401 although the client certificate was sent", Diagnosis(o));
    }

    [Fact]
    public void TokensInTheAnswerAreNotShown()
    {
        PSObject o = Probe(Pki.Leaf, "/oauth/token", "-Method POST -Body 'grant_type=client_credentials&client_id=sb-x' -ContentType application/x-www-form-urlencoded");
        Assert.Equal(200, P(o, "StatusCode"));
        string body = (string)P(o, "ResponseBody")!;
        Assert.Contains("\"access_token\":\"***\"", body);
        Assert.DoesNotContain("secret-token-value", body);
        Assert.Contains("expires_in", body);
    }

    [Fact]
    public void ExpectedStatusCodeDecidesSuccess()
    {
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -NoClientCertificate -TrustedCertificate $root -ExpectedStatusCode 401 -Quiet", _runtime.Url + "/http/x");
        Assert.Equal(true, Assert.Single(r.Output).BaseObject);
    }

    [Fact]
    public void CertificateWithoutClientAuthEkuIsWarnedAndDiagnosed()
    {
        Issued serverOnly = TestPki.IssueLeaf("CN=Server EKU only,O=CertIntegration Tests,C=DE", Pki.Intermediate, clientAuth: false);
        string key = ServiceKey(_tmp, Pki, serverOnly, _runtime.Url);
        PsResult r = _ps.Run("ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri /http/x -TrustedCertificate $root -TimeoutSec 20", key);
        PSObject o = Single(r);
        Assert.False((bool)P(o, "Success")!);
        Assert.Contains(r.Warnings, w => w.Contains("Client Authentication"));
        Assert.Contains("lacks the Client Authentication extended key usage", Diagnosis(o));
    }

    [Fact]
    public void X509CertificateWithKeyIsAccepted()
    {
        _ps.SetVariable("leaf", FakeCpiRuntime.WithKey(Pki.Leaf));
        _ps.SetVariable("inter", Cert(Pki.Intermediate));
        // A store certificate: its intermediates are not in any store here, so only the leaf goes out and the server
        // (which trusts only the root) cannot build the chain: rejected after the handshake.
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $leaf -TrustedCertificate $root -TimeoutSec 20", _runtime.Url + "/http/x");
        PSObject o = Single(r);
        Assert.True((bool)P(o, "ClientCertificateSent")!, Describe(o));
        Assert.Equal(false, P(o, "ClientChainMatchesAcceptableIssuers"));
        Assert.Equal("FAILED rejected after handshake", P(o, "Verdict"));
        Assert.Contains("chain is incomplete", Diagnosis(o));
    }

    [Fact]
    public void CertificateWithoutKeyIsAClearError()
    {
        _ps.SetVariable("pub", Cert(Pki.Leaf));
        PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $pub -TrustedCertificate $root", _runtime.Url);
        Assert.Empty(r.Output);
        Assert.Contains("CertificateHasNoPrivateKey", r.ErrorIds);
        // -Certificate is typed: PowerShell's binder refuses text before the cmdlet runs, naming the parameter.
        PsResult r2 = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate 'nonsense'", _runtime.Url);
        Assert.Empty(r2.Output);
        var binding = Assert.IsAssignableFrom<ParameterBindingException>(r2.Terminating ?? r2.Errors.Single().Exception);
        Assert.Equal("Certificate", binding.ParameterName);
    }

    [Fact]
    public void PfxPathIsRead()
    {
        string key = ServiceKey(_tmp, Pki, Pki.Leaf, _runtime.Url);
        _ps.SetVariable("pw", PsEngine.Secure("pfx-pass"));
        PsResult r = _ps.Run("ConvertFrom-ServiceKey $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw | Out-Null; Test-MtlsEndpoint -Uri $args[2] -PfxPath $args[1] -Password $pw -TrustedCertificate $root -TimeoutSec 20",
            key, _tmp.File("c.pfx"), _runtime.Url + "/http/pfx");
        PSObject o = Single(r);
        Assert.Equal(200, P(o, "StatusCode"));
        _ps.SetVariable("wrong", PsEngine.Secure("wrong"));
        PsResult bad = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -PfxPath $args[1] -Password $wrong", _runtime.Url, _tmp.File("c.pfx"));
        Assert.Contains("Pkcs12PasswordIncorrect", bad.ErrorIds);
    }
}
