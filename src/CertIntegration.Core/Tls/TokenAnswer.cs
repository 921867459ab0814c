using System;
using System.Globalization;
using System.Linq;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.Tls;

/// <summary>A token the server granted. Internal: the cmdlet layer turns the token into a SecureString.</summary>
internal sealed class TokenGrant
{
    public TokenGrant(string accessToken, string? tokenType, long? expiresInSeconds, string? scope)
    {
        AccessToken = accessToken;
        TokenType = tokenType;
        ExpiresInSeconds = expiresInSeconds;
        Scope = scope;
    }

    public string AccessToken { get; }

    public string? TokenType { get; }

    public long? ExpiresInSeconds { get; }

    public string? Scope { get; }

    /// <summary>Never the token.</summary>
    public override string ToString() => $"{TokenType} token, expires in {ExpiresInSeconds?.ToString(CultureInfo.InvariantCulture) ?? "?"} s";
}

/// <summary>
/// Reads a token endpoint's answer (RFC 6749 section 5): a JSON object with access_token on success, with error and
/// error_description on failure. Failures become exceptions that quote the server's words, bounded in length and
/// cleaned of control characters and tokens, with the likely cause for a certificate service key.
/// </summary>
internal static class TokenAnswer
{
    /// <summary>Most characters of a server's text quoted in a message.</summary>
    public const int MaxQuoted = 200;

    public static TokenGrant Read(int status, string? reasonPhrase, string? contentType, string body, Uri tokenUrl, string clientId)
    {
        string statusText = ("HTTP " + status.ToString(CultureInfo.InvariantCulture) + " " + (reasonPhrase ?? string.Empty)).Trim();
        JObject? json = TryParseObject(body);
        if (json is null)
        {
            string what = string.IsNullOrWhiteSpace(body) ? "an empty body" : $"{(string.IsNullOrEmpty(contentType) ? "text" : Quote(contentType))} that is not a JSON object (it begins: \"{Quote(body)}\")";
            string cause = status is 401 or 403
                ? "Likely cause: the request did not reach the token server with the certificate (a proxy or gateway answered), or the URL is not the service key's tokenurl."
                : "Likely cause: the URL is not a token endpoint (a login page, a proxy's or gateway's error page); the service key's tokenurl ends in /oauth/token.";
            throw new CertIntegrationException(ErrorIds.TokenAnswerNotJson, FailureKind.ProtocolError,
                $"The token server {Authority(tokenUrl)} answered {statusText} with {what}. {cause}");
        }

        string? error = Text(json, "error");
        string? description = Text(json, "error_description") ?? Text(json, "message");
        string quoted = error is null ? string.Empty
            : $" (error \"{Quote(error)}\"" + (description is null ? ")" : $": \"{Quote(description)}\")");

        if (status is >= 200 and < 300 && error is null)
        {
            string? token = Text(json, "access_token");
            if (string.IsNullOrEmpty(token))
            {
                string fields = string.Join(", ", json.Properties().Select(p => Quote(p.Name)).Take(12));
                throw new CertIntegrationException(ErrorIds.TokenAnswerNoAccessToken, FailureKind.ProtocolError,
                    $"The token server {Authority(tokenUrl)} answered {statusText} with JSON that holds no access_token" +
                    (fields.Length > 0 ? $" (its fields: {fields})" : " (an empty object)") +
                    ". Likely cause: the URL is not the OAuth token endpoint (the service key's tokenurl ends in /oauth/token).");
            }

            return new TokenGrant(token!, Text(json, "token_type"), Seconds(json["expires_in"]), Text(json, "scope"));
        }

        if (string.Equals(error, "invalid_client", StringComparison.OrdinalIgnoreCase))
        {
            throw new CertIntegrationException(ErrorIds.TokenInvalidClient, FailureKind.AuthenticationError,
                $"The token server {Authority(tokenUrl)} refused the client '{clientId}' ({statusText}){quoted}. Likely cause: the client certificate is not the one of this service key " +
                "(client id and certificate come from the same service key; a renewed key has a new certificate), or the client id was mistyped.");
        }

        if (status == 401 || string.Equals(error, "unauthorized", StringComparison.OrdinalIgnoreCase))
        {
            throw new CertIntegrationException(ErrorIds.TokenUnauthorized, FailureKind.AuthenticationError,
                $"The token server {Authority(tokenUrl)} did not authenticate the request ({statusText}){quoted}. Likely cause: no client certificate reached it: " +
                "the URL is not the .authentication.cert. host (the plain .authentication. host never asks for one), or a proxy that ends TLS is in between.");
        }

        throw new CertIntegrationException(ErrorIds.TokenRequestRejected, status >= 500 ? FailureKind.ProtocolError : FailureKind.AuthenticationError,
            $"The token server {Authority(tokenUrl)} refused the token request ({statusText}){quoted}." +
            (status == 403 ? " Likely cause: the service instance does not allow the client_credentials grant, or the certificate is not trusted for this client." : string.Empty) +
            (status >= 500 ? " The server failed; try again later." : string.Empty));
    }

    /// <summary>A server's text, safe to show: control characters as spaces, tokens replaced, at most <see cref="MaxQuoted"/> characters.</summary>
    public static string Quote(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        string redacted = ProbeRedaction.RedactTokens(text!);
        var sb = new StringBuilder(Math.Min(redacted.Length, MaxQuoted + 3));
        foreach (char c in redacted)
        {
            if (sb.Length >= MaxQuoted)
            {
                sb.Append("...");
                break;
            }

            sb.Append(char.IsControl(c) ? ' ' : c == '"' ? '\'' : c);
        }

        return sb.ToString().Trim();
    }

    public static string Authority(Uri url) => url.IsDefaultPort ? url.Host : url.Host + ":" + url.Port.ToString(CultureInfo.InvariantCulture);

    private static JObject? TryParseObject(string body)
    {
        string t = body.Trim();
        if (t.Length == 0 || t[0] != '{')
        {
            return null;
        }

        try
        {
            using var reader = new JsonTextReader(new System.IO.StringReader(t)) { MaxDepth = 32, DateParseHandling = DateParseHandling.None };
            return JToken.ReadFrom(reader) as JObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JObject json, string name)
    {
        JToken? t = json.GetValue(name, StringComparison.Ordinal);
        return t is null || t.Type == JTokenType.Null ? null : t.Type == JTokenType.String ? (string?)t : t.ToString(Formatting.None);
    }

    private static long? Seconds(JToken? t)
    {
        if (t is null)
        {
            return null;
        }

        if (t.Type == JTokenType.Integer)
        {
            long v = (long)t;
            return v >= 0 ? v : null;
        }

        if (t.Type == JTokenType.Float)
        {
            double d = (double)t;
            return d >= 0 && d < long.MaxValue ? (long)d : null;
        }

        return t.Type == JTokenType.String && long.TryParse((string?)t, NumberStyles.None, CultureInfo.InvariantCulture, out long s) ? s : null;
    }
}
