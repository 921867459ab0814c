using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace HelpGen;

public sealed record SyntaxSet(string Name, bool IsDefault, string Line, List<string> ParameterNames, int SourceLine);

public sealed record Example(string Title, string Code, List<string> Remarks);

/// <summary>One ```yaml block of a parameter: its settings for the parameter sets it names.</summary>
public sealed record ParameterMeta(
    string Type,
    List<string> Sets,
    List<string> Aliases,
    bool Required,
    int? Position,
    string DefaultValue,
    bool ByValue,
    bool ByPropertyName,
    bool Wildcards,
    List<string> AcceptedValues,
    int Line)
{
    public bool AllSets => Sets.Count == 1 && Sets[0] == "(All)";

    public bool Covers(string set) => AllSets || Sets.Contains(set, StringComparer.OrdinalIgnoreCase);

    public string PipelineText => (ByValue, ByPropertyName) switch
    {
        (true, true) => "True (ByValue, ByPropertyName)",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "False",
    };
}

public sealed record ParameterDoc(string Name, List<string> Description, List<ParameterMeta> Meta, int Line);

public sealed record TypeDoc(string Name, List<string> Description);

public sealed record Link(string Text, string Uri);

/// <summary>A cmdlet's help as written in docs/en-US/Verb-Noun.md (platyPS markdown schema 2.0.0).</summary>
public sealed class CommandDoc
{
    public string Name { get; set; } = string.Empty;
    public string OnlineVersion { get; set; } = string.Empty;
    public List<string> Synopsis { get; } = new();
    public List<SyntaxSet> Syntax { get; } = new();
    public List<string> Description { get; } = new();
    public List<Example> Examples { get; } = new();
    public List<ParameterDoc> Parameters { get; } = new();
    public List<TypeDoc> Inputs { get; } = new();
    public List<TypeDoc> Outputs { get; } = new();
    public List<string> Notes { get; } = new();
    public List<Link> Links { get; } = new();

    public string Verb => Name.Split('-')[0];

    public string Noun => Name.Substring(Name.IndexOf('-') + 1);

    private static readonly string[] RequiredSections = { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };

    private static readonly string[] YamlKeys = { "Type", "Parameter Sets", "Aliases", "Required", "Position", "Default value", "Accept pipeline input", "Accept wildcard characters" };

    private static readonly Regex SyntaxParamRx = new(@"(?<=^|[\s\[])-([A-Za-z][A-Za-z0-9_]*)", RegexOptions.CultureInvariant);

    public static CommandDoc Parse(string text, string expectedName, Problems p)
    {
        var doc = new CommandDoc();
        var (front, blocks) = MarkdownReader.Read(text, p);
        if (front.Count == 0)
        {
            p.Error(1, "The front matter (--- external help file / Module Name / schema ---) is missing.");
        }
        else
        {
            Expect(front, "external help file", "CertIntegration.dll-Help.xml", p);
            Expect(front, "Module Name", "CertIntegration", p);
            Expect(front, "schema", "2.0.0", p);
            if (front.TryGetValue("online version", out var ov))
            {
                doc.OnlineVersion = ov.Value;
            }
        }

        // The '# Name' title, then '## SECTION' headings.
        int titleIdx = blocks.FindIndex(b => b.Kind != BlockKind.Blank);
        if (titleIdx < 0 || blocks[titleIdx].Kind != BlockKind.Heading || blocks[titleIdx].Level != 1)
        {
            p.Error(titleIdx < 0 ? 1 : blocks[titleIdx].Line, $"The doc must start with the title '# {expectedName}'.");
            return doc;
        }

        doc.Name = blocks[titleIdx].Text;
        if (!string.Equals(doc.Name, expectedName, StringComparison.Ordinal))
        {
            p.Error(blocks[titleIdx].Line, $"The title '# {doc.Name}' does not match the file name '{expectedName}.md'.");
        }

        var sections = new Dictionary<string, (int Line, List<Block> Body)>(StringComparer.Ordinal);
        string? currentName = null;
        List<Block>? current = null;
        foreach (Block b in blocks.Skip(titleIdx + 1))
        {
            if (b.Kind == BlockKind.Heading && b.Level <= 2)
            {
                if (b.Level == 1)
                {
                    p.Error(b.Line, $"Only one '# ' title is allowed; '{b.Text}' should be a '## ' section.");
                    continue;
                }

                currentName = b.Text.ToUpperInvariant();
                if (sections.ContainsKey(currentName))
                {
                    p.Error(b.Line, $"The section '## {b.Text}' appears twice.");
                }

                current = new List<Block>();
                sections[currentName] = (b.Line, current);
                continue;
            }

            if (current is null)
            {
                if (b.Kind != BlockKind.Blank)
                {
                    p.Error(b.Line, "Text before the first '## ' section.");
                }

                continue;
            }

            current.Add(b);
        }

        foreach (string s in RequiredSections)
        {
            if (!sections.ContainsKey(s))
            {
                p.Error(0, $"The section '## {s}' is missing.");
            }
        }

        foreach (var s in sections)
        {
            if (!RequiredSections.Contains(s.Key))
            {
                p.Error(s.Value.Line, $"Unknown section '## {s.Key}'; the platyPS schema has {string.Join(", ", RequiredSections)}.");
            }
        }

        if (sections.TryGetValue("SYNOPSIS", out var syn))
        {
            doc.Synopsis.AddRange(MarkdownReader.Paragraphs(syn.Body));
            if (doc.Synopsis.Count == 0 || IsPlaceholder(doc.Synopsis[0]))
            {
                p.Error(syn.Line, "The SYNOPSIS is empty.");
            }
        }

        if (sections.TryGetValue("SYNTAX", out var sx))
        {
            ParseSyntax(doc, sx.Line, sx.Body, p);
        }

        if (sections.TryGetValue("DESCRIPTION", out var desc))
        {
            doc.Description.AddRange(MarkdownReader.Paragraphs(desc.Body));
            if (doc.Description.Count == 0 || IsPlaceholder(doc.Description[0]))
            {
                p.Error(desc.Line, "The DESCRIPTION is empty.");
            }
        }

        if (sections.TryGetValue("EXAMPLES", out var ex))
        {
            ParseExamples(doc, ex.Line, ex.Body, p);
        }

        if (sections.TryGetValue("PARAMETERS", out var pars))
        {
            ParseParameters(doc, pars.Body, p);
        }

        if (sections.TryGetValue("INPUTS", out var inputs))
        {
            doc.Inputs.AddRange(ParseTypes(inputs.Line, inputs.Body, "INPUTS", p));
        }

        if (sections.TryGetValue("OUTPUTS", out var outputs))
        {
            doc.Outputs.AddRange(ParseTypes(outputs.Line, outputs.Body, "OUTPUTS", p));
        }

        if (sections.TryGetValue("NOTES", out var notes))
        {
            doc.Notes.AddRange(MarkdownReader.Paragraphs(notes.Body).Where(n => !IsPlaceholder(n)));
        }

        if (sections.TryGetValue("RELATED LINKS", out var links))
        {
            ParseLinks(doc, links.Body, p);
        }

        return doc;
    }

    private static void Expect(Dictionary<string, (string Value, int Line)> front, string key, string value, Problems p)
    {
        if (!front.TryGetValue(key, out var v))
        {
            p.Error(1, $"The front matter has no '{key}: {value}'.");
        }
        else if (!string.Equals(v.Value, value, StringComparison.OrdinalIgnoreCase))
        {
            p.Error(v.Line, $"The front matter says '{key}: {v.Value}'; it must be '{value}'.");
        }
    }

    private static bool IsPlaceholder(string s) => s.Contains("{{", StringComparison.Ordinal) && s.Contains("}}", StringComparison.Ordinal);

    /// <summary>Splits a section at its '### ' headings; text before the first one is returned as the head.</summary>
    private static (List<Block> Head, List<(Block Heading, List<Block> Body)> Subs) SplitH3(List<Block> body, string section, Problems p)
    {
        var head = new List<Block>();
        var subs = new List<(Block, List<Block>)>();
        List<Block> cur = head;
        foreach (Block b in body)
        {
            if (b.Kind == BlockKind.Heading && b.Level == 3)
            {
                cur = new List<Block>();
                subs.Add((b, cur));
            }
            else if (b.Kind == BlockKind.Heading && b.Level > 3)
            {
                p.Error(b.Line, $"Heading level {b.Level} is not used in the {section} section; use '### '.");
            }
            else
            {
                cur.Add(b);
            }
        }

        return (head, subs);
    }

    private static void ParseSyntax(CommandDoc doc, int line, List<Block> body, Problems p)
    {
        var (head, subs) = SplitH3(body, "SYNTAX", p);
        var items = new List<(string Name, bool IsDefault, List<Block> Body, int Line)>();
        if (head.Any(b => b.Kind == BlockKind.Fence))
        {
            items.Add(("__AllParameterSets", true, head, line));
        }

        foreach (var (h, b) in subs)
        {
            string name = h.Text;
            bool isDefault = false;
            if (name.EndsWith("(Default)", StringComparison.OrdinalIgnoreCase))
            {
                isDefault = true;
                name = name.Substring(0, name.Length - "(Default)".Length).Trim();
            }

            items.Add((name, isDefault, b, h.Line));
        }

        if (items.Count == 0)
        {
            p.Error(line, "The SYNTAX section has no code block.");
        }

        foreach (var it in items)
        {
            var fences = it.Body.Where(b => b.Kind == BlockKind.Fence).ToList();
            if (fences.Count != 1)
            {
                p.Error(it.Line, $"Parameter set '{it.Name}' needs exactly one code block with its syntax line (found {fences.Count}).");
                continue;
            }

            string syntaxLine = string.Join(" ", fences[0].Text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
            if (!syntaxLine.StartsWith(doc.Name + " ", StringComparison.OrdinalIgnoreCase) && !string.Equals(syntaxLine, doc.Name, StringComparison.OrdinalIgnoreCase))
            {
                p.Error(fences[0].Line, $"The syntax of '{it.Name}' must start with the command name '{doc.Name}'.");
                continue;
            }

            var names = SyntaxParamRx.Matches(syntaxLine.Substring(doc.Name.Length)).Select(m => m.Groups[1].Value).ToList();
            doc.Syntax.Add(new SyntaxSet(it.Name, it.IsDefault, syntaxLine, names, fences[0].Line));
        }
    }

    private static void ParseExamples(CommandDoc doc, int line, List<Block> body, Problems p)
    {
        var (head, subs) = SplitH3(body, "EXAMPLES", p);
        if (head.Any(b => b.Kind != BlockKind.Blank))
        {
            p.Error(head.First(b => b.Kind != BlockKind.Blank).Line, "Text in EXAMPLES before the first '### Example 1: ...' heading.");
        }

        if (subs.Count == 0)
        {
            p.Error(line, "EXAMPLES has no '### Example 1: title' with a code block.");
        }

        foreach (var (h, b) in subs)
        {
            if (!h.Text.StartsWith("Example", StringComparison.OrdinalIgnoreCase))
            {
                p.Error(h.Line, $"Example heading '### {h.Text}' should read '### Example N: title'.");
            }

            int firstFence = b.FindIndex(x => x.Kind == BlockKind.Fence);
            if (firstFence < 0)
            {
                p.Error(h.Line, $"'{h.Text}' has no code block (```powershell ... ```).");
                continue;
            }

            if (b.Take(firstFence).Any(x => x.Kind != BlockKind.Blank))
            {
                p.Error(b.Take(firstFence).First(x => x.Kind != BlockKind.Blank).Line, $"'{h.Text}': put the code block first, then the explanation.");
            }

            Block code = b[firstFence];
            if (code.Text.Trim().Length == 0)
            {
                p.Error(code.Line, $"The code block of '{h.Text}' is empty.");
            }

            var remarks = MarkdownReader.Paragraphs(b.Skip(firstFence + 1));
            if (remarks.Count == 0)
            {
                p.Error(h.Line, $"'{h.Text}' has no explanation after its code block.");
            }

            doc.Examples.Add(new Example(h.Text, code.Text, remarks));
        }
    }

    private static void ParseParameters(CommandDoc doc, List<Block> body, Problems p)
    {
        var (head, subs) = SplitH3(body, "PARAMETERS", p);
        if (head.Any(b => b.Kind != BlockKind.Blank))
        {
            p.Error(head.First(b => b.Kind != BlockKind.Blank).Line, "Text in PARAMETERS before the first '### -Name' heading.");
        }

        foreach (var (h, b) in subs)
        {
            if (string.Equals(h.Text, "CommonParameters", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!h.Text.StartsWith("-", StringComparison.Ordinal) || h.Text.Length < 2 || h.Text.Contains(' '))
            {
                p.Error(h.Line, $"Parameter heading '### {h.Text}' should read '### -Name'.");
                continue;
            }

            string name = h.Text.Substring(1);
            if (doc.Parameters.Any(x => string.Equals(x.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                p.Error(h.Line, $"Parameter -{name} is documented twice.");
                continue;
            }

            var yaml = b.Where(x => x.Kind == BlockKind.Fence).ToList();
            var descBlocks = b.TakeWhile(x => x.Kind != BlockKind.Fence).ToList();
            var description = MarkdownReader.Paragraphs(descBlocks);
            if (description.Count == 0 || IsPlaceholder(description[0]))
            {
                p.Error(h.Line, $"Parameter -{name} has no description.");
            }

            if (yaml.Count == 0)
            {
                p.Error(h.Line, $"Parameter -{name} has no ```yaml block (Type, Parameter Sets, Aliases, Required, Position, Default value, Accept pipeline input, Accept wildcard characters).");
                continue;
            }

            var metas = new List<ParameterMeta>();
            foreach (Block y in yaml)
            {
                if (!string.Equals(y.Info, "yaml", StringComparison.OrdinalIgnoreCase))
                {
                    p.Error(y.Line, $"Parameter -{name}: the code block after the description must be ```yaml (found '```{y.Info}').");
                    continue;
                }

                if (ParseYaml(name, y, p) is { } m)
                {
                    metas.Add(m);
                }
            }

            if (b.SkipWhile(x => x.Kind != BlockKind.Fence).Any(x => x.Kind == BlockKind.Text))
            {
                p.Error(b.SkipWhile(x => x.Kind != BlockKind.Fence).First(x => x.Kind == BlockKind.Text).Line, $"Parameter -{name}: text after the yaml block; put the whole description before it.");
            }

            doc.Parameters.Add(new ParameterDoc(name, description, metas, h.Line));
        }
    }

    private static ParameterMeta? ParseYaml(string name, Block y, Problems p)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string[] lines = y.Text.Split('\n');
        bool ok = true;
        for (int i = 0; i < lines.Length; i++)
        {
            string l = lines[i];
            if (l.Trim().Length == 0)
            {
                continue;
            }

            int colon = l.IndexOf(':');
            string key = colon > 0 ? l.Substring(0, colon).Trim() : string.Empty;
            if (colon <= 0 || !(YamlKeys.Contains(key, StringComparer.OrdinalIgnoreCase) || string.Equals(key, "Accepted values", StringComparison.OrdinalIgnoreCase)))
            {
                p.Error(y.Line + 1 + i, $"Parameter -{name}: '{l.Trim()}' is not one of the yaml keys {string.Join(", ", YamlKeys)}, Accepted values.");
                ok = false;
                continue;
            }

            values[key] = l.Substring(colon + 1).Trim();
        }

        foreach (string k in YamlKeys)
        {
            if (!values.ContainsKey(k))
            {
                p.Error(y.Line, $"Parameter -{name}: the yaml block has no '{k}:'.");
                ok = false;
            }
        }

        if (!ok)
        {
            return null;
        }

        bool Bool(string key)
        {
            string v = values[key];
            if (string.Equals(v, "True", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (!string.Equals(v, "False", StringComparison.OrdinalIgnoreCase))
            {
                p.Error(y.Line, $"Parameter -{name}: '{key}: {v}' must be True or False.");
            }

            return false;
        }

        int? position = null;
        string pos = values["Position"];
        if (!string.Equals(pos, "Named", StringComparison.OrdinalIgnoreCase))
        {
            if (int.TryParse(pos, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            {
                position = n;
            }
            else
            {
                p.Error(y.Line, $"Parameter -{name}: 'Position: {pos}' must be Named or a number.");
            }
        }

        string pipe = values["Accept pipeline input"];
        bool byValue = false, byProp = false;
        if (!string.Equals(pipe, "False", StringComparison.OrdinalIgnoreCase))
        {
            Match m = Regex.Match(pipe, @"^True\s*\(\s*(ByValue|ByPropertyName)(\s*,\s*(ByValue|ByPropertyName))?\s*\)$", RegexOptions.IgnoreCase);
            if (!m.Success)
            {
                p.Error(y.Line, $"Parameter -{name}: 'Accept pipeline input: {pipe}' must be False, True (ByValue), True (ByPropertyName) or True (ByValue, ByPropertyName).");
            }

            byValue = pipe.Contains("ByValue", StringComparison.OrdinalIgnoreCase);
            byProp = pipe.Contains("ByPropertyName", StringComparison.OrdinalIgnoreCase);
        }

        List<string> List(string v) => string.Equals(v, "None", StringComparison.OrdinalIgnoreCase) || v.Length == 0
            ? new List<string>()
            : v.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToList();

        var sets = List(values["Parameter Sets"]);
        if (sets.Count == 0)
        {
            p.Error(y.Line, $"Parameter -{name}: 'Parameter Sets:' is empty; write (All) or the set names.");
        }

        if (values["Type"].Length == 0)
        {
            p.Error(y.Line, $"Parameter -{name}: 'Type:' is empty.");
        }

        return new ParameterMeta(
            values["Type"],
            sets,
            List(values["Aliases"]),
            Bool("Required"),
            position,
            values["Default value"],
            byValue,
            byProp,
            Bool("Accept wildcard characters"),
            values.TryGetValue("Accepted values", out string? av) ? List(av) : new List<string>(),
            y.Line);
    }

    private static List<TypeDoc> ParseTypes(int line, List<Block> body, string section, Problems p)
    {
        var (head, subs) = SplitH3(body, section, p);
        if (head.Any(b => b.Kind != BlockKind.Blank))
        {
            p.Error(head.First(b => b.Kind != BlockKind.Blank).Line, $"Text in {section} before the first '### TypeName' heading.");
        }

        if (subs.Count == 0)
        {
            p.Error(line, $"{section} names no type ('### System.String', or '### None').");
        }

        return subs.Select(s => new TypeDoc(s.Heading.Text, MarkdownReader.Paragraphs(s.Body))).ToList();
    }

    private static readonly Regex LinkLineRx = new(@"^(?:[-*]\s+)?\[([^\]]+)\]\(([^)]*)\)\s*$", RegexOptions.CultureInvariant);

    private static void ParseLinks(CommandDoc doc, List<Block> body, Problems p)
    {
        foreach (Block b in body)
        {
            if (b.Kind == BlockKind.Blank)
            {
                continue;
            }

            Match m = b.Kind == BlockKind.Text ? LinkLineRx.Match(b.Text.Trim()) : Match.Empty;
            if (!m.Success)
            {
                p.Error(b.Line, "RELATED LINKS takes one markdown link per line: [Text](https://...) or [Other-Cmdlet]().");
                continue;
            }

            doc.Links.Add(new Link(m.Groups[1].Value, m.Groups[2].Value));
        }
    }
}
