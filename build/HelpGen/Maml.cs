using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;

namespace HelpGen;

/// <summary>Writes command help in the MAML dialect Get-Help reads (the shape platyPS produces).</summary>
public static class Maml
{
    public static readonly XNamespace Msh = "http://msh";
    public static readonly XNamespace M = "http://schemas.microsoft.com/maml/2004/10";
    public static readonly XNamespace C = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    public static readonly XNamespace D = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static XDocument Build(IEnumerable<CommandDoc> docs)
    {
        var root = new XElement(Msh + "helpItems",
            new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", M),
            new XAttribute(XNamespace.Xmlns + "command", C),
            new XAttribute(XNamespace.Xmlns + "dev", D));
        foreach (CommandDoc doc in docs)
        {
            root.Add(Command(doc));
        }

        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    private static XElement Paras(XName name, IEnumerable<string> paragraphs) =>
        new(name, paragraphs.Select(p => new XElement(M + "para", p)));

    private static XElement Command(CommandDoc doc)
    {
        var cmd = new XElement(C + "command",
            new XElement(C + "details",
                new XElement(C + "name", doc.Name),
                new XElement(C + "verb", doc.Verb),
                new XElement(C + "noun", doc.Noun),
                Paras(M + "description", doc.Synopsis)),
            Paras(M + "description", doc.Description),
            new XElement(C + "syntax", doc.Syntax.Select(s => SyntaxItem(doc, s))),
            new XElement(C + "parameters", doc.Parameters.Select(p => Parameter(p, p.Meta.FirstOrDefault(), inSyntax: false))),
            new XElement(C + "inputTypes", doc.Inputs.Select(t => new XElement(C + "inputType", TypeElement(t.Name), Paras(M + "description", t.Description)))),
            new XElement(C + "returnValues", doc.Outputs.Select(t => new XElement(C + "returnValue", TypeElement(t.Name), Paras(M + "description", t.Description)))),
            new XElement(M + "alertSet", new XElement(M + "alert", doc.Notes.Select(n => new XElement(M + "para", n)))),
            new XElement(C + "examples", doc.Examples.Select(ExampleElement)),
            new XElement(M + "relatedLinks", RelatedLinks(doc)));
        return cmd;
    }

    private static IEnumerable<XElement> RelatedLinks(CommandDoc doc)
    {
        if (doc.OnlineVersion.StartsWith("http", StringComparison.OrdinalIgnoreCase))
        {
            yield return NavigationLink("Online Version:", doc.OnlineVersion);
        }

        foreach (Link l in doc.Links)
        {
            yield return NavigationLink(l.Text, l.Uri.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? l.Uri : string.Empty);
        }
    }

    private static XElement NavigationLink(string text, string uri) =>
        new(M + "navigationLink", new XElement(M + "linkText", text), new XElement(M + "uri", uri));

    private static XElement TypeElement(string name) =>
        new(D + "type", new XElement(M + "name", name), new XElement(M + "uri"));

    private static XElement ExampleElement(Example e)
    {
        // Get-Help prints the title as is; the dashes are the look every built-in cmdlet's help has.
        string title = $"-------------------------- {e.Title} --------------------------";
        return new XElement(C + "example",
            new XElement(M + "title", title),
            new XElement(D + "code", e.Code),
            Paras(D + "remarks", e.Remarks));
    }

    private static XElement SyntaxItem(CommandDoc doc, SyntaxSet set)
    {
        var item = new XElement(C + "syntaxItem", new XElement(M + "name", doc.Name));
        foreach (string name in set.ParameterNames)
        {
            ParameterDoc? p = doc.Parameters.FirstOrDefault(x => string.Equals(x.Name, name, StringComparison.OrdinalIgnoreCase));
            if (p is null)
            {
                continue;
            }

            ParameterMeta? meta = p.Meta.FirstOrDefault(m => !m.AllSets && m.Covers(set.Name)) ?? p.Meta.FirstOrDefault(m => m.AllSets) ?? p.Meta.FirstOrDefault();
            item.Add(Parameter(p, meta, inSyntax: true));
        }

        return item;
    }

    private static XElement Parameter(ParameterDoc p, ParameterMeta? meta, bool inSyntax)
    {
        string type = meta?.Type ?? "Object";
        bool isSwitch = Checker.NormalizeType(type) == "SwitchParameter";
        var el = new XElement(C + "parameter",
            new XAttribute("required", Bool(meta?.Required ?? false)),
            new XAttribute("variableLength", Bool(type.EndsWith("[]", StringComparison.Ordinal))),
            new XAttribute("globbing", Bool(meta?.Wildcards ?? false)),
            new XAttribute("pipelineInput", meta?.PipelineText ?? "False"),
            new XAttribute("position", meta?.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "named"),
            new XAttribute("aliases", meta is null || meta.Aliases.Count == 0 ? "none" : string.Join(", ", meta.Aliases)),
            new XElement(M + "name", p.Name),
            Paras(M + "description", p.Description));

        if (meta is not null && meta.AcceptedValues.Count > 0)
        {
            el.Add(new XElement(C + "parameterValueGroup", meta.AcceptedValues.Select(v =>
                new XElement(C + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))));
        }

        // A switch shows as [-Force] in the syntax, so it gets no value placeholder there.
        if (!(isSwitch && inSyntax))
        {
            el.Add(new XElement(C + "parameterValue",
                new XAttribute("required", Bool(!isSwitch)),
                new XAttribute("variableLength", Bool(type.EndsWith("[]", StringComparison.Ordinal))),
                type));
        }

        el.Add(TypeElement(type));
        el.Add(new XElement(D + "defaultValue", meta?.DefaultValue is { Length: > 0 } dv ? dv : "None"));
        return el;
    }

    private static string Bool(bool b) => b ? "true" : "false";
}
