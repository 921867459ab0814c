using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace CertIntegration.Core.Tls;

/// <summary>
/// What a probe's answer may not show: bearer tokens, and the secrets of the request (credential headers, secret
/// form or JSON fields) that a server echoes back.
/// </summary>
internal static class ProbeRedaction
{
    private const string SecretNames = "access_token|refresh_token|id_token|client_secret|password|assertion|client_assertion";

    private static readonly System.Text.RegularExpressions.Regex TokenField = new(
        "(\"(?:" + SecretNames + ")\"\\s*:\\s*\")[^\"]*(\")",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static readonly System.Text.RegularExpressions.Regex TokenParameter = new(
        "(\\b(?:" + SecretNames + ")=)[^&\\s\"<]+",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>A token endpoint's answer holds bearer tokens: they are replaced by *** before the body is shown.</summary>
    internal static string RedactTokens(string body) => TokenParameter.Replace(TokenField.Replace(body, "$1***$2"), "$1***");

    /// <summary>
    /// Tokens in the answer, and any secret of the request that the server echoes back (echo services and error
    /// pages repeat the Authorization header or a form body): replaced by *** before the body is shown.
    /// </summary>
    internal static string Redact(string body, ProbeOptions options)
    {
        string text = RedactTokens(body);
        foreach (string secret in RequestSecrets(options).Where(x => x.Length >= 6).OrderByDescending(x => x.Length))
        {
            text = text.Replace(secret, "***");
        }

        return text;
    }

    /// <summary>Values of the request's credential headers (whole and without the scheme) and of secret form fields.</summary>
    internal static IEnumerable<string> RequestSecrets(ProbeOptions options)
    {
        if (options.Headers is not null)
        {
            foreach (KeyValuePair<string, string> header in options.Headers)
            {
                string name = header.Key;
                string value = header.Value;
                if (IsSecretHeader(name))
                {
                    yield return value.Trim();
                    int space = value.Trim().IndexOf(' ');
                    if (space > 0)
                    {
                        yield return value.Trim().Substring(space + 1).Trim();
                    }
                }
            }
        }

        if (options.Body is { Length: > 0 and < 65536 } body)
        {
            string text = new UTF8Encoding(false, false).GetString(body);
            foreach (System.Text.RegularExpressions.Match m in TokenParameter.Matches(text))
            {
                string value = text.Substring(m.Index + m.Groups[1].Length, m.Length - m.Groups[1].Length);
                yield return value;
                yield return Uri.UnescapeDataString(value.Replace('+', ' '));
            }

            foreach (System.Text.RegularExpressions.Match m in TokenField.Matches(text))
            {
                int start = m.Index + m.Groups[1].Length;
                yield return text.Substring(start, m.Length - m.Groups[1].Length - m.Groups[2].Length);
            }
        }
    }

    private static bool IsSecretHeader(string name)
    {
        string n = name.ToLowerInvariant();
        return n is "authorization" or "proxy-authorization" or "cookie"
            || n.Contains("token") || n.Contains("secret") || n.Contains("password") || n.Contains("api-key") || n.Contains("apikey");
    }
}
