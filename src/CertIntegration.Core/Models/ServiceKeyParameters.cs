using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.IO;
using Newtonsoft.Json;

namespace CertIntegration;

/// <summary>The two key types of a Process Integration Runtime service key that carry a client certificate.</summary>
public enum ServiceKeyType
{
    /// <summary>SAP generates the key pair and issues the certificate ("key-type": "certificate").</summary>
    Certificate,

    /// <summary>An existing certificate is mapped to the service key ("key-type": "certificate_external").</summary>
    CertificateExternal,
}

/// <summary>
/// The parameters of a certificate service key, as SAP documents them for <c>cf create-service-key SERVICE KEY -c</c>,
/// the cockpit's JSON tab and the CF v3 <c>parameters</c> field. Made by New-ServiceKeyParameter; the JSON shape lives
/// here so that every command that creates service keys writes the same document.
/// </summary>
public sealed class ServiceKeyParameters
{
    /// <summary>The JSON names, in the order SAP's documentation shows them.</summary>
    public const string KeyTypeName = "key-type";
    public const string X509Name = "X.509";
    public const string ValidityName = "validity";
    public const string KeyLengthName = "key-length";

    internal ServiceKeyParameters(ServiceKeyType keyType, string? x509, int? validity, int? keyLength)
    {
        KeyType = keyType;
        X509 = x509;
        Validity = validity;
        KeyLength = keyLength;
    }

    public ServiceKeyType KeyType { get; }

    /// <summary>The value of "key-type": certificate or certificate_external.</summary>
    public string KeyTypeText => KeyType == ServiceKeyType.CertificateExternal ? "certificate_external" : "certificate";

    /// <summary>The leaf certificate as one line of PEM (certificate_external only).</summary>
    public string? X509 { get; }

    /// <summary>Validity of the service key's certificate in days (1-365), or null to leave it to SAP.</summary>
    public int? Validity { get; }

    /// <summary>Key length in bits; null when it is not part of the document.</summary>
    public int? KeyLength { get; }

    /// <summary>The parameters as one compact line of JSON, names in SAP's documented order.</summary>
    public string ToJson()
    {
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        using (var writer = new JsonTextWriter(text) { Formatting = Formatting.None })
        {
            writer.WriteStartObject();
            foreach (KeyValuePair<string, object> field in Fields())
            {
                writer.WritePropertyName(field.Key);
                writer.WriteValue(field.Value);
            }

            writer.WriteEndObject();
        }

        return text.ToString();
    }

    /// <summary>The parameters as an ordered, case-insensitive dictionary (what [ordered]@{} is in PowerShell).</summary>
    public OrderedDictionary ToDictionary()
    {
        var d = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, object> field in Fields())
        {
            d.Add(field.Key, field.Value);
        }

        return d;
    }

    private IEnumerable<KeyValuePair<string, object>> Fields()
    {
        yield return new KeyValuePair<string, object>(KeyTypeName, KeyTypeText);
        if (X509 is not null)
        {
            yield return new KeyValuePair<string, object>(X509Name, X509);
        }

        if (Validity is int v)
        {
            yield return new KeyValuePair<string, object>(ValidityName, v);
        }

        if (KeyLength is int k)
        {
            yield return new KeyValuePair<string, object>(KeyLengthName, k);
        }
    }

    public override string ToString() => ToJson();
}
