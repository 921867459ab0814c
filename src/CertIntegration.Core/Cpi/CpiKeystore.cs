using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using CertIntegration.Core.Keystores;
using CertIntegration.Core.Tls;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.Cpi;

/// <summary>
/// The tenant keystore through the "Security Content" API: KeystoreEntries (list with __next paging, single entry,
/// downloads), CertificateResources (certificate upload), KeyPairResources (PKCS#12 key pair import), KeystoreResources
/// (JKS import) and DELETE (also the activation of a renewed key pair). Aliases and sizes are checked here before any
/// request; answers that are not what the API documents are <c>CpiAnswerInvalid</c>.
/// </summary>
internal static class CpiKeystore
{
    /// <summary>Largest certificate upload the API takes (413 above).</summary>
    public const int MaxCertificateBytes = 10 * 1024;

    /// <summary>Largest PKCS#12 of a key pair import (the API's limit on Resource).</summary>
    public const int MaxKeyPairBytes = 30_072;

    /// <summary>Most pages followed in one listing (a guard against a __next loop).</summary>
    public const int MaxPages = 1000;

    /// <summary>The keystores the API knows.</summary>
    public static readonly string[] Keystores = { "system", "KeyRenewal", "backup_admin_system" };

    private static readonly Regex DateRx = new(@"^/Date\((-?\d{1,15})([+-]\d{4})?\)/$", RegexOptions.CultureInvariant);

    /// <summary>The API's key of an alias: the lowercase hex of its UTF-8 bytes.</summary>
    public static string Hex(string alias)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(alias);
        var sb = new StringBuilder(bytes.Length * 2);
        foreach (byte b in bytes)
        {
            sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>An OData V2 JSON date: <c>/Date(ms)/</c> or <c>/Date(ms+hhmm)/</c> (the offset is informational; ms is UTC).</summary>
    public static DateTimeOffset? ParseDate(JToken? token)
    {
        if (token is null || token.Type == JTokenType.Null)
        {
            return null;
        }

        if (token.Type == JTokenType.Date)
        {
            return token.Value<DateTime>() is var dt ? new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)) : null;
        }

        string s = token.Type == JTokenType.String ? (string?)token ?? string.Empty : token.ToString(Formatting.None);
        Match m = DateRx.Match(s.Trim());
        if (m.Success && long.TryParse(m.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms))
        {
            try
            {
                DateTimeOffset utc = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                if (m.Groups[2].Success)
                {
                    int hhmm = int.Parse(m.Groups[2].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                    var offset = new TimeSpan(hhmm / 100, Math.Abs(hhmm % 100) * Math.Sign(hhmm), 0);
                    return utc.ToOffset(offset);
                }

                return utc;
            }
            catch (ArgumentOutOfRangeException)
            {
                return null;
            }
        }

        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset iso) ? iso : null;
    }

    /// <summary>A -Keystore value in the API's spelling, or a clear error.</summary>
    public static string KeystoreName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "system";
        }

        string? known = Keystores.FirstOrDefault(k => string.Equals(k, name!.Trim(), StringComparison.OrdinalIgnoreCase));
        return known ?? throw new CertIntegrationException(ErrorIds.CpiKeystoreUnknown, FailureKind.InvalidArgument,
            $"'{name}' is not a tenant keystore; the API has {string.Join(", ", Keystores)}.");
    }

    /// <summary>Checks an alias the user gives for a write: the tenant's rules (TenantKeystore) before any request.</summary>
    public static void CheckWriteAlias(string alias, string what) => TenantKeystore.CheckAlias(alias, what);

    /// <summary>Checks an alias used to address an entry (read, delete): not empty, not too long.</summary>
    public static void CheckAddress(string alias)
    {
        if (alias.Length == 0)
        {
            throw new CertIntegrationException(ErrorIds.KeystoreAliasInvalid, FailureKind.InvalidArgument, "The alias is empty.");
        }

        if (alias.Length > TenantKeystore.MaxAliasLength)
        {
            throw new CertIntegrationException(ErrorIds.KeystoreAliasTooLong, FailureKind.InvalidArgument,
                $"The alias has {alias.Length} characters; the tenant keystore takes at most {TenantKeystore.MaxAliasLength}.");
        }
    }

    /// <summary>Refuses SAP's reserved aliases before a delete or activation (the API answers 403 for them).</summary>
    public static void CheckNotReserved(string alias, string action)
    {
        if (TenantKeystore.ReservedPrefixOf(alias) is { } prefix)
        {
            throw new CertIntegrationException(ErrorIds.KeystoreAliasReserved, FailureKind.InvalidArgument,
                $"The alias '{alias}' begins with '{prefix}', which SAP Cloud Integration reserves for SAP-owned entries ('sap_', 'hcicertificate', 'hcimsgcertificate', in any case); they cannot be {action}. Nothing was sent.");
        }
    }

    public static async Task<List<CpiKeystoreEntry>> ListAsync(CpiClient client, string keystore, CancellationToken stop, Action<string>? verbose, Action<int>? page = null)
    {
        var entries = new List<CpiKeystoreEntry>();
        string? next = "KeystoreEntries?keystoreName=" + Uri.EscapeDataString(keystore);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int pages = 0; next is not null; pages++)
        {
            if (pages >= MaxPages || !seen.Add(next))
            {
                throw new CertIntegrationException(ErrorIds.CpiAnswerInvalid, FailureKind.ProtocolError,
                    $"The tenant {TokenAnswer.Authority(client.Endpoint.BaseUrl)} kept sending next-page links (after {pages} pages); the listing stops.");
            }

            CpiResponse r = await client.SendAsync(new CpiRequest(HttpMethod.Get, next) { What = $"the listing of the keystore '{keystore}'" }, stop, verbose).ConfigureAwait(false);
            Check(r, $"the listing of the keystore '{keystore}'", client, null);
            JObject d = Data(r, client);
            JArray results = d["results"] as JArray ?? throw Invalid(client, "a listing without d.results");
            foreach (JToken item in results)
            {
                if (item is JObject o)
                {
                    entries.Add(ToEntry(o, keystore, client.Endpoint.BaseUrl));
                }
            }

            page?.Invoke(entries.Count);
            next = d["__next"] is JToken n && n.Type == JTokenType.String ? (string?)n : null;
        }

        return entries;
    }

    /// <summary>One entry; a 404 is CpiEntryNotFound with the tenant's message.</summary>
    public static async Task<CpiKeystoreEntry> GetAsync(CpiClient client, string keystore, string alias, CancellationToken stop, Action<string>? verbose)
    {
        string what = $"the keystore entry '{alias}' of '{keystore}'";
        CpiResponse r = await client.SendAsync(new CpiRequest(HttpMethod.Get, EntryPath(alias, keystore, null)) { What = what }, stop, verbose).ConfigureAwait(false);
        Check(r, what, client, null);
        return ToEntry(Data(r, client), keystore, client.Endpoint.BaseUrl);
    }

    /// <summary>The bytes of ChainResource (PKCS#7) or Certificate ($value) of an entry.</summary>
    public static async Task<byte[]> DownloadAsync(CpiClient client, string keystore, string alias, bool chain, CancellationToken stop, Action<string>? verbose)
    {
        string what = $"the {(chain ? "chain" : "certificate")} of the keystore entry '{alias}'";
        CpiResponse r = await client.SendAsync(new CpiRequest(HttpMethod.Get, EntryPath(alias, keystore, chain ? "/ChainResource/$value" : "/Certificate/$value")) { What = what }, stop, verbose)
            .ConfigureAwait(false);
        Check(r, what, client, null);
        if (r.Body.Length == 0)
        {
            throw Invalid(client, $"an empty body for {what}");
        }

        return r.Body;
    }

    public static async Task<CpiKeystoreEntry?> UploadCertificateAsync(CpiClient client, string alias, X509Certificate2 certificate, bool update, bool fingerprintVerified,
        CancellationToken stop, Action<string>? verbose)
    {
        CheckWriteAlias(alias, "-Alias");
        byte[] der = certificate.RawData;
        if (der.Length > MaxCertificateBytes)
        {
            throw new CertIntegrationException(ErrorIds.CpiPayloadTooLarge, FailureKind.LimitsExceeded,
                $"The certificate '{certificate.Subject}' has {der.Length} bytes; the tenant takes certificates of at most {MaxCertificateBytes} bytes. Nothing was sent.");
        }

        string path = $"CertificateResources('{Hex(alias)}')/$value?fingerprintVerified={Bool(fingerprintVerified)}&update={Bool(update)}&returnKeystoreEntries=false";
        string what = $"the certificate upload of '{alias}'";
        CpiResponse r = await client.SendAsync(new CpiRequest(HttpMethod.Put, path) { Body = der, ContentType = "application/pkix-cert", What = what }, stop, verbose).ConfigureAwait(false);
        Check(r, what, client, Hint400(update));
        return EntryOrNull(r, client);
    }

    /// <summary>
    /// Imports a key pair: the bundle as PKCS#12 under a one-time random password that travels in the same JSON
    /// body and is dropped after it. <paramref name="sentPassword"/> (tests only) sees the password.
    /// </summary>
    public static async Task<CpiKeystoreEntry?> UploadKeyPairAsync(CpiClient client, string alias, CertificateBundle bundle, bool update, CancellationToken stop, Action<string>? verbose)
    {
        CheckWriteAlias(alias, "-Alias");
        if (bundle.Key is null)
        {
            throw new CertIntegrationException(ErrorIds.CertificateHasNoPrivateKey, FailureKind.InvalidArgument,
                $"The bundle '{bundle.Subject}' has no private key (or the platform does not export it); a key pair upload needs one. Nothing was sent.");
        }

        char[] password = OneTimePassword();
        byte[]? p12 = null, body = null;
        try
        {
            p12 = Containers.Pkcs12Writer.Build(bundle, password, PfxEncryption.Aes256Sha256, alias);
            if (p12.Length > MaxKeyPairBytes)
            {
                throw new CertIntegrationException(ErrorIds.CpiPayloadTooLarge, FailureKind.LimitsExceeded,
                    $"The key pair '{bundle.Subject}' with its chain of {bundle.ChainLength} is {p12.Length} bytes as PKCS#12; the tenant takes at most {MaxKeyPairBytes}. Nothing was sent.");
            }

            var json = new JObject
            {
                ["Hexalias"] = Hex(alias),
                ["Alias"] = alias,
                ["Password"] = new string(password),
                ["Resource"] = Convert.ToBase64String(p12),
            };
            body = Encoding.UTF8.GetBytes(json.ToString(Formatting.None));
            string what = $"the key pair import of '{alias}'";
            CpiResponse r = await client.SendAsync(new CpiRequest(HttpMethod.Post, "KeyPairResources?update=" + Bool(update) + "&returnKeystoreEntries=false")
            {
                Body = body,
                ContentType = "application/json",
                What = what,
            }, stop, verbose).ConfigureAwait(false);
            Check(r, what, client, Hint400(update) + " The tenant also answers 400 for an alias character it does not take or a chain it cannot check.");
            return EntryOrNull(r, client);
        }
        finally
        {
            Array.Clear(password, 0, password.Length);
            if (body is not null)
            {
                Array.Clear(body, 0, body.Length);
            }
        }
    }

    public static async Task<List<CpiKeystoreImportResult>> ImportKeystoreAsync(CpiClient client, byte[] jks, char[] password, string mode, CancellationToken stop, Action<string>? verbose)
    {
        if (jks.Length > TenantKeystore.MaxJksUploadBytes)
        {
            throw new CertIntegrationException(ErrorIds.CpiPayloadTooLarge, FailureKind.LimitsExceeded,
                $"The keystore is {jks.Length} bytes; the tenant takes a whole keystore of at most {TenantKeystore.MaxJksUploadBytes} bytes ({TenantKeystore.LimitsSource}). Nothing was sent.");
        }

        byte[]? body = null;
        try
        {
            var json = new JObject { ["Name"] = "system", ["Resource"] = Convert.ToBase64String(jks), ["Password"] = new string(password) };
            body = Encoding.UTF8.GetBytes(json.ToString(Formatting.None));
            string what = "the keystore import";
            CpiResponse r = await client.SendAsync(new CpiRequest(HttpMethod.Post, "KeystoreResources?importOption=" + mode.ToLowerInvariant() + "&returnKeystoreEntries=true")
            {
                Body = body,
                ContentType = "application/json",
                What = what,
            }, stop, verbose).ConfigureAwait(false);
            Check(r, what, client, r.Status == 400 ? "Likely cause: a wrong keystore password, or a keystore the tenant does not take." : null);
            var results = new List<CpiKeystoreImportResult>();
            if (r.Body.Length == 0)
            {
                return results;
            }

            JToken? d = Json(r, client)["d"];
            JToken? list = d is JObject o ? o["results"] : d;
            foreach (JToken item in list as JArray ?? new JArray())
            {
                if (item is JObject e)
                {
                    results.Add(new CpiKeystoreImportResult
                    {
                        Alias = (string?)e["Alias"] ?? string.Empty,
                        Status = (string?)e["Status"] ?? string.Empty,
                        Mode = mode,
                        TenantUrl = client.Endpoint.BaseUrl,
                    });
                }
            }

            return results;
        }
        finally
        {
            if (body is not null)
            {
                Array.Clear(body, 0, body.Length);
            }
        }
    }

    public static async Task DeleteAsync(CpiClient client, string keystore, string alias, bool activate, CancellationToken stop, Action<string>? verbose)
    {
        string query = activate ? "activate=true" : string.Empty;
        string what = activate ? $"the activation of the renewed entry '{alias}'" : $"the deletion of the keystore entry '{alias}' of '{keystore}'";
        CpiResponse r = await client.SendAsync(new CpiRequest(HttpMethod.Delete, EntryPath(alias, keystore, null, query)) { What = what }, stop, verbose).ConfigureAwait(false);
        Check(r, what, client, null);
    }

    private static string EntryPath(string alias, string keystore, string? tail, string? extraQuery = null)
    {
        string path = $"KeystoreEntries('{Hex(alias)}')" + (tail ?? string.Empty);
        var query = new List<string>();
        if (!string.Equals(keystore, "system", StringComparison.Ordinal))
        {
            query.Add("keystoreName=" + Uri.EscapeDataString(keystore));
        }

        if (!string.IsNullOrEmpty(extraQuery))
        {
            query.Add(extraQuery!);
        }

        return query.Count == 0 ? path : path + "?" + string.Join("&", query);
    }

    private static string? Hint400(bool update) => update
        ? "Likely cause: the entry does not exist yet (leave out -Force to add it)."
        : "Likely cause: an entry with this alias exists already (use -Force to replace it).";

    private static string Bool(bool b) => b ? "true" : "false";

    private static char[] OneTimePassword()
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        var bytes = new byte[32];
        using (var rng = RandomNumberGenerator.Create())
        {
            rng.GetBytes(bytes);
        }

        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            chars[i] = alphabet[bytes[i] % alphabet.Length];
        }

        Array.Clear(bytes, 0, bytes.Length);
        return chars;
    }

    private static void Check(CpiResponse r, string what, CpiClient client, string? hint)
    {
        if (r.Status is < 200 or >= 300)
        {
            throw CpiErrors.FromResponse(r, what, client.Endpoint.BaseUrl, hint);
        }
    }

    private static CpiKeystoreEntry? EntryOrNull(CpiResponse r, CpiClient client)
    {
        if (r.Body.Length == 0 || r.ContentType?.IndexOf("json", StringComparison.OrdinalIgnoreCase) < 0)
        {
            return null;
        }

        try
        {
            return Json(r, client)["d"] is JObject d && d["Alias"] is not null ? ToEntry(d, "system", client.Endpoint.BaseUrl) : null;
        }
        catch (CertIntegrationException)
        {
            return null;
        }
    }

    private static JObject Json(CpiResponse r, CpiClient client)
    {
        if (r.ContentType is { } type && type.IndexOf("json", StringComparison.OrdinalIgnoreCase) < 0)
        {
            throw Invalid(client, $"'{TokenAnswer.Quote(type)}' instead of JSON (it begins: \"{TokenAnswer.Quote(r.Text)}\")");
        }

        try
        {
            using var reader = new JsonTextReader(new System.IO.StringReader(r.Text)) { MaxDepth = 32, DateParseHandling = DateParseHandling.None };
            return JToken.ReadFrom(reader) as JObject ?? throw Invalid(client, "JSON that is not an object");
        }
        catch (JsonException)
        {
            throw Invalid(client, $"text that is not JSON (it begins: \"{TokenAnswer.Quote(r.Text)}\")");
        }
    }

    private static JObject Data(CpiResponse r, CpiClient client)
    {
        JObject root = Json(r, client);
        return root["d"] switch
        {
            JObject d => d,
            JArray a => new JObject { ["results"] = a },
            _ => throw Invalid(client, "JSON without the OData 'd' object"),
        };
    }

    private static CertIntegrationException Invalid(CpiClient client, string what) =>
        new(ErrorIds.CpiAnswerInvalid, FailureKind.ProtocolError,
            $"The tenant {TokenAnswer.Authority(client.Endpoint.BaseUrl)} answered with {what}, not the OData V2 JSON of the Security Content API. " +
            "Likely cause: the service key's url is not the tenant's API URL of an api-plan key.");

    private static CpiKeystoreEntry ToEntry(JObject o, string keystore, Uri tenant)
    {
        string alias = (string?)o["Alias"] ?? string.Empty;
        return new CpiKeystoreEntry
        {
            Keystore = keystore,
            Alias = alias,
            Hexalias = (string?)o["Hexalias"] ?? Hex(alias),
            Type = (string?)o["Type"],
            Owner = (string?)o["Owner"],
            Subject = (string?)o["SubjectDN"],
            Issuer = (string?)o["IssuerDN"],
            SerialNumber = (string?)o["SerialNumber"],
            NotBefore = ParseDate(o["ValidNotBefore"])?.UtcDateTime,
            NotAfter = ParseDate(o["ValidNotAfter"])?.UtcDateTime,
            KeyType = (string?)o["KeyType"],
            KeySize = o["KeySize"] is { Type: JTokenType.Integer } k ? (int?)k : int.TryParse((string?)o["KeySize"], NumberStyles.None, CultureInfo.InvariantCulture, out int ks) ? ks : null,
            SignatureAlgorithm = (string?)o["SignatureAlgorithm"],
            FingerprintSha1 = (string?)o["FingerprintSha1"],
            FingerprintSha256 = (string?)o["FingerprintSha256"],
            Status = (string?)o["Status"],
            LastModifiedBy = (string?)o["LastModifiedBy"],
            LastModifiedTime = ParseDate(o["LastModifiedTime"]),
            TenantUrl = tenant,
        };
    }
}
