using System.Text.RegularExpressions;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// The help a user gets from Get-Help in the built module (out/CertIntegration), read by the real engine: every
/// exported cmdlet documented, examples that match docs/en-US, and about_CertIntegration.
/// </summary>
public class HelpTests
{
    private static string HelpFile => Path.Combine(Path.GetDirectoryName(Repo.ModuleManifest)!, "en-US", "CertIntegration.dll-Help.xml");

    // Collects what is wrong with each cmdlet's help; an empty result means all is well.
    private const string CheckAllCmdlets = """
        $common = [System.Management.Automation.Cmdlet]::CommonParameters
        Get-Command -Module CertIntegration -CommandType Cmdlet | ForEach-Object {
            $name = $_.Name
            $h = Get-Help $name -Full
            "CHECKED $name"
            $synopsis = "$($h.Synopsis)".Trim()
            if ($synopsis.Length -eq 0) { "$name has no synopsis" }
            elseif ($synopsis.StartsWith($name)) { "$name has the auto-generated synopsis (its syntax): $synopsis" }
            if (-not (@($h.description) | ForEach-Object Text | Where-Object { "$_".Trim() })) { "$name has no description" }
            $examples = @($h.examples.example | Where-Object { "$($_.code)".Trim() })
            if ($examples.Count -lt 1) { "$name has no example with code" }
            $documented = @{}
            @($h.parameters.parameter) | Where-Object { $_ } | ForEach-Object {
                $documented[$_.name] = (@($_.description) | ForEach-Object Text) -join ' '
            }
            $_.Parameters.Keys | Where-Object { $common -notcontains $_ } | ForEach-Object {
                if (-not $documented.ContainsKey($_)) { "$name -$_ is not documented" }
                elseif (-not "$($documented[$_])".Trim()) { "$name -$_ has no description" }
            }
        }
        """;

    [Fact]
    public void EveryExportedCmdletHasWrittenHelp()
    {
        using var ps = new PsEngine();
        PsResult r = ps.Run(CheckAllCmdlets);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var lines = r.Output.Select(o => o.ToString()).ToList();
        var checkedNames = lines.Where(l => l.StartsWith("CHECKED ", StringComparison.Ordinal)).Select(l => l[8..]).ToList();
        Assert.Contains("ConvertFrom-ServiceKey", checkedNames);
        Assert.Contains("New-PfxFromPem", checkedNames);
        var problems = lines.Where(l => !l.StartsWith("CHECKED ", StringComparison.Ordinal)).ToList();
        Assert.True(problems.Count == 0, "Help problems:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void TheCheckCatchesACmdletWithoutHelp()
    {
        // The same check, run on a copy of the module without its help file, must report every cmdlet:
        // otherwise the test above could pass on the auto-generated help.
        using var copy = ModuleCopy.Create();
        File.Delete(Path.Combine(copy.Base, "en-US", "CertIntegration.dll-Help.xml"));
        using var ps = new PsEngine(manifest: copy.Manifest);
        PsResult r = ps.Run(CheckAllCmdlets);
        var problems = r.Output.Select(o => o.ToString()).Where(l => !l.StartsWith("CHECKED ", StringComparison.Ordinal)).ToList();
        Assert.Contains(problems, p => p.StartsWith("ConvertFrom-ServiceKey has the auto-generated synopsis", StringComparison.Ordinal));
        Assert.Contains("ConvertFrom-ServiceKey has no example with code", problems);
        Assert.Contains("New-PfxFromPem -Password has no description", problems);
        Assert.Contains("New-PfxFromPem -WhatIf has no description", problems);
    }

    [Fact]
    public void ExamplesViewShowsTheExampleCodeOfTheDoc()
    {
        using var ps = new PsEngine();
        PsResult r = ps.Run("""
            $e = Get-Help ConvertFrom-ServiceKey -Examples
            $e.PSObject.TypeNames[0]
            $e.examples.example | ForEach-Object { $_.title; $_.code; $_.remarks | ForEach-Object Text }
            """);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Contains("ExamplesView", r.Output[0].ToString());
        string text = string.Join("\n", r.Output.Skip(1).Select(o => o.ToString())).Replace("\r\n", "\n");

        Assert.Contains(@"ConvertFrom-ServiceKey .\cpi-cert-key.json | New-PfxFromPem -OutFile .\client.pfx -Password $pw", text);
        Assert.Contains("cf service-key cpi cert-key | ConvertFrom-ServiceKey", text);
        Assert.Contains(@"Get-ChildItem .\keys\*.json | ConvertFrom-ServiceKey | New-PfxFromPem -Destination .\pfx -Password $pw", text);

        // Every ```powershell block of the markdown reaches Get-Help unchanged.
        string md = File.ReadAllText(Path.Combine(Repo.Root, "docs", "en-US", "ConvertFrom-ServiceKey.md")).Replace("\r\n", "\n");
        var blocks = Regex.Matches(md, "```powershell\n(.*?)\n```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.True(blocks.Count >= 5, $"expected the doc's examples, found {blocks.Count}");
        foreach (string code in blocks)
        {
            Assert.Contains(code, text);
        }

        Assert.Contains("Example 3: Read the output of the Cloud Foundry CLI directly", text);
    }

    [Fact]
    public void SyntaxAndParametersComeFromTheDoc()
    {
        using var ps = new PsEngine();
        PsResult r = ps.Run("""
            $h = Get-Help New-PfxFromPem -Full
            @($h.syntax.syntaxItem).Count
            ($h.parameters.parameter | Where-Object name -eq 'OutFile').position
            ($h.parameters.parameter | Where-Object name -eq 'InputObject').pipelineInput
            ($h.parameters.parameter | Where-Object name -eq 'Encryption').defaultValue
            $h.inputTypes.inputType.type.name
            $h.returnValues.returnValue.type.name
            (@($h.alertSet.alert) | ForEach-Object Text) -join ' '
            """);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var o = r.Output.Select(x => x?.ToString() ?? string.Empty).ToList();
        Assert.Equal("2", o[0]);
        Assert.Equal("0", o[1]);
        Assert.Equal("True (ByValue)", o[2]);
        Assert.Equal("TripleDesSha1", o[3]);
        Assert.Equal("CertIntegration.CertificateBundle", o[4]);
        Assert.Equal("System.IO.FileInfo", o[5]);
        Assert.Contains("PasswordEmpty", o[6]);
    }

    [Fact]
    public void HelpIsReadFromTheModuleBaseEnUsFolder()
    {
        using var ps = new PsEngine();
        PsResult r = ps.Run("$null = Get-Help ConvertFrom-ServiceKey; (Get-Command ConvertFrom-ServiceKey).HelpFile");
        Assert.Empty(r.Errors);
        Assert.Equal(Path.GetFullPath(HelpFile), Path.GetFullPath(Assert.Single(r.Output).ToString()));
    }

    [Fact]
    public void AboutTopicIsFound()
    {
        using var ps = new PsEngine();
        PsResult r = ps.Run("$a = Get-Help about_CertIntegration; $a.Synopsis; \"$a\"");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        Assert.Equal("Client-certificate (mTLS) chores of SAP Cloud Integration as pipelines.", r.Output[0].ToString());
        string text = r.Output[1].ToString();
        Assert.StartsWith("TOPIC", text);
        Assert.Contains("about_CertIntegration", text);
        Assert.Contains("TripleDesSha1", text);
        Assert.Contains("ServiceKeyIsClientSecret", text);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(Repo.ModuleManifest)!, "en-US", "about_CertIntegration.help.txt")));
    }
}

/// <summary>A copy of the built module folder in a temporary folder, for tests that change its layout.</summary>
internal sealed class ModuleCopy : IDisposable
{
    private readonly TempDir _tmp;

    private ModuleCopy(TempDir tmp, string moduleBase)
    {
        _tmp = tmp;
        Base = moduleBase;
    }

    public string Base { get; }

    public string Manifest => Path.Combine(Base, "CertIntegration.psd1");

    public static ModuleCopy Create()
    {
        var tmp = new TempDir();
        string source = Path.GetDirectoryName(Repo.ModuleManifest)!;
        string target = Path.Combine(tmp.Path, "CertIntegration");
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            string dest = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }

        return new ModuleCopy(tmp, target);
    }

    public void Dispose() => _tmp.Dispose();
}
