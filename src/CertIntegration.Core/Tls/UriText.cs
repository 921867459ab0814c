using System;
using System.Text.RegularExpressions;

namespace CertIntegration.Core.Tls;

/// <summary>
/// URLs as users type them: https:// assumed where no scheme is given, and user names and passwords in a URL
/// (https://user:secret@host/) never shown or kept.
/// </summary>
internal static class UriText
{
    private static readonly Regex UserInfo = new(@"(?<=://)[^/?#@\s]*@", RegexOptions.CultureInvariant);

    /// <summary>The text with the user-info part of any URL in it replaced by "***@".</summary>
    public static string Redact(string? text) => text is null ? string.Empty : UserInfo.Replace(text, "***@");

    /// <summary>The URL without its user-info part (which is never sent: requests carry only path and query).</summary>
    public static Uri WithoutUserInfo(Uri uri)
    {
        if (!uri.IsAbsoluteUri || uri.UserInfo.Length == 0)
        {
            return uri;
        }

        return new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri;
    }

    /// <summary>
    /// Text without a scheme that names a host ("host.example:8443/path", "127.0.0.1/x", "localhost:8443", or
    /// anything when there is no base URL to resolve against) as an https:// URL; text with a scheme, and relative
    /// paths ("/http/x", and "http/x" when <paramref name="hasBase"/>), as given.
    /// </summary>
    public static string WithDefaultScheme(string text, bool hasBase = false)
    {
        string t = text.Trim();
        if (t.Length == 0 || t.StartsWith("/", StringComparison.Ordinal) || t.IndexOf("://", StringComparison.Ordinal) >= 0)
        {
            return t;
        }

        int end = t.IndexOfAny(new[] { '/', '?', '#' });
        string first = end < 0 ? t : t.Substring(0, end);
        bool looksLikeHost = first.IndexOf('.') >= 0 || first.IndexOf(':') >= 0 || first.StartsWith("[", StringComparison.Ordinal)
            || string.Equals(first, "localhost", StringComparison.OrdinalIgnoreCase);
        return looksLikeHost || !hasBase ? "https://" + t : t;
    }
}
