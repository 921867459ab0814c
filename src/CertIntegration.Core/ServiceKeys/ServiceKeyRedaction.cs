using System;
using System.Linq;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.ServiceKeys;

/// <summary>Copies of service-key input that are safe to keep in an error record: no private key, no client secret.</summary>
internal static class ServiceKeyRedaction
{
    // Fields whose values are secrets: the private key and a client secret. Their values never go into an error's target.
    private static readonly string[] SecretFields = { "key", "privateKey", "private_key", "clientkey", "clientsecret", "client_secret", "password" };

    private const string RedactedValue = "<redacted>";

    /// <summary>
    /// A copy of a service key that is safe to keep in an error record: the values of the key and client-secret fields,
    /// and any other string holding a private key block, are replaced by "&lt;redacted&gt;". Everything else (client ID,
    /// URLs, the certificate) stays, so the target still tells which input failed.
    /// </summary>
    public static string Redact(JObject doc)
    {
        var copy = (JObject)doc.DeepClone();
        RedactToken(copy);
        return copy.ToString(Formatting.Indented);
    }

    /// <summary>
    /// Text input made safe to keep in an error record: each JSON document in it redacted as <see cref="Redact(JObject)"/>
    /// does; text that is not JSON is cut before the first sign of a secret (a private key block or a client secret).
    /// </summary>
    public static string Redact(string text)
    {
        try
        {
            return string.Join(Environment.NewLine, ServiceKeyFraming.ParseDocuments(text, "input").Select(Redact));
        }
        catch (Exception)
        {
            // Whatever the text is, the error record must still be written: fall back to cutting it.
            int cut = -1;
            foreach (string marker in new[] { "PRIVATE KEY", "clientsecret", "client_secret", "\"key\"", "privatekey", "private_key" })
            {
                int at = text.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
                if (at >= 0 && (cut < 0 || at < cut))
                {
                    cut = at;
                }
            }

            return cut < 0 ? text : text.Substring(0, cut) + RedactedValue + " (the rest of the text is left out: it may hold a secret)";
        }
    }

    private static void RedactToken(JToken token)
    {
        switch (token)
        {
            case JObject obj:
                foreach (JProperty p in obj.Properties().ToList())
                {
                    if (p.Value.Type != JTokenType.Null && SecretFields.Any(f => string.Equals(f, p.Name, StringComparison.OrdinalIgnoreCase)))
                    {
                        p.Value = RedactedValue;
                    }
                    else
                    {
                        RedactToken(p.Value);
                    }
                }

                break;
            case JArray array:
                for (int i = 0; i < array.Count; i++)
                {
                    if (array[i].Type == JTokenType.String && IsKeyText((string?)array[i]))
                    {
                        array[i] = RedactedValue;
                    }
                    else
                    {
                        RedactToken(array[i]);
                    }
                }

                break;
            case JValue { Type: JTokenType.String } value when IsKeyText((string?)value.Value):
                value.Value = RedactedValue;
                break;
        }
    }

    private static bool IsKeyText(string? s) => s is not null && s.IndexOf("PRIVATE KEY", StringComparison.OrdinalIgnoreCase) >= 0;
}
