using System.Xml.Linq;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// build/HelpGen as the build runs it (dotnet HelpGen.dll --docs --assembly --out), on copies of docs/en-US:
/// the real docs give help; a malformed or stale doc fails with exit code 1, says where, and writes nothing.
/// </summary>
public class HelpGenTests
{
    private static string Configuration =>
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    private static string HelpGenDll => Path.Combine(Repo.Root, "build", "HelpGen", "bin", Configuration, "HelpGen.dll");

    private static string ModuleDll => Path.Combine(Path.GetDirectoryName(Repo.ModuleManifest)!, "bin", "net8.0", "dependencies", "CertIntegration.dll");

    private static (ToolResult Result, string Out) Run(string docs)
    {
        Assert.True(File.Exists(HelpGenDll), $"HelpGen is not built at {HelpGenDll}; building the module builds it.");
        string outDir = Path.Combine(Path.GetDirectoryName(docs)!, "out");
        ToolResult r = Tools.Run("dotnet", new[] { HelpGenDll, "--docs", docs, "--assembly", ModuleDll, "--out", outDir });
        return (r, outDir);
    }

    private static string CopyDocs(TempDir tmp)
    {
        string docs = Path.Combine(tmp.Path, "docs");
        Directory.CreateDirectory(docs);
        foreach (string f in Directory.GetFiles(Path.Combine(Repo.Root, "docs", "en-US"), "*.md"))
        {
            File.Copy(f, Path.Combine(docs, Path.GetFileName(f)));
        }

        return docs;
    }

    private static void Edit(string docs, string file, Func<string, string> change)
    {
        string path = Path.Combine(docs, file);
        string before = File.ReadAllText(path).Replace("\r\n", "\n");
        string after = change(before);
        Assert.NotEqual(before, after); // the mutation must have hit something
        File.WriteAllText(path, after);
    }

    [Fact]
    public void TheRealDocsGiveMamlForEveryCmdletAndTheAboutTopic()
    {
        using var tmp = new TempDir();
        var (r, outDir) = Run(CopyDocs(tmp));
        Assert.True(r.ExitCode == 0, r.All);
        var xml = XDocument.Load(Path.Combine(outDir, "CertIntegration.dll-Help.xml"));
        XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        XNamespace maml = "http://schemas.microsoft.com/maml/2004/10";
        XNamespace dev = "http://schemas.microsoft.com/maml/dev/2004/10";
        Assert.Equal("helpItems", xml.Root!.Name.LocalName);
        var names = xml.Root.Elements(command + "command").Select(c => c.Element(command + "details")!.Element(command + "name")!.Value).ToList();
        Assert.Contains("ConvertFrom-ServiceKey", names);
        Assert.Contains("New-PfxFromPem", names);
        XElement pfx = xml.Root.Elements(command + "command").Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == "New-PfxFromPem");
        Assert.Equal("New", pfx.Element(command + "details")!.Element(command + "verb")!.Value);
        Assert.Equal(2, pfx.Element(command + "syntax")!.Elements(command + "syntaxItem").Count());
        XElement password = pfx.Element(command + "parameters")!.Elements(command + "parameter").Single(p => p.Element(maml + "name")!.Value == "Password");
        Assert.Equal("true", password.Attribute("required")!.Value);
        Assert.Equal("SecureString", password.Element(dev + "type")!.Element(maml + "name")!.Value);
        Assert.NotEmpty(pfx.Element(command + "examples")!.Elements(command + "example").Select(e => e.Element(dev + "code")!.Value));
        Assert.True(File.Exists(Path.Combine(outDir, "about_CertIntegration.help.txt")));
    }

    public static TheoryData<string, string, string, string> Malformed => new()
    {
        {
            "example without a code block", "ConvertFrom-ServiceKey.md", "has no code block",
            "### Example 1: Read a service key downloaded from the BTP cockpit\n```powershell\nConvertFrom-ServiceKey .\\cpi-cert-key.json\n```"
        },
        { "parameter without a yaml block", "ConvertFrom-ServiceKey.md", "Parameter -LiteralPath has no ```yaml block", "LITERALPATH-YAML" },
        { "parameter not documented", "New-PfxFromPem.md", "Parameter -KeyPassword of New-PfxFromPem is not documented", "KEYPASSWORD-SECTION" },
        { "yaml that contradicts the code", "New-PfxFromPem.md", "-Password: 'Required: False' but the parameter is mandatory", "PASSWORD-OPTIONAL" },
        { "unclosed code block", "New-PfxFromPem.md", "is never closed", "UNCLOSED" },
        { "missing section", "ConvertFrom-ServiceKey.md", "The section '## OUTPUTS' is missing", "## OUTPUTS" },
        { "about topic without a short description", "about_CertIntegration.md", "must be '## Short description'", "## Short description" },
        { "online version that is not the HelpUri", "Export-PrivateKey.md", "differs from the HelpUri of Export-PrivateKey", "ONLINE-VERSION" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void AMalformedDocFailsWithAClearMessageAndWritesNothing(string what, string file, string expected, string target)
    {
        using var tmp = new TempDir();
        string docs = CopyDocs(tmp);
        Edit(docs, file, text => target switch
        {
            "LITERALPATH-YAML" => RemoveBetween(text, "### -LiteralPath", "```yaml", "```\n", keepStart: true),
            "KEYPASSWORD-SECTION" => RemoveBetween(text, "### -KeyPassword", "### -KeyPassword", "### -ChainPath", keepEnd: true),
            "PASSWORD-OPTIONAL" => ReplaceAfter(text, "### -Password", "Required: True", "Required: False"),
            "UNCLOSED" => text.TrimEnd() + "\n\n```powershell\nGet-Item .\n",
            "ONLINE-VERSION" => System.Text.RegularExpressions.Regex.Replace(text, "(?m)^online version:.*$", "online version:"),
            "## OUTPUTS" => text.Replace("## OUTPUTS", "## OUTPUT", StringComparison.Ordinal),
            "## Short description" => text.Replace("## Short description\n", string.Empty, StringComparison.Ordinal),
            _ => text.Replace(target, target.Replace("```powershell\n", string.Empty).Replace("\n```", string.Empty), StringComparison.Ordinal),
        });

        var (r, outDir) = Run(docs);
        Assert.True(r.ExitCode == 1, $"{what}: expected exit code 1, got {r.ExitCode}\n{r.All}");
        Assert.Contains(expected, r.All);
        Assert.Contains(Path.Combine(docs, file), r.All);
        Assert.Contains("no help was written", r.All);
        Assert.False(File.Exists(Path.Combine(outDir, "CertIntegration.dll-Help.xml")), $"{what}: help was written anyway");
    }

    [Fact]
    public void BadUsageExitsWithTwo()
    {
        Assert.True(File.Exists(HelpGenDll), HelpGenDll);
        ToolResult r = Tools.Run("dotnet", new[] { HelpGenDll, "--docs", "/nonexistent/docs" });
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("usage:", r.All);
    }

    private static string RemoveBetween(string text, string anchor, string start, string end, bool keepStart = false, bool keepEnd = false)
    {
        int a = text.IndexOf(anchor, StringComparison.Ordinal);
        Assert.True(a >= 0, anchor);
        int s = text.IndexOf(start, a, StringComparison.Ordinal);
        int e = text.IndexOf(end, s + start.Length, StringComparison.Ordinal);
        Assert.True(s >= 0 && e > s, $"{start}..{end}");
        if (keepStart && start == "```yaml")
        {
            // Drop the whole yaml block, fences included.
            return text[..s] + text[(e + end.Length)..];
        }

        return text[..s] + (keepEnd ? text[e..] : text[(e + end.Length)..]);
    }

    private static string ReplaceAfter(string text, string anchor, string find, string replace)
    {
        int a = text.IndexOf(anchor, StringComparison.Ordinal);
        int i = text.IndexOf(find, a, StringComparison.Ordinal);
        Assert.True(a >= 0 && i > a, anchor);
        return text[..i] + replace + text[(i + find.Length)..];
    }
}
