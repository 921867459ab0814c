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
    /// "host:8443/path" and "host/path" as https:// URLs; text with a scheme, and relative paths ("/http/x"), as given.
    /// </summary>
    public static string WithDefaultScheme(string text)
    {
        string t = text.Trim();
        return t.Length == 0 || t.StartsWith("/", StringComparison.Ordinal) || t.IndexOf("://", StringComparison.Ordinal) >= 0 ? t : "https://" + t;
    }
}
