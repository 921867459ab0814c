using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.ServiceKeys;

/// <summary>
/// Reads SAP Process Integration Runtime service keys in every shape they are handed around in: the cockpit
/// download (<c>{"oauth":{...}}</c>), cf CLI v8 (<c>{"credentials":{...}}</c>), bare fields. The documents come from
/// <see cref="ServiceKeyFraming"/>, which also skips the <c>Getting key ...</c> preamble that <c>cf service-key</c> prints.
/// </summary>
internal static class ServiceKeyReader
{
    private static readonly string[] CertificateFields = { "certificate", "x.509", "x509", "clientcertificate" };
    private static readonly string[] KeyFields = { "key", "privateKey", "private_key", "clientkey" };

    /// <summary>Reads a service key into a bundle. <paramref name="verbose"/> receives non-secret notes.</summary>
    public static CertificateBundle Read(JObject root, string source, Action<string>? verbose = null) => Read(root, source, verbose, keepCertificateOfMismatchedKey: false);

    /// <summary>
    /// As <see cref="Read(JObject, string, Action{string}?)"/>; with <paramref name="keepCertificateOfMismatchedKey"/>
    /// a key that belongs to another certificate is left out and named in the bundle's KeyMismatch instead of failing
    /// the read (Test-CertificateBundle reports it as a finding beside the certificate's other problems).
    /// </summary>
    public static CertificateBundle Read(JObject root, string source, Action<string>? verbose, bool keepCertificateOfMismatchedKey)
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
        string? mismatch = null;
        if (unmatched.Count > 0)
        {
            X509Certificate2 leaf = X509Conversion.ToX509(chains.First().Leaf);
            mismatch = $"{source}: the private key in field 'key' does not belong to the certificate '{Messages.Quote(leaf.Subject)}' (thumbprint {leaf.Thumbprint}). " +
                "The fields were probably taken from two different service keys.";
        }

        List<ChainBuilder.Chain> withKey = chains.Where(c => c.Key is not null).ToList();
        if (mismatch is null && withKey.Count > 0 && ChainBuilder.FirstIssuedBy(chains, withKey[0].Leaf) is { } issued)
        {
            X509Certificate2 leaf = X509Conversion.ToX509(issued);
            mismatch = $"{source}: the private key in field 'key' belongs to the CA certificate '{Messages.Quote(withKey[0].Leaf.SubjectDN.ToString())}', not to the certificate '{Messages.Quote(leaf.Subject)}' (thumbprint {leaf.Thumbprint}) it issued.";
        }

        if (mismatch is not null)
        {
            if (!keepCertificateOfMismatchedKey)
            {
                throw new CertIntegrationException(ErrorIds.KeyCertificateMismatch, FailureKind.InvalidData, mismatch);
            }

            chains = ChainBuilder.Build(certs.Certificates, Array.Empty<PrivateKeyMaterial>(), out _);
            withKey.Clear();
        }

        if (withKey.Count > 0)
        {
            chain = withKey[0];
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

        List<X509Certificate2> list = chain.Certificates.Select(c => X509Conversion.ToX509(c, source)).ToList();
        var bundle = new CertificateBundle(list, chain.Key)
        {
            ClientId = clientId,
            Url = url,
            TokenUrl = tokenUrl,
            CertificateDetails = ReadCertificateDetails(root, creds),
            KeyMismatch = mismatch,
        };
        if (!chain.InInputOrder)
        {
            bundle.SourceOutOfOrder = true;
            bundle.SourceOrder = chain.InputPositions.Select((p, i) => (p, i)).OrderBy(x => x.p).Select(x => CertificateNames.CommonName(list[x.i])).ToArray();
        }

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

    /// <summary>
    /// The certificatedetails object beside the certificate (in the credentials, or one level up beside them), or
    /// null when there is none. Values of other types than expected are read as text or left out, never fatal:
    /// the details describe the certificate and are checked against it, they are not needed to use it.
    /// </summary>
    private static ServiceKeyCertificateDetails? ReadCertificateDetails(JObject root, JObject creds)
    {
        JObject? details = GetToken(creds, "certificatedetails") as JObject ?? FindDetails(root, 0);
        if (details is null)
        {
            return null;
        }

        // A ConvertFrom-Json object may hold the date as a date already.
        JToken? untilToken = GetToken(details, "validuntil") ?? GetToken(details, "valid_until") ?? GetToken(details, "notafter");
        DateTime? typedUntil = untilToken is JValue { Type: JTokenType.Date, Value: DateTime dt } ? dt.ToUniversalTime()
            : untilToken is JValue { Type: JTokenType.Date, Value: DateTimeOffset dto } ? dto.UtcDateTime : null;
        string? validUntil = typedUntil is { } t ? t.ToString("o", System.Globalization.CultureInfo.InvariantCulture) : GetString(details, "validuntil", "valid_until", "notafter");
        int? validity = GetToken(details, "validity") is { } v && (v.Type == JTokenType.Integer || (v.Type == JTokenType.String && int.TryParse((string?)v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _)))
            ? int.Parse(v.ToString(), System.Globalization.CultureInfo.InvariantCulture)
            : null;
        return new ServiceKeyCertificateDetails
        {
            IssuerDN = GetString(details, "issuerdn", "issuer_dn", "issuer"),
            SubjectDN = GetString(details, "subjectdn", "subject_dn", "subject"),
            SerialNumber = GetString(details, "serialnumber", "serial_number", "serial"),
            ValidUntil = typedUntil ?? (validUntil is null ? null : ParseDate(validUntil)),
            ValidUntilText = validUntil,
            Validity = validity,
            ValidityType = GetString(details, "validitytype", "validity_type"),
        };
    }

    private static JObject? FindDetails(JObject obj, int depth)
    {
        if (GetToken(obj, "certificatedetails") is JObject found)
        {
            return found;
        }

        if (depth >= 3)
        {
            return null;
        }

        foreach (string wrapper in new[] { "oauth", "credentials" })
        {
            if (GetToken(obj, wrapper) is JObject inner && FindDetails(inner, depth + 1) is { } d)
            {
                return d;
            }
        }

        return null;
    }

    /// <summary>
    /// A date as service keys and their tools write it: ISO 8601 (with or without zone; without one it is UTC), ASN.1
    /// UTCTime/GeneralizedTime digits, Java's Date text ("Sat Jun 01 12:00:00 UTC 2025"), or seconds or milliseconds
    /// since 1970. Null when it is none of them.
    /// </summary>
    internal static DateTime? ParseDate(string text)
    {
        string s = text.Trim();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var utc = System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal;
        if (s.Length > 0 && s.All(char.IsDigit))
        {
            if (s.Length is 12 or 14 && DateTime.TryParseExact(s, s.Length == 12 ? "yyMMddHHmmss" : "yyyyMMddHHmmss", inv, utc, out DateTime asn))
            {
                return DateTime.SpecifyKind(asn, DateTimeKind.Utc);
            }

            if (long.TryParse(s, System.Globalization.NumberStyles.None, inv, out long n) && s.Length <= 13)
            {
                var epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
                return s.Length > 11 ? epoch.AddMilliseconds(n) : epoch.AddSeconds(n);
            }

            return null;
        }

        if (s.EndsWith("Z", StringComparison.OrdinalIgnoreCase) && s.Length is 13 or 15 && s.Take(s.Length - 1).All(char.IsDigit))
        {
            return ParseDate(s.Substring(0, s.Length - 1));
        }

        // Java's Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy", the zone UTC or GMT.
        string[] parts = s.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 6 && parts[4] is "UTC" or "GMT"
            && DateTime.TryParseExact($"{parts[1]} {parts[2]} {parts[3]} {parts[5]}", "MMM d HH:mm:ss yyyy", inv, utc, out DateTime java))
        {
            return DateTime.SpecifyKind(java, DateTimeKind.Utc);
        }

        if (DateTime.TryParse(s, inv, utc, out DateTime parsed))
        {
            return DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
        }

        return null;
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
}
