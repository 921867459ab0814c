using System;
using System.Collections.Generic;
using System.Linq;

namespace HelpGen;

/// <summary>
/// Holds each doc to the cmdlet it describes, so that help cannot drift from the code: every parameter documented,
/// and what the yaml says (type, sets, required, position, pipeline, wildcards, aliases) is what the attributes say.
/// </summary>
public static class Checker
{
    private static readonly Dictionary<string, string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["string"] = "String", ["int"] = "Int32", ["long"] = "Int64", ["bool"] = "Boolean", ["object"] = "Object",
        ["byte"] = "Byte", ["double"] = "Double", ["switch"] = "SwitchParameter", ["uint"] = "UInt32", ["short"] = "Int16",
    };

    /// <summary>WhatIf and Confirm come with SupportsShouldProcess; platyPS documents them like the cmdlet's own.</summary>
    public static List<CmdletParameter> Expected(CmdletInfo cmdlet)
    {
        var list = new List<CmdletParameter>(cmdlet.Parameters);
        if (cmdlet.SupportsShouldProcess)
        {
            list.Add(new CmdletParameter("WhatIf", "SwitchParameter", new List<string> { "wi" }, false, new List<ParameterSetUse> { new(CmdletMetadata.AllSets, false, null, false, false) }));
            list.Add(new CmdletParameter("Confirm", "SwitchParameter", new List<string> { "cf" }, false, new List<ParameterSetUse> { new(CmdletMetadata.AllSets, false, null, false, false) }));
        }

        return list;
    }

    public static string NormalizeType(string t)
    {
        t = t.Trim();
        string suffix = string.Empty;
        while (t.EndsWith("[]", StringComparison.Ordinal))
        {
            suffix += "[]";
            t = t.Substring(0, t.Length - 2);
        }

        if (t.EndsWith("?", StringComparison.Ordinal))
        {
            t = t.Substring(0, t.Length - 1);
        }

        int dot = t.LastIndexOf('.');
        if (dot >= 0)
        {
            t = t.Substring(dot + 1);
        }

        return (Keywords.TryGetValue(t, out string? k) ? k : t) + suffix;
    }

    public static void Check(CommandDoc doc, CmdletInfo cmdlet, Problems p)
    {
        var expected = Expected(cmdlet);
        var codeSets = expected.SelectMany(x => x.Sets).Select(s => s.Set).Where(s => s != CmdletMetadata.AllSets).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        foreach (CmdletParameter cp in expected)
        {
            if (!doc.Parameters.Any(d => string.Equals(d.Name, cp.Name, StringComparison.OrdinalIgnoreCase)))
            {
                p.Error(0, $"Parameter -{cp.Name} of {cmdlet.Name} is not documented: add '### -{cp.Name}' with a description and a yaml block to PARAMETERS.");
            }
        }

        foreach (ParameterDoc d in doc.Parameters)
        {
            CmdletParameter? cp = expected.FirstOrDefault(x => string.Equals(x.Name, d.Name, StringComparison.OrdinalIgnoreCase));
            if (cp is null)
            {
                p.Error(d.Line, $"{cmdlet.Name} has no parameter -{d.Name}.");
                continue;
            }

            if (!string.Equals(cp.Name, d.Name, StringComparison.Ordinal))
            {
                p.Error(d.Line, $"Write -{cp.Name} as the code spells it (found -{d.Name}).");
            }

            CheckMeta(d, cp, codeSets, p);
        }

        CheckSyntax(doc, cmdlet, expected, codeSets, p);

        // Get-Help -Online takes the help's online link before the cmdlet's HelpUri: the two name one address.
        if (!string.Equals(doc.OnlineVersion.Trim(), cmdlet.HelpUri ?? string.Empty, StringComparison.Ordinal))
        {
            p.Error(0, $"'online version: {doc.OnlineVersion.Trim()}' differs from the HelpUri of {cmdlet.Name} ('{cmdlet.HelpUri}'): give both the same address.");
        }
    }

    private static void CheckMeta(ParameterDoc d, CmdletParameter cp, List<string> codeSets, Problems p)
    {
        // The sets this parameter is in, with (All) standing for every set of the cmdlet.
        var covered = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (ParameterMeta m in d.Meta)
        {
            if (!string.Equals(NormalizeType(m.Type), NormalizeType(cp.Type), StringComparison.OrdinalIgnoreCase))
            {
                p.Error(m.Line, $"-{d.Name}: 'Type: {m.Type}' but the parameter is {cp.Type}.");
            }

            var docAliases = m.Aliases.OrderBy(a => a, StringComparer.OrdinalIgnoreCase);
            if (!docAliases.SequenceEqual(cp.Aliases.OrderBy(a => a, StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase))
            {
                p.Error(m.Line, $"-{d.Name}: 'Aliases: {(m.Aliases.Count == 0 ? "None" : string.Join(", ", m.Aliases))}' but the code has {(cp.Aliases.Count == 0 ? "None" : string.Join(", ", cp.Aliases))}.");
            }

            if (m.Wildcards != cp.Wildcards)
            {
                p.Error(m.Line, $"-{d.Name}: 'Accept wildcard characters: {m.Wildcards}' but the parameter {(cp.Wildcards ? "has" : "has no")} [SupportsWildcards].");
            }

            foreach (string set in m.Sets)
            {
                if (set == "(All)")
                {
                    if (m.Sets.Count > 1)
                    {
                        p.Error(m.Line, $"-{d.Name}: '(All)' cannot be listed with other parameter sets.");
                    }

                    continue;
                }

                if (!codeSets.Contains(set, StringComparer.OrdinalIgnoreCase))
                {
                    p.Error(m.Line, $"-{d.Name}: parameter set '{set}' does not exist; the cmdlet has {(codeSets.Count == 0 ? "only (All)" : string.Join(", ", codeSets))}.");
                }
            }

            IEnumerable<string> metaSets = m.AllSets ? (codeSets.Count == 0 ? new List<string> { CmdletMetadata.AllSets } : codeSets) : m.Sets;
            foreach (string set in metaSets)
            {
                if (!covered.Add(set))
                {
                    p.Error(m.Line, $"-{d.Name}: parameter set '{set}' is described by two yaml blocks.");
                }

                ParameterSetUse? use = UseIn(cp, set);
                if (use is null)
                {
                    p.Error(m.Line, $"-{d.Name} is not in parameter set '{set}'.");
                    continue;
                }

                if (use.Mandatory != m.Required)
                {
                    p.Error(m.Line, $"-{d.Name}: 'Required: {m.Required}' but the parameter is {(use.Mandatory ? "mandatory" : "optional")} in set '{set}'.");
                }

                if (use.Position != m.Position)
                {
                    p.Error(m.Line, $"-{d.Name}: 'Position: {(m.Position?.ToString() ?? "Named")}' but the code says {(use.Position?.ToString() ?? "Named")} in set '{set}'.");
                }

                if (use.ByValue != m.ByValue || use.ByPropertyName != m.ByPropertyName)
                {
                    var code = new ParameterMeta(string.Empty, new(), new(), false, null, string.Empty, use.ByValue, use.ByPropertyName, false, new(), 0);
                    p.Error(m.Line, $"-{d.Name}: 'Accept pipeline input: {m.PipelineText}' but the code says {code.PipelineText} in set '{set}'.");
                }
            }
        }

        IEnumerable<string> inSets = cp.Sets.Any(s => s.Set == CmdletMetadata.AllSets)
            ? (codeSets.Count == 0 ? new List<string> { CmdletMetadata.AllSets } : codeSets)
            : cp.Sets.Select(s => s.Set);
        foreach (string set in inSets)
        {
            if (d.Meta.Count > 0 && !covered.Contains(set))
            {
                p.Error(d.Line, $"-{d.Name} is in parameter set '{set}', which no yaml block names (use 'Parameter Sets: (All)' or list it).");
            }
        }
    }

    private static ParameterSetUse? UseIn(CmdletParameter cp, string set) =>
        cp.Sets.FirstOrDefault(s => string.Equals(s.Set, set, StringComparison.OrdinalIgnoreCase))
        ?? cp.Sets.FirstOrDefault(s => s.Set == CmdletMetadata.AllSets);

    private static void CheckSyntax(CommandDoc doc, CmdletInfo cmdlet, List<CmdletParameter> expected, List<string> codeSets, Problems p)
    {
        if (codeSets.Count == 0)
        {
            // One parameter set: the syntax block may be named or not, as long as there is exactly one.
            if (doc.Syntax.Count != 1)
            {
                p.Error(doc.Syntax.Count > 1 ? doc.Syntax[1].SourceLine : 0, $"{cmdlet.Name} has one parameter set, so SYNTAX takes exactly one code block (found {doc.Syntax.Count}).");
            }

            foreach (SyntaxSet s in doc.Syntax)
            {
                CheckSyntaxParameters(s, expected, p, _ => true);
            }

            return;
        }

        // A default set that no parameter names on its own (DefaultParameterSetName = "Default") is a set too.
        var wanted = new List<string>(codeSets);
        if (cmdlet.DefaultSet is { Length: > 0 } ds && !wanted.Contains(ds, StringComparer.OrdinalIgnoreCase))
        {
            wanted.Add(ds);
        }

        foreach (string set in wanted)
        {
            if (!doc.Syntax.Any(s => string.Equals(s.Name, set, StringComparison.OrdinalIgnoreCase)))
            {
                p.Error(0, set == CmdletMetadata.AllSets
                    ? "SYNTAX needs one code block with the syntax line."
                    : $"SYNTAX has no '### {set}' for parameter set '{set}'.");
            }
        }

        foreach (SyntaxSet s in doc.Syntax)
        {
            if (!wanted.Contains(s.Name, StringComparer.OrdinalIgnoreCase))
            {
                p.Error(s.SourceLine, $"SYNTAX names parameter set '{s.Name}', which {cmdlet.Name} does not have ({string.Join(", ", wanted)}).");
                continue;
            }

            bool isDefault = string.Equals(s.Name, cmdlet.DefaultSet, StringComparison.OrdinalIgnoreCase);
            if (s.IsDefault != isDefault && codeSets.Count > 1)
            {
                p.Error(s.SourceLine, isDefault
                    ? $"'### {s.Name}' is the default parameter set: write '### {s.Name} (Default)'."
                    : $"'### {s.Name}' is not the default parameter set ({cmdlet.DefaultSet}); drop '(Default)'.");
            }

            CheckSyntaxParameters(s, expected, p, u => u.Set == CmdletMetadata.AllSets || string.Equals(u.Set, s.Name, StringComparison.OrdinalIgnoreCase));
        }
    }

    private static void CheckSyntaxParameters(SyntaxSet s, List<CmdletParameter> expected, Problems p, Func<ParameterSetUse, bool> inThisSet)
    {
        var inSet = expected.Where(cp => cp.Sets.Any(inThisSet)).Select(cp => cp.Name).ToList();
        foreach (string missing in inSet.Where(n => !s.ParameterNames.Contains(n, StringComparer.OrdinalIgnoreCase)))
        {
            p.Error(s.SourceLine, $"The syntax of '{s.Name}' leaves out -{missing}.");
        }

        foreach (string extra in s.ParameterNames.Where(n => !inSet.Contains(n, StringComparer.OrdinalIgnoreCase)))
        {
            p.Error(s.SourceLine, $"The syntax of '{s.Name}' names -{extra}, which is not in that parameter set.");
        }
    }
}
