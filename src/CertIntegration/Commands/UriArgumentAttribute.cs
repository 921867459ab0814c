using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;

namespace CertIntegration.Commands;

/// <summary>
/// Lets -Uri take strings and Uri objects only. Without it, a certificate bundle piped in for -Certificate would also
/// be turned into a string (its ToString) and bound to -Uri: anything else than URLs becomes "no URL" (an empty
/// array), so that a piped bundle leaves -Uri to its service key url.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class UriArgumentAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case null:
                return null!;
            case string s:
                return new[] { s };
            case Uri u:
                return new[] { u.OriginalString };
            case IEnumerable e when value is not CertificateBundle:
                var list = new List<string>();
                foreach (object? item in e)
                {
                    object? v = item is PSObject ip ? ip.BaseObject : item;
                    list.Add(v switch
                    {
                        string s => s,
                        Uri u => u.OriginalString,
                        _ => throw new ArgumentTransformationMetadataException($"-Uri takes URLs (strings or Uri objects), not a {v?.GetType().Name ?? "null"}."),
                    });
                }

                return list.ToArray();
            default:
                return Array.Empty<string>();
        }
    }
}
