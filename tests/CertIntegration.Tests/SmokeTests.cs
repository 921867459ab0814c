using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

public class SmokeTests
{
    [Fact]
    public void ModuleImportsAndExportsItsCmdlets()
    {
        using var ps = new PsEngine();
        PsResult r = ps.Run("(Get-Command -Module CertIntegration).Name");
        Assert.Empty(r.Errors);
        var names = r.Output.Select(o => o.ToString()).ToList();
        Assert.Contains("ConvertFrom-ServiceKey", names);
        Assert.Contains("New-PfxFromPem", names);
    }

    [Fact]
    public void ServiceKeyPipesIntoPfx()
    {
        using var tmp = new TempDir();
        var pki = TestPki.Default;
        string key = tmp.Write("cpi-cert-key.json", pki.ServiceKeyJson());
        using var ps = new PsEngine();
        ps.SetVariable("pw", PsEngine.Secure("s3cret!"));
        PsResult r = ps.Run("ConvertFrom-ServiceKey $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw", key, tmp.File("client.pfx"));
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var file = Assert.Single(r.Objects<FileInfo>());
        Assert.True(file.Exists);
        var x = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(file.FullName, "s3cret!");
        Assert.True(x.HasPrivateKey);
        Assert.Equal(pki.Leaf.Thumbprint, x.Thumbprint);
    }
}
