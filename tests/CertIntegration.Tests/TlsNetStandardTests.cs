using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Runtime.Loader;
using CertIntegration.TestSupport;
using Xunit;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>
/// The netstandard2.0 build (what Windows PowerShell 5.1 loads), run here in an isolated load context: its path chooses
/// the client certificate in the selection callback, after checking the server there. On Linux, .NET sends only the
/// leaf for a callback-chosen certificate (as SChannel does without the intermediates in the Windows stores), so
/// these tests use servers that accept the leaf alone.
/// PowerShell caches cmdlet metadata by type name, so the two builds cannot meet in one process: these tests run only
/// in a child test process (CI_NETSTANDARD_CHILD=1) that <see cref="TlsNetStandardRunner"/> starts.
/// </summary>
public sealed class TlsNetStandardTests : IDisposable
{
    internal const string ChildVariable = "CI_NETSTANDARD_CHILD";

    private static readonly Lazy<Assembly?> NetStandardBuild = new(Load);
    private static readonly TestPki Pki = TestPki.Default;
    private static readonly Lazy<TestPki> Other = new(() => new TestPki("NetStandard Unrelated"));

    private readonly TempDir _tmp = new();
    private readonly Runspace? _runspace;

    public TlsNetStandardTests()
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) != "1")
        {
            return;
        }

        Assembly? asm = NetStandardBuild.Value;
        if (asm is null)
        {
            return;
        }

        var iss = InitialSessionState.CreateDefault2();
        foreach (string name in new[] { "Test-MtlsEndpoint", "ConvertFrom-ServiceKey" })
        {
            Type type = asm.GetType("CertIntegration.Commands." + name.Replace("-", string.Empty) + "Command", throwOnError: true)!;
            iss.Commands.Add(new SessionStateCmdletEntry(name, type, null));
        }

        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.Open();
        _runspace.SessionStateProxy.SetVariable("root", Cert(Pki.Root));
    }

    public void Dispose()
    {
        _runspace?.Dispose();
        _tmp.Dispose();
    }

    private static Assembly? Load()
    {
        string dir = Path.Combine(Repo.Root, "out", "CertIntegration", "bin", "netstandard2.0");
        if (!File.Exists(Path.Combine(dir, "CertIntegration.dll")))
        {
            return null;
        }

        var alc = new NetStandardContext(dir);
        return alc.LoadFromAssemblyPath(Path.Combine(dir, "CertIntegration.dll"));
    }

    private sealed class NetStandardContext : AssemblyLoadContext
    {
        private readonly string _dir;

        public NetStandardContext(string dir) : base("CertIntegration-netstandard2.0") => _dir = dir;

        protected override Assembly? Load(AssemblyName name)
        {
            // The module's own dependencies from its netstandard2.0 folder; System.Management.Automation and the
            // framework from the host, as in a real PowerShell.
            string candidate = Path.Combine(_dir, name.Name + ".dll");
            return name.Name is "CertIntegration" or "CertIntegration.Core" or "BouncyCastle.Cryptography" or "Newtonsoft.Json" && File.Exists(candidate)
                ? LoadFromAssemblyPath(candidate)
                : null;
        }
    }

    private PSObject Run(string script, params object[] args)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        foreach (object a in args)
        {
            ps.AddArgument(a);
        }

        var output = ps.Invoke();
        Assert.True(ps.Streams.Error.Count == 0, string.Join("\n", ps.Streams.Error));
        return Assert.Single(output);
    }

    [SkippableFact]
    public void CallbackPathPresentsTheCertificateToATrustedServer()
    {
        Skip.If(Environment.GetEnvironmentVariable(ChildVariable) != "1", "runs in its own process (TlsNetStandardRunner)");
        Skip.If(_runspace is null, "the netstandard2.0 build is not laid out");
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        using var server = OpenSslServer.Start(_tmp, Pki.Server, new[] { Pki.Intermediate }, "-verify", "2", "-CAfile", _tmp.Write("ca.pem", Pki.Intermediate.CertificatePem + Pki.Root.CertificatePem));
        PSObject o = Run("ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri $args[1] -TrustedCertificate $root -TimeoutSec 20", ServiceKey(_tmp, Pki, Pki.Leaf), server.Url);
        Assert.True((bool)P(o, "Success")!, Describe(o) + "\n" + server.Output);
        Assert.True((bool)P(o, "ClientCertificateSent")!);
        Assert.Contains("Client certificate", (string)P(o, "ResponseBody")!);
        // s_server logs the certificates it verifies; under load its output can take a moment
        for (int i = 0; i < 50 && !server.Output.Contains("CertIntegration Test Client"); i++)
        {
            Thread.Sleep(100);
        }

        Assert.Contains("CertIntegration Test Client", server.Output);
    }

    [SkippableFact]
    public void CallbackPathWithholdsTheCertificateFromAnUntrustedServer()
    {
        Skip.If(Environment.GetEnvironmentVariable(ChildVariable) != "1", "runs in its own process (TlsNetStandardRunner)");
        Skip.If(_runspace is null, "the netstandard2.0 build is not laid out");
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        TestPki other = Other.Value;
        using var server = OpenSslServer.Start(_tmp, other.Server, new[] { other.Intermediate }, "-verify", "2", "-CAfile", _tmp.Write("ca2.pem", Pki.Root.CertificatePem));
        PSObject o = Run("ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri $args[1] -TrustedCertificate $root -TimeoutSec 20", ServiceKey(_tmp, Pki, Pki.Leaf), server.Url);
        Assert.False((bool)P(o, "ServerCertificateValid")!);
        Assert.False((bool)P(o, "ClientCertificateSent")!);
        Assert.Equal("FAILED server certificate", P(o, "Verdict"));
        Thread.Sleep(200);
        Assert.DoesNotContain("CertIntegration Test Client", server.Output);
    }

    [SkippableTheory]
    [InlineData(System.Security.Authentication.SslProtocols.Tls12)]
    [InlineData(System.Security.Authentication.SslProtocols.Tls13)]
    public void CallbackPathWithholdsTheCertificateFromAnotherServerOnTheSecondConnection(System.Security.Authentication.SslProtocols protocol)
    {
        Skip.If(Environment.GetEnvironmentVariable(ChildVariable) != "1", "runs in its own process (TlsNetStandardRunner)");
        Skip.If(_runspace is null, "the netstandard2.0 build is not laid out");
        var good = System.Net.Security.SslStreamCertificateContext.Create(FakeCpiRuntime.WithKey(Pki.Server), new System.Security.Cryptography.X509Certificates.X509Certificate2Collection { Cert(Pki.Intermediate) }, offline: true);
        var impostor = System.Net.Security.SslStreamCertificateContext.Create(FakeCpiRuntime.WithKey(Other.Value.Server), new System.Security.Cryptography.X509Certificates.X509Certificate2Collection { Cert(Other.Value.Intermediate) }, offline: true);
        using var server = new ScriptedTlsServer(n => n == 0 ? good : impostor, protocol);
        PSObject o = Run("ConvertFrom-ServiceKey $args[0] | Test-MtlsEndpoint -Uri $args[1] -TrustedCertificate $root -TimeoutSec 20", ServiceKey(_tmp, Pki, Pki.Leaf), server.Url);
        Thread.Sleep(300);
        Assert.True(server.Connections >= 2);
        Assert.Empty(server.ClientCertificates);
        Assert.False((bool)P(o, "ClientCertificateSent")!);
        Assert.Equal("FAILED server certificate", P(o, "Verdict"));
    }
}

/// <summary>Runs <see cref="TlsNetStandardTests"/> in a test process of their own and checks that they passed.</summary>
public sealed class TlsNetStandardRunner
{
    [SkippableFact]
    public void NetStandardBuildPassesInItsOwnProcess()
    {
        Skip.IfNot(OpenSslServer.Available, "openssl is not installed");
        Skip.If(Environment.GetEnvironmentVariable(TlsNetStandardTests.ChildVariable) == "1", "this is the child process");
        string testAssembly = typeof(TlsNetStandardRunner).Assembly.Location;
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "test", testAssembly, "--nologo", "--filter", "FullyQualifiedName~TlsNetStandardTests" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment[TlsNetStandardTests.ChildVariable] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("the child test run did not finish in 180 s");
        }

        string output = stdout.Result + stderr.Result;
        Assert.True(p.ExitCode == 0, output);
        Assert.Matches(@"Passed:\s+4\b", output);
    }
}
