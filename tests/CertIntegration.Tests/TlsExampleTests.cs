using System.Management.Automation.Language;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

public class TlsExampleTests
{
    [Fact]
    public void PesterExampleParses()
    {
        string path = Path.Combine(Repo.Root, "examples", "Mtls.Tests.ps1");
        Parser.ParseFile(path, out _, out ParseError[] errors);
        Assert.Empty(errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}"));
    }

    [Fact]
    public void HelpExamplesOfBothCmdletsParse()
    {
        foreach (string doc in new[] { "Test-MtlsEndpoint.md", "Get-ServerCertificateChain.md" })
        {
            string text = File.ReadAllText(Path.Combine(Repo.Root, "docs", "en-US", doc));
            var blocks = System.Text.RegularExpressions.Regex.Matches(text, "```powershell\\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline);
            Assert.NotEmpty(blocks);
            foreach (System.Text.RegularExpressions.Match m in blocks)
            {
                Parser.ParseInput(m.Groups[1].Value, out _, out ParseError[] errors);
                Assert.True(errors.Length == 0, doc + ": " + m.Groups[1].Value + "\n" + string.Join("\n", errors.Select(e => e.Message)));
            }
        }
    }

    [SkippableFact]
    public void GetHelpShowsTheExamples()
    {
        Skip.IfNot(File.Exists(Path.Combine(Repo.Root, "out", "CertIntegration", "en-US", "CertIntegration.dll-Help.xml")), "the help file is not built (build/HelpGen is not in this tree)");
        using var ps = new PsEngine();
        PsResult r = ps.Run("(Get-Help Test-MtlsEndpoint -Full).examples.example.Count; (Get-Help Get-ServerCertificateChain -Full).examples.example.Count");
        Assert.Empty(r.Errors);
        Assert.True(r.Output.Count == 2 && (int)r.Output[0].BaseObject >= 5 && (int)r.Output[1].BaseObject >= 3, string.Join(",", r.Output));
    }

    [Fact]
    public void TheModulesFormatFileLoadsWithViewsForEveryOutputType()
    {
        string path = Path.Combine(Repo.Root, "out", "CertIntegration", "CertIntegration.Format.ps1xml");

        // FormatTable throws FormatTableLoadException listing every problem of a malformed view.
        var table = new System.Management.Automation.Runspaces.FormatTable(new[] { path });
        Assert.NotNull(table);
        string xml = File.ReadAllText(path);
        int Views(string type) => System.Text.RegularExpressions.Regex.Matches(xml, $"<TypeName>{type}</TypeName>").Count;
        Assert.Equal(2, Views("CertIntegration.MtlsTestResult"));
        Assert.Equal(2, Views("CertIntegration.CertificateBundle"));
        Assert.Equal(1, Views("CertIntegration.ExportedCertificate"));
    }
}
