using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>The README's runnable examples: the demo service key generator and the inbound and outbound scripts.</summary>
public class ExampleScriptTests
{
    private static string Demo(TempDir tmp)
    {
        ToolResult made = Tools.Run("bash", new[] { Path.Combine(Repo.Root, "examples", "new-demo-service-key.sh"), tmp.Path });
        Assert.True(made.ExitCode == 0, made.All);
        return tmp.File("cpi-cert-key.json");
    }

    [SkippableFact]
    public void InboundExampleTurnsTheDemoServiceKeyIntoAPfx()
    {
        Skip.IfNot(Tools.Exists("openssl") && Tools.Exists("bash"), "openssl or bash is not installed");
        using var tmp = new TempDir();
        string key = Demo(tmp);

        using var ps = new PsEngine(importModule: false);
        PsResult r = ps.Run("& $args[0] -ServiceKey $args[1] -OutDir $args[2]", Path.Combine(Repo.Root, "examples", "Inbound.ps1"), key, tmp.Path);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Contains(r.Output, o => o.ToString().StartsWith("PFX written:", StringComparison.Ordinal));

        var pfx = X509CertificateLoader.LoadPkcs12CollectionFromFile(tmp.File("client.pfx"), "demo-only-password", X509KeyStorageFlags.EphemeralKeySet);
        Assert.Equal(3, pfx.Count);
        Assert.Single(pfx, c => c.HasPrivateKey);
    }

    [SkippableFact]
    public void OutboundExampleWritesCerFilesAndTheSingleLine()
    {
        Skip.IfNot(Tools.Exists("openssl") && Tools.Exists("bash"), "openssl or bash is not installed");
        using var tmp = new TempDir();
        Demo(tmp);
        string outDir = Path.Combine(tmp.Path, "strust");

        using var ps = new PsEngine(importModule: false);
        PsResult r = ps.Run("& $args[0] -ChainFile $args[1] -OutDir $args[2]", Path.Combine(Repo.Root, "examples", "Outbound.ps1"), tmp.File("sap_cloudintegrationcertificate.p7b"), outDir);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(3, Directory.GetFiles(outDir, "*.cer").Length);
        string line = File.ReadAllText(Directory.GetFiles(outDir, "leaf-*.txt").Single());
        Assert.StartsWith("-----BEGIN CERTIFICATE-----MII", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
    }
}
