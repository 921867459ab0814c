using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using CertIntegration.Core;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Adapters;

/// <summary>
/// PowerShell's objects turned into the core's plain types: the core never sees a PSObject.
/// </summary>
internal static class PSObjectAdapter
{
    private const int MaxDepth = 32;

    /// <summary>The object inside PowerShell's wrapper, or the value itself.</summary>
    public static object? Unwrap(object? value) => value is PSObject p ? p.BaseObject : value;

    /// <summary>Turns the objects ConvertFrom-Json (PSCustomObject) or a hashtable give into JSON.</summary>
    public static JObject ToJObject(object input)
    {
        if (ToToken(input, 0) is JObject obj)
        {
            return obj;
        }

        throw new CertIntegrationException(ErrorIds.ServiceKeyUnsupportedInput, FailureKind.InvalidType,
            $"A service key object was expected, but the input is a {(Unwrap(input) ?? input).GetType().Name}.");
    }

    /// <summary>-Headers as name/value pairs in the order given (values as invariant strings).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>>? Headers(IDictionary? headers)
    {
        if (headers is null)
        {
            return null;
        }

        var list = new List<KeyValuePair<string, string>>();
        foreach (DictionaryEntry e in headers)
        {
            list.Add(new KeyValuePair<string, string>(
                Convert.ToString(Unwrap(e.Key), CultureInfo.InvariantCulture) ?? string.Empty,
                Convert.ToString(Unwrap(e.Value), CultureInfo.InvariantCulture) ?? string.Empty));
        }

        return list;
    }

    private static JToken ToToken(object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded, "The service key object is nested too deeply.");
        }

        object? v = Unwrap(value);
        switch (v)
        {
            case null:
                return JValue.CreateNull();
            case string s:
                return new JValue(s);
            case IDictionary dict:
            {
                var o = new JObject();
                foreach (DictionaryEntry e in dict)
                {
                    o[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? string.Empty] = ToToken(e.Value, depth + 1);
                }

                return o;
            }

            case PSCustomObject:
            {
                var o = new JObject();
                foreach (PSPropertyInfo p in ((PSObject)value!).Properties)
                {
                    if (p is PSNoteProperty or PSProperty or PSAliasProperty)
                    {
                        o[p.Name] = ToToken(p.Value, depth + 1);
                    }
                }

                return o;
            }

            case IEnumerable list:
                return new JArray(list.Cast<object?>().Select(x => ToToken(x, depth + 1)));
            case bool or int or long or double or decimal:
                return new JValue(v);
            default:
                return new JValue(Convert.ToString(v, CultureInfo.InvariantCulture));
        }
    }
}
