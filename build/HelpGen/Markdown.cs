using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace HelpGen;

/// <summary>A problem in a doc, with the line it is on (1-based; 0 when it concerns the whole file).</summary>
public sealed record Diagnostic(string File, int Line, string Message, bool IsWarning = false)
{
    public override string ToString() =>
        $"{File}{(Line > 0 ? $"({Line})" : string.Empty)}: {(IsWarning ? "warning" : "error")} HELPGEN: {Message}";
}

/// <summary>Collects the problems found in one file; parsing goes on after a problem so that all are reported at once.</summary>
public sealed class Problems
{
    private readonly List<Diagnostic> _items = new();

    public Problems(string file) => File = file;

    public string File { get; }

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Any(d => !d.IsWarning);

    public void Error(int line, string message) => _items.Add(new Diagnostic(File, line, message));

    public void Warning(int line, string message) => _items.Add(new Diagnostic(File, line, message, IsWarning: true));
}

public enum BlockKind { Heading, Fence, Text, Blank }

/// <summary>One markdown block: a heading, a fenced code block, a text line or a blank line.</summary>
public sealed record Block(BlockKind Kind, int Line, string Text, int Level = 0, string Info = "");

/// <summary>
/// The little markdown the platyPS schema uses, split into blocks. Fences are kept whole (their text is not
/// interpreted), so a '#' inside a code example is never taken for a heading.
/// </summary>
public static class MarkdownReader
{
    private static readonly Regex HeadingRx = new(@"^(#{1,6})\s+(.*?)\s*#*\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex FenceRx = new(@"^(\s{0,3})(`{3,}|~{3,})\s*([^`\s]*)", RegexOptions.CultureInvariant);

    /// <summary>Splits off the YAML front matter (between the first two '---' lines) when there is one.</summary>
    public static (Dictionary<string, (string Value, int Line)> Front, List<Block> Blocks) Read(string text, Problems problems)
    {
        string[] lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var front = new Dictionary<string, (string, int)>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        if (lines.Length > 0 && lines[0].TrimEnd() == "---")
        {
            int end = Array.FindIndex(lines, 1, l => l.TrimEnd() == "---");
            if (end < 0)
            {
                problems.Error(1, "The front matter that starts with '---' is never closed by another '---' line.");
                return (front, new List<Block>());
            }

            for (int k = 1; k < end; k++)
            {
                string l = lines[k];
                if (l.Trim().Length == 0)
                {
                    continue;
                }

                int colon = l.IndexOf(':');
                if (colon <= 0)
                {
                    problems.Error(k + 1, $"Front matter line '{l.Trim()}' is not 'key: value'.");
                    continue;
                }

                front[l.Substring(0, colon).Trim()] = (l.Substring(colon + 1).Trim(), k + 1);
            }

            i = end + 1;
        }

        var blocks = new List<Block>();
        for (; i < lines.Length; i++)
        {
            string line = lines[i];
            Match fence = FenceRx.Match(line);
            if (fence.Success)
            {
                string marker = fence.Groups[2].Value;
                int start = i;
                var body = new StringBuilder();
                bool closed = false;
                for (i++; i < lines.Length; i++)
                {
                    string l = lines[i];
                    string t = l.TrimStart();
                    if (t.StartsWith(marker, StringComparison.Ordinal) && t.Trim().Trim(marker[0]).Length == 0 && t.Trim().Length >= marker.Length)
                    {
                        closed = true;
                        break;
                    }

                    body.Append(l).Append('\n');
                }

                if (!closed)
                {
                    problems.Error(start + 1, $"The code block opened here with {marker} is never closed.");
                }

                blocks.Add(new Block(BlockKind.Fence, start + 1, body.ToString().TrimEnd('\n'), Info: fence.Groups[3].Value));
                continue;
            }

            Match h = HeadingRx.Match(line);
            if (h.Success)
            {
                blocks.Add(new Block(BlockKind.Heading, i + 1, h.Groups[2].Value.Trim(), h.Groups[1].Value.Length));
            }
            else if (line.Trim().Length == 0)
            {
                blocks.Add(new Block(BlockKind.Blank, i + 1, string.Empty));
            }
            else
            {
                blocks.Add(new Block(BlockKind.Text, i + 1, line.TrimEnd()));
            }
        }

        return (front, blocks);
    }

    /// <summary>
    /// Turns text blocks into paragraphs: lines are joined until a blank line; a list item starts a new paragraph;
    /// a fence becomes a paragraph of its own, indented, so that the console shows it as code.
    /// </summary>
    public static List<string> Paragraphs(IEnumerable<Block> blocks)
    {
        var result = new List<string>();
        var current = new StringBuilder();

        void Flush()
        {
            if (current.Length > 0)
            {
                result.Add(Inline(current.ToString()));
                current.Clear();
            }
        }

        foreach (Block b in blocks)
        {
            switch (b.Kind)
            {
                case BlockKind.Blank:
                    Flush();
                    break;
                case BlockKind.Fence:
                    Flush();
                    result.Add(string.Join("\n", b.Text.Split('\n').Select(l => "    " + l)));
                    break;
                case BlockKind.Heading:
                    Flush();
                    result.Add(b.Text.ToUpperInvariant());
                    break;
                default:
                    string t = b.Text.Trim();
                    if (IsListItem(t) || t.StartsWith("|", StringComparison.Ordinal))
                    {
                        Flush();
                    }

                    if (current.Length > 0)
                    {
                        current.Append(' ');
                    }

                    current.Append(t);
                    if (t.StartsWith("|", StringComparison.Ordinal))
                    {
                        Flush();
                    }

                    break;
            }
        }

        Flush();
        return result;
    }

    public static bool IsListItem(string t) =>
        t.StartsWith("- ", StringComparison.Ordinal) || t.StartsWith("* ", StringComparison.Ordinal) || Regex.IsMatch(t, @"^\d+\.\s");

    private static readonly Regex LinkRx = new(@"\[([^\]]+)\]\(([^)]*)\)", RegexOptions.CultureInvariant);

    /// <summary>Plain text for the console: emphasis markers dropped, links as "text (url)".</summary>
    public static string Inline(string s)
    {
        s = LinkRx.Replace(s, m => m.Groups[2].Value.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? $"{m.Groups[1].Value} ({m.Groups[2].Value})" : m.Groups[1].Value);
        s = s.Replace("**", string.Empty);
        return s;
    }
}
