using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace HelpGen;

/// <summary>
/// Turns docs/en-US/about_*.md into the plain-text layout of about_*.help.txt: TOPIC, SHORT DESCRIPTION (line 5,
/// which Get-Help shows as the synopsis), LONG DESCRIPTION and the other sections, wrapped at 80 columns.
/// </summary>
public static class AboutText
{
    private const int Width = 80;

    public static string Convert(string markdown, string expectedName, Problems p)
    {
        var (_, blocks) = MarkdownReader.Read(markdown, p);
        int titleIdx = blocks.FindIndex(b => b.Kind != BlockKind.Blank);
        if (titleIdx < 0 || blocks[titleIdx].Kind != BlockKind.Heading || blocks[titleIdx].Level != 1)
        {
            p.Error(titleIdx < 0 ? 1 : blocks[titleIdx].Line, $"An about topic starts with the title '# {expectedName}'.");
            return string.Empty;
        }

        string title = blocks[titleIdx].Text;
        if (!string.Equals(title, expectedName, StringComparison.OrdinalIgnoreCase))
        {
            p.Error(blocks[titleIdx].Line, $"The title '# {title}' does not match the file name '{expectedName}.md'.");
        }

        var sections = new List<(string Name, int Line, List<Block> Body)>();
        foreach (Block b in blocks.Skip(titleIdx + 1))
        {
            if (b.Kind == BlockKind.Heading && b.Level <= 2)
            {
                sections.Add((b.Text.ToUpperInvariant(), b.Line, new List<Block>()));
            }
            else if (sections.Count == 0)
            {
                if (b.Kind != BlockKind.Blank)
                {
                    p.Error(b.Line, "Text before the first '## Short description' section.");
                }
            }
            else
            {
                sections[^1].Body.Add(b);
            }
        }

        if (sections.Count == 0 || sections[0].Name != "SHORT DESCRIPTION")
        {
            p.Error(sections.Count == 0 ? blocks[titleIdx].Line : sections[0].Line, "The first section of an about topic must be '## Short description'.");
            return string.Empty;
        }

        var shortText = MarkdownReader.Paragraphs(sections[0].Body);
        if (shortText.Count != 1 || shortText[0].Length > Width - 4)
        {
            p.Error(sections[0].Line, $"The short description must be one paragraph of at most {Width - 4} characters (Get-Help shows it as the synopsis).");
        }

        if (!sections.Any(s => s.Name == "LONG DESCRIPTION"))
        {
            p.Error(0, "The '## Long description' section is missing.");
        }

        var sb = new StringBuilder();
        sb.Append("TOPIC\n    ").Append(expectedName).Append("\n\n");
        foreach (var s in sections)
        {
            sb.Append(s.Name).Append('\n');
            if (!s.Body.Any(b => b.Kind != BlockKind.Blank))
            {
                p.Error(s.Line, $"The section '{s.Name}' is empty.");
            }

            RenderBody(s.Body, sb);
            sb.Append('\n');
        }

        return sb.ToString().TrimEnd('\n') + "\n";
    }

    private static void RenderBody(List<Block> body, StringBuilder sb)
    {
        var para = new List<string>();
        bool first = true;
        bool lastWasItem = false;
        bool blankSinceItem = false;

        void Separate()
        {
            if (!first)
            {
                sb.Append('\n');
            }

            first = false;
        }

        void Flush()
        {
            if (para.Count == 0)
            {
                return;
            }

            string text = MarkdownReader.Inline(string.Join(" ", para));
            para.Clear();
            bool isItem = MarkdownReader.IsListItem(text);

            // Items of one list stay together; a blank line in the markdown still separates them.
            if (!(isItem && lastWasItem && !blankSinceItem))
            {
                Separate();
            }

            lastWasItem = isItem;
            blankSinceItem = false;
            if (isItem)
            {
                int marker = text.IndexOf(' ') + 1;
                Wrap(text.Substring(marker), 4, 4 + marker, text.Substring(0, marker), sb);
            }
            else
            {
                Wrap(text, 4, 4, string.Empty, sb);
            }
        }

        bool lastWasTable = false;
        foreach (Block b in body)
        {
            if (!(b.Kind == BlockKind.Text && b.Text.TrimStart().StartsWith("|", StringComparison.Ordinal)))
            {
                lastWasTable = false;
            }

            switch (b.Kind)
            {
                case BlockKind.Blank:
                    Flush();
                    blankSinceItem = true;
                    break;
                case BlockKind.Heading:
                    Flush();
                    lastWasItem = false;
                    Separate();
                    sb.Append("    ").Append(b.Text).Append('\n');
                    sb.Append("    ").Append(new string('-', Math.Min(b.Text.Length, Width - 4))).Append('\n');
                    break;
                case BlockKind.Fence:
                    Flush();
                    lastWasItem = false;
                    Separate();
                    foreach (string l in b.Text.Split('\n'))
                    {
                        sb.Append(l.Length == 0 ? string.Empty : "        " + l).Append('\n');
                    }

                    break;
                default:
                    string t = b.Text.Trim();
                    if (t.StartsWith("|", StringComparison.Ordinal))
                    {
                        // Tables stay as written: they are already aligned for a fixed-width font.
                        Flush();
                        if (!lastWasTable)
                        {
                            Separate();
                        }

                        lastWasTable = true;
                        sb.Append("    ").Append(MarkdownReader.Inline(t)).Append('\n');
                        break;
                    }

                    if (MarkdownReader.IsListItem(t))
                    {
                        Flush();
                    }

                    para.Add(t);
                    break;
            }
        }

        Flush();
    }

    private static void Wrap(string text, int firstIndent, int indent, string marker, StringBuilder sb)
    {
        var line = new StringBuilder(new string(' ', firstIndent) + marker);
        int lineStart = line.Length;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > lineStart && line.Length + 1 + word.Length > Width)
            {
                sb.Append(line.ToString().TrimEnd()).Append('\n');
                line.Clear().Append(' ', indent);
                lineStart = line.Length;
            }

            if (line.Length > lineStart)
            {
                line.Append(' ');
            }

            line.Append(word);
        }

        sb.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
