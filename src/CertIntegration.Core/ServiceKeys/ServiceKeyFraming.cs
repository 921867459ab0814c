using System;
using System.Collections.Generic;
using System.IO;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.ServiceKeys;

/// <summary>
/// Finds the JSON documents in service-key text: one or more objects, after the <c>Getting key ...</c> preamble that
/// <c>cf service-key</c> prints, and tells piped lines that are still inside an object from a finished document.
/// </summary>
internal static class ServiceKeyFraming
{
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

    private static CertIntegrationException NotJson(string source, string why) =>
        new(ErrorIds.ServiceKeyNotJson, FailureKind.InvalidData, $"{source} is not a JSON service key: {Messages.Clause(why)}.");
}
