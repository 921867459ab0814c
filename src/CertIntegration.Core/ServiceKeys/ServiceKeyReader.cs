using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.ServiceKeys;

/// <summary>
/// Reads SAP Process Integration Runtime service keys in every shape they are handed around in: the cockpit
/// download (<c>{"oauth":{...}}</c>), cf CLI v8 (<c>{"credentials":{...}}</c>), bare fields, with or without the
/// <c>Getting key ...</c> preamble that <c>cf service-key</c> prints.
/// </summary>
internal static class ServiceKeyReader
{
    private static readonly string[] CertificateFields = { "certificate", "x.509", "x509", "clientcertificate" };
    private static readonly string[] KeyFields = { "key", "privateKey", "private_key", "clientkey" };

    /// <summary>Parses one or more JSON documents; text before the first '{' (a cf preamble) is skipped.</summary>
    public static List<JObject> ParseDocuments(string text, string source)
    {
        if (text.Length > Limits.MaxInputBytes)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"{source} is larger than {Limits.MaxInputBytes} bytes; a service key is a few kilobytes.");
        }

        int start = text.IndexOf('{');
        if (start < 0)
        {
            throw NotJson(source, "no JSON object was found");
        }

        var docs = new List<JObject>();
        try
        {
            using var reader = new JsonTextReader(new StringReader(text.Substring(start)))
            {
                SupportMultipleContent = true,
                MaxDepth = 64,
                DateParseHandling = DateParseHandling.None,
            };
            while (reader.Read())
            {
                if (reader.TokenType == JsonToken.Comment)
                {
                    continue;
                }

                JToken token = JToken.ReadFrom(reader, new JsonLoadSettings { CommentHandling = CommentHandling.Ignore, DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error });
                if (token is not JObject obj)
                {
                    throw NotJson(source, $"expected a JSON object but found {token.Type}");
                }

                docs.Add(obj);
            }
        }
        catch (JsonException ex)
        {
            throw NotJson(source, ex.Message);
        }

        if (docs.Count == 0)
        {
            throw NotJson(source, "the text is empty");
        }

        return docs;
    }

    /// <summary>The documents when the text is complete JSON on its own (one or more objects), else null.</summary>
    public static List<JObject>? TryParseComplete(string text)
    {
        string t = text.Trim();
        if (t.Length == 0 || t[0] != '{' || t[t.Length - 1] != '}')
        {
            return null;
        }

        try
        {
            return ParseDocuments(t, "input");
        }
        catch (CertIntegrationException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when the text opens a JSON object that it does not close, i.e. it is the first lines of a document still
    /// being piped in line by line. Newtonsoft's reader walks the tokens; running out of text inside an object, array
    /// or string means "more to come", while a syntax error means the text is bad now and is reported as such.
    /// </summary>
    public static bool IsInsideObject(string text)
    {
        int start = text.IndexOf('{');
        if (start < 0)
        {
            return false;
        }

        using var reader = new JsonTextReader(new StringReader(text.Substring(start)))
        {
            SupportMultipleContent = true,
            MaxDepth = 64,
            DateParseHandling = DateParseHandling.None,
        };
        try
        {
            while (reader.Read())
            {
            }

            return reader.Depth > 0 || reader.TokenType is JsonToken.StartObject or JsonToken.StartArray or JsonToken.PropertyName;
        }
        catch (JsonReaderException ex)
        {
            // Newtonsoft names the two ways text can stop early; any other message is a real syntax error.
            return ex.Message.StartsWith("Unterminated string", StringComparison.Ordinal)
                || ex.Message.StartsWith("Unexpected end", StringComparison.Ordinal);
        }
    }

    /// <summary>True when every non-blank line is the "Getting key ... as ..." line that cf service-key prints first.</summary>
    public static bool IsCfPreamble(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            string t = line.Trim();
            if (t.Length > 0 && !t.StartsWith("Getting key ", StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

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
            return string.Join(Environment.NewLine, ParseDocuments(text, "input").Select(Redact));
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

    /// <summary>Reads a service key into a bundle. <paramref name="verbose"/> receives non-secret notes.</summary>
    public static CertificateBundle Read(JObject root, string source, Action<string>? verbose = null)
    {
        JObject creds = FindCredentials(root);
        string? certText = GetString(creds, CertificateFields);
        string? keyText = GetString(creds, KeyFields);
        string? clientId = GetString(creds, "clientid", "client_id");
        string? clientSecret = GetString(creds, "clientsecret", "client_secret");
        string? url = GetString(creds, "url");
        string? tokenUrl = GetString(creds, "tokenurl", "token_url");
        string? declaredType = GetString(creds, "keytype", "key-type", "key_type", "credential-type");

        if (string.IsNullOrWhiteSpace(certText))
        {
            if (!string.IsNullOrEmpty(clientSecret) || (clientId is not null && keyText is null))
            {
                throw new CertIntegrationException(ErrorIds.ServiceKeyIsClientSecret, FailureKind.InvalidData,
                    $"{source} is a client-secret service key (it has clientid/clientsecret but no certificate). " +
                    "Create a service key of key-type 'certificate' on the Process Integration Runtime instance to get a client certificate and key.");
            }

            throw new CertIntegrationException(ErrorIds.ServiceKeyNoCertificate, FailureKind.InvalidData,
                $"{source} has no 'certificate' field; a Process Integration Runtime service key of key-type 'certificate' or 'certificate_external' is expected.");
        }

        RequireText(creds, CertificateFields, source, ErrorIds.PemNoCertificate);
        RequireText(creds, KeyFields, source, ErrorIds.PemNoPrivateKey);
        PemContents certs = PemText.Read(certText!, $"{source} field 'certificate'");
        if (certs.Certificates.Count == 0)
        {
            throw new CertIntegrationException(ErrorIds.PemNoCertificate, FailureKind.InvalidData,
                $"{source} field 'certificate' contains no certificate block.");
        }

        var keys = new List<PrivateKeyMaterial>(certs.Keys);
        if (!string.IsNullOrWhiteSpace(keyText))
        {
            PemContents keyPem = PemText.Read(keyText!, $"{source} field 'key'");
            if (keyPem.Keys.Count == 0)
            {
                throw new CertIntegrationException(ErrorIds.PemNoPrivateKey, FailureKind.InvalidData,
                    $"{source} field 'key' contains no private key block.");
            }

            keys.AddRange(keyPem.Keys);
        }

        List<ChainBuilder.Chain> chains = ChainBuilder.Build(certs.Certificates, keys, out var unmatched);
        ChainBuilder.Chain chain;
        if (unmatched.Count > 0)
        {
            X509Certificate2 leaf = ToX509(chains.First().Leaf);
            throw new CertIntegrationException(ErrorIds.KeyCertificateMismatch, FailureKind.InvalidData,
                $"{source}: the private key in field 'key' does not belong to the certificate '{leaf.Subject}' (thumbprint {leaf.Thumbprint}). " +
                "The fields were probably taken from two different service keys.");
        }

        List<ChainBuilder.Chain> withKey = chains.Where(c => c.Key is not null).ToList();
        if (withKey.Count > 0)
        {
            chain = withKey[0];
            if (ChainBuilder.FirstIssuedBy(chains, chain.Leaf) is { } issued)
            {
                X509Certificate2 leaf = ToX509(issued);
                throw new CertIntegrationException(ErrorIds.KeyCertificateMismatch, FailureKind.InvalidData,
                    $"{source}: the private key in field 'key' belongs to the CA certificate '{chain.Leaf.SubjectDN}', not to the certificate '{leaf.Subject}' (thumbprint {leaf.Thumbprint}) it issued.");
            }
        }
        else if (chains.Count == 1)
        {
            chain = chains[0];
        }
        else
        {
            throw new CertIntegrationException(ErrorIds.MultipleLeafCertificates, FailureKind.InvalidData,
                $"{source} field 'certificate' holds {chains.Count} unrelated certificates ({string.Join("; ", chains.Select(c => c.Leaf.SubjectDN.ToString()))}); a service key holds one client certificate with its chain.");
        }

        var bundle = new CertificateBundle(chain.Certificates.Select(c => ToX509(c, source)).ToList(), chain.Key)
        {
            ClientId = clientId,
            Url = url,
            TokenUrl = tokenUrl,
        };
        // Only the two key types are taken as declared; other values of these fields (BTP's "credential-type": "x509")
        // describe something else, so the type is then told by the presence of the key.
        bundle.KeyType = declaredType?.Trim().ToLowerInvariant() is "certificate" or "certificate_external"
            ? declaredType.Trim().ToLowerInvariant()
            : bundle.HasPrivateKey ? "certificate" : "certificate_external";
        if (!bundle.HasPrivateKey)
        {
            verbose?.Invoke($"{source}: no private key in the service key (key-type certificate_external); the bundle has HasPrivateKey = False and can be exported or inspected, but not used for mTLS or a PFX.");
        }

        return bundle;
    }

    internal static X509Certificate2 ToX509(Org.BouncyCastle.X509.X509Certificate cert) => ToX509(cert, "The input");

    /// <summary>
    /// A certificate BouncyCastle has read, as .NET's type. .NET parses it again and can refuse what BouncyCastle took:
    /// that is a malformed certificate, named as such.
    /// </summary>
    internal static X509Certificate2 ToX509(Org.BouncyCastle.X509.X509Certificate cert, string label)
    {
        try
        {
#if NET9_0_OR_GREATER
            return X509CertificateLoader.LoadCertificate(cert.GetEncoded());
#else
            return new X509Certificate2(cert.GetEncoded());
#endif
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new CertIntegrationException(ErrorIds.CertificateMalformed, FailureKind.InvalidData,
                $"{label}: the certificate '{cert.SubjectDN}' could not be loaded by .NET ({Messages.Clause(ex.Message)}).", ex);
        }
    }

    private static JObject FindCredentials(JObject root)
    {
        JObject current = root;
        for (int i = 0; i < 3; i++)
        {
            if (GetToken(current, "certificate") is not null || GetToken(current, "clientid") is not null)
            {
                return current;
            }

            if (GetToken(current, "oauth") is JObject oauth)
            {
                current = oauth;
            }
            else if (GetToken(current, "credentials") is JObject credentials)
            {
                current = credentials;
            }
            else
            {
                break;
            }
        }

        return current;
    }

    /// <summary>A PEM field holding a number, array, object or boolean is named as such, not read as text.</summary>
    private static void RequireText(JObject obj, string[] names, string source, string errorId)
    {
        foreach (string n in names)
        {
            JToken? t = GetToken(obj, n);
            if (t is null || t.Type == JTokenType.Null)
            {
                continue;
            }

            if (t.Type != JTokenType.String)
            {
                string field = ((JProperty)t.Parent!).Name;
                throw new CertIntegrationException(errorId, FailureKind.InvalidData,
                    $"{source} field '{field}' is a JSON {t.Type.ToString().ToLowerInvariant()}, not PEM text; a service key holds the PEM as a string.");
            }

            return;
        }
    }

    private static JToken? GetToken(JObject obj, string name) => obj.GetValue(name, StringComparison.OrdinalIgnoreCase);

    private static string? GetString(JObject obj, params string[] names)
    {
        foreach (string n in names)
        {
            JToken? t = GetToken(obj, n);
            if (t is null || t.Type == JTokenType.Null)
            {
                continue;
            }

            return t.Type == JTokenType.String ? (string?)t : t.ToString(Formatting.None);
        }

        return null;
    }

    private static CertIntegrationException NotJson(string source, string why) =>
        new(ErrorIds.ServiceKeyNotJson, FailureKind.InvalidData, $"{source} is not a JSON service key: {Messages.Clause(why)}.");
}
