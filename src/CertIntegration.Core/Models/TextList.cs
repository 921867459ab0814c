using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;

namespace CertIntegration;

/// <summary>
/// A read-only list of texts (diagnosis sentences, validation errors, CA names, chain subjects). It indexes,
/// counts and enumerates like the string array it replaces, and it is text where a log needs text: ConvertTo-Json
/// writes it as an array of strings, Export-Csv and string conversion as the items joined by "; ".
/// </summary>
public sealed class TextList : ReadOnlyCollection<string>
{
    /// <summary>The separator <see cref="ToString"/> puts between the items.</summary>
    public const string Separator = "; ";

    /// <summary>An empty list.</summary>
    internal static readonly TextList None = new(Array.Empty<string>());

    public TextList(IEnumerable<string> items)
        : base((items ?? throw new ArgumentNullException(nameof(items))).Select(i => i ?? string.Empty).ToArray())
    {
    }

    /// <summary>The number of items, as on the string array this list replaces.</summary>
    public int Length => Count;

    public static implicit operator TextList(string[]? items) => items is null || items.Length == 0 ? None : new TextList(items);

    public static implicit operator TextList(List<string>? items) => items is null || items.Count == 0 ? None : new TextList(items);

    /// <summary>The items as a new array.</summary>
    public string[] ToArray() => Enumerable.ToArray(this);

    public override string ToString() => string.Join(Separator, this);
}
