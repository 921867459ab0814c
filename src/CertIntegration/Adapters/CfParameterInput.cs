using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Adapters;

/// <summary>
/// New-CfServiceKey's -Parameter as the JSON object the API takes: New-ServiceKeyParameter's JSON text or its
/// -AsHashtable dictionary, any JSON object text, a hashtable, or a ConvertFrom-Json object.
/// </summary>
internal static class CfParameterInput
{
    private const int MaxDepth = 16;

    public static JObject ToJson(object input)
    {
        object value = input is PSObject p ? p.BaseObject : input;
        if (value is string text)
        {
            try
            {
                using var reader = new JsonTextReader(new System.IO.StringReader(text)) { MaxDepth = 32, DateParseHandling = DateParseHandling.None };
                if (JToken.ReadFrom(reader) is JObject parsed)
                {
                    return parsed;
                }
            }
            catch (JsonException ex)
            {
                throw Invalid($"-Parameter is not valid JSON ({Messages.Clause(ex.Message)}).");
            }

            throw Invalid("-Parameter is JSON, but not an object; the service key's parameters are a JSON object such as New-ServiceKeyParameter writes.");
        }

        return Token(input, 0) as JObject ?? throw Invalid($"-Parameter takes JSON text or a hashtable, not a {value.GetType().Name}.");
    }

    private static JToken Token(object? input, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Invalid($"-Parameter is nested deeper than {MaxDepth} levels.");
        }

        object? value = input is PSObject p ? p.BaseObject : input;
        switch (value)
        {
            case null:
                return JValue.CreateNull();
            case string or bool or int or long or double or decimal or float or short or byte:
                return new JValue(value);
            case IDictionary dictionary:
                var o = new JObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    o[entry.Key?.ToString() ?? string.Empty] = Token(entry.Value, depth + 1);
                }

                return o;
            case PSCustomObject when input is PSObject custom:
                var c = new JObject();
                foreach (PSPropertyInfo property in custom.Properties.Where(x => x.IsGettable))
                {
                    c[property.Name] = Token(property.Value, depth + 1);
                }

                return c;
            case IEnumerable list:
                return new JArray(list.Cast<object?>().Select(x => Token(x, depth + 1)));
            default:
                throw Invalid($"-Parameter holds a {value.GetType().Name}, which has no JSON form; use strings, numbers, booleans, lists and hashtables.");
        }
    }

    private static CertIntegrationException Invalid(string message) => new(ErrorIds.CfParameterInvalid, FailureKind.InvalidArgument, message);
}
