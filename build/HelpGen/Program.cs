using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace HelpGen;

/// <summary>
/// dotnet HelpGen.dll --docs docs/en-US --assembly bin/net8.0/CertIntegration.dll --out out/CertIntegration/en-US
/// Exit codes: 0 help written, 1 a doc is malformed or does not match the cmdlet (nothing is written), 2 bad usage.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string? docs = null, assembly = null, output = null;
        for (int i = 0; i < args.Length; i++)
        {
            string? next = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--docs" when next is not null: docs = next; i++; break;
                case "--assembly" when next is not null: assembly = next; i++; break;
                case "--out" when next is not null: output = next; i++; break;
                default:
                    return Usage($"unexpected argument '{args[i]}'");
            }
        }

        if (docs is null || assembly is null || output is null)
        {
            return Usage("--docs, --assembly and --out are all required");
        }

        if (!Directory.Exists(docs))
        {
            return Usage($"the docs folder '{docs}' does not exist");
        }

        if (!File.Exists(assembly))
        {
            return Usage($"the assembly '{assembly}' does not exist (build the module first)");
        }

        Result r = Generate(docs, assembly, output);
        foreach (Diagnostic d in r.Diagnostics)
        {
            (d.IsWarning ? Console.Out : Console.Error).WriteLine(d);
        }

        int errors = r.Diagnostics.Count(d => !d.IsWarning);
        if (errors > 0)
        {
            Console.Error.WriteLine($"HelpGen: error HELPGEN: {errors} problem(s) in {docs}; no help was written. Fix the docs (platyPS markdown schema 2.0.0, see each message).");
            return 1;
        }

        Console.WriteLine($"HelpGen: {r.Commands} command(s) -> {r.HelpFile}; {r.AboutTopics} about topic(s).");
        return 0;
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"HelpGen: error HELPGEN: {problem}.");
        Console.Error.WriteLine("usage: dotnet HelpGen.dll --docs <docs/en-US> --assembly <bin/net8.0/Module.dll> --out <out/Module/en-US>");
        return 2;
    }

    public sealed record Result(List<Diagnostic> Diagnostics, int Commands, int AboutTopics, string HelpFile);

    /// <summary>Reads and checks every doc; writes the help only when no doc has an error.</summary>
    public static Result Generate(string docsDir, string assemblyPath, string outDir)
    {
        var diagnostics = new List<Diagnostic>();
        Dictionary<string, CmdletInfo> cmdlets;
        try
        {
            cmdlets = CmdletMetadata.Read(assemblyPath);
        }
        catch (Exception ex) when (ex is BadImageFormatException or IOException or InvalidOperationException)
        {
            diagnostics.Add(new Diagnostic(assemblyPath, 0, $"cannot read the cmdlets of the assembly: {ex.Message}"));
            return new Result(diagnostics, 0, 0, string.Empty);
        }

        var commandDocs = new List<CommandDoc>();
        var abouts = new List<(string Name, string Text)>();
        var files = Directory.GetFiles(docsDir, "*.md").OrderBy(f => f, StringComparer.Ordinal).ToList();
        foreach (string file in files)
        {
            string name = Path.GetFileNameWithoutExtension(file);
            var problems = new Problems(file);
            string text = File.ReadAllText(file);
            if (name.StartsWith("about_", StringComparison.OrdinalIgnoreCase))
            {
                string about = AboutText.Convert(text, name, problems);
                abouts.Add((name, about));
            }
            else if (cmdlets.TryGetValue(name, out CmdletInfo? cmdlet))
            {
                CommandDoc doc = CommandDoc.Parse(text, cmdlet.Name, problems);
                if (!problems.HasErrors)
                {
                    Checker.Check(doc, cmdlet, problems);
                }

                commandDocs.Add(doc);
            }
            else
            {
                problems.Warning(0, $"'{name}' is not a cmdlet of {Path.GetFileName(assemblyPath)}; the doc is skipped.");
            }

            diagnostics.AddRange(problems.Items);
        }

        foreach (string missing in cmdlets.Keys.Where(c => !commandDocs.Any(d => string.Equals(d.Name, c, StringComparison.OrdinalIgnoreCase))).OrderBy(c => c, StringComparer.Ordinal))
        {
            diagnostics.Add(new Diagnostic(Path.Combine(docsDir, missing + ".md"), 0, $"{missing} has no help doc; Get-Help will show only its syntax.", IsWarning: true));
        }

        string helpFile = Path.Combine(outDir, Path.GetFileName(assemblyPath) + "-Help.xml");
        if (diagnostics.Any(d => !d.IsWarning))
        {
            return new Result(diagnostics, 0, 0, helpFile);
        }

        Directory.CreateDirectory(outDir);
        XDocument maml = Maml.Build(commandDocs.OrderBy(d => d.Name, StringComparer.Ordinal));
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, NewLineChars = "\n" };
        WriteAtomically(helpFile, path =>
        {
            using XmlWriter w = XmlWriter.Create(path, settings);
            maml.Save(w);
        });

        foreach (var (name, text) in abouts)
        {
            WriteAtomically(Path.Combine(outDir, name + ".help.txt"), path => File.WriteAllText(path, text, new UTF8Encoding(false)));
        }

        return new Result(diagnostics, commandDocs.Count, abouts.Count, helpFile);
    }

    /// <summary>Two builds laying out the module at once must never leave a half-written help file behind.</summary>
    private static void WriteAtomically(string path, Action<string> write)
    {
        string tmp = path + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
        try
        {
            write(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp))
            {
                File.Delete(tmp);
            }
        }
    }
}
