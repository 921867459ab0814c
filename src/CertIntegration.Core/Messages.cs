namespace CertIntegration.Core;

/// <summary>Helpers for messages built from other messages (exceptions of .NET, Newtonsoft.Json, BouncyCastle).</summary>
internal static class Messages
{
    /// <summary>Longest piece of input-derived text (an OID, a name, another library's message) quoted in a message.</summary>
    public const int MaxQuoted = 200;

    /// <summary>Longest message of a <see cref="CertIntegrationException"/>; a longer one is shortened in its middle.</summary>
    public const int MaxMessage = 1000;

    /// <summary>
    /// Another message as a clause inside ours: without its final period, so that "...: {clause}." and "({clause})."
    /// end in one period, not two. Newtonsoft's messages end in "position 0." and .NET's in a period as well. A clause
    /// longer than <see cref="MaxQuoted"/> is clipped (see <see cref="Quote"/>), unless it is the module's own text
    /// (<paramref name="clip"/> false) with library messages already clipped inside.
    /// </summary>
    public static string Clause(string? message, bool clip = true)
    {
        string s = (message ?? string.Empty).Trim().TrimEnd('.').TrimEnd();
        return clip ? Quote(s) : s;
    }

    /// <summary>
    /// Text taken from the input (or from a library that quotes the input) as it may stand in a message: at most
    /// <see cref="MaxQuoted"/> characters, else its start, an ellipsis and its original length, so a 2,000-arc OID or
    /// a 500-deep name is named without filling the screen.
    /// </summary>
    public static string Quote(string? text)
    {
        string s = text ?? string.Empty;
        return s.Length <= MaxQuoted ? s : $"{s.Substring(0, MaxQuoted)}... ({s.Length} characters)";
    }

    /// <summary>
    /// A whole message bounded to <see cref="MaxMessage"/> characters: the start (what is wrong) and the end (what
    /// to do) are kept, the middle is left out.
    /// </summary>
    public static string Bound(string? message)
    {
        string s = message ?? string.Empty;
        if (s.Length <= MaxMessage)
        {
            return s;
        }

        const int tail = 250;
        string cut = $" ... (shortened from {s.Length} characters) ... ";
        int head = MaxMessage - tail - cut.Length;
        return s.Substring(0, head) + cut + s.Substring(s.Length - tail);
    }
}
