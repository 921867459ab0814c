using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// The netstandard2.0 build is what Windows PowerShell 5.1 loads. It cannot share a process with the net8.0 build
/// (PowerShell caches cmdlet metadata by type name), so a real pwsh of its own imports its CertIntegration.dll
/// directly and runs the main pipelines: service key → PFX, PFX → bundle, bundle → .cer files and key file.
/// </summary>
public class NetStandardBuildTests
{
    [SkippableFact]
    public void MainPipelinesWorkWithTheNetStandardBuild()
    {
        string? pwsh = Tools.Pwsh();
        Skip.If(pwsh is null, "pwsh is not installed (build/tools.sh installs it)");
        string dll = Path.Combine(Repo.Root, "out", "CertIntegration", "bin", "netstandard2.0", "CertIntegration.dll");
        Assert.True(File.Exists(dll), dll);

        var pki = TestPki.Default;
        using var tmp = new TempDir();
        string key = tmp.Write("cpi-cert-key.json", pki.ServiceKeyJson());
        string script = tmp.Write("run.ps1", """
            param($Dll, $Key, $Out)
            $ErrorActionPreference = 'Stop'
            Import-Module $Dll
            # Prove which build is loaded.
            'BUILD ' + (Get-Command ConvertFrom-ServiceKey).ImplementingType.Assembly.Location
            $pw = [System.Net.NetworkCredential]::new('', 'ns-password').SecurePassword
            $pfx = ConvertFrom-ServiceKey -LiteralPath $Key | New-PfxFromPem -OutFile ([System.IO.Path]::Combine($Out, 'client.pfx')) -Password $pw
            $b = Import-CertificateBundle -LiteralPath $pfx.FullName -Password $pw
            'BUNDLE ' + $b.Thumbprint + ' ' + $b.HasPrivateKey + ' ' + $b.ChainLength
            $files = $b | Export-CertificateChain -Destination ([System.IO.Path]::Combine($Out, 'cer'))
            'CER ' + @($files).Count
            $k = $b | Export-PrivateKey -OutFile ([System.IO.Path]::Combine($Out, 'key.key'))
            'KEY ' + $k.Name
            $ks = $b | Export-Keystore -OutFile ([System.IO.Path]::Combine($Out, 'tenant.jks')) -Password $pw
            $back = Import-CertificateBundle -LiteralPath $ks.FullName -Password $pw
            'JKS ' + $back.Alias + ' ' + $back.HasPrivateKey + ' ' + $back.ChainLength
            """);

        ToolResult r = Tools.Run(pwsh!, new[] { "-NoProfile", "-NonInteractive", "-File", script, dll, key, tmp.Path }, timeoutMs: 120_000);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("BUILD " + dll, r.StdOut);
        Assert.Contains($"BUNDLE {pki.Leaf.Thumbprint} True 3", r.StdOut, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("CER 3", r.StdOut);
        Assert.Contains("KEY key.key", r.StdOut);
        // The PFX's friendlyName (the leaf's common name) is kept as alias, in lowercase as a JKS keeps aliases.
        Assert.Matches(@"JKS [a-z0-9 ]+ client [0-9a-f]{32} True 3", r.StdOut);
        Assert.Equal(new byte[] { 0xFE, 0xED, 0xFE, 0xED }, File.ReadAllBytes(tmp.File("tenant.jks")).Take(4).ToArray());
        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(tmp.File("key.key")));
    }
}
