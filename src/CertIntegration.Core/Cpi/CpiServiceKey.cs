using System;
using System.Linq;
using CertIntegration.Core.ServiceKeys;
using CertIntegration.Core.Tls;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.Cpi;

/// <summary>How a connection authenticates: where the API is, where tokens come from, and the client's secret or certificate.</summary>
internal sealed class CpiEndpoint
{
    public CpiEndpoint(Uri baseUrl, Uri tokenUrl, string clientId, string? clientSecret, CertificateBundle? certificate)
    {
        BaseUrl = baseUrl;
        TokenUrl = tokenUrl;
        ClientId = clientId;
        ClientSecret = clientSecret;
        Certificate = certificate;
    }

    /// <summary>The tenant's url from the key (no trailing slash); the API is under /api/v1.</summary>
    public Uri BaseUrl { get; }

    public Uri TokenUrl { get; }

    public string ClientId { get; }

    /// <summary>The client secret; never shown.</summary>
    public string? ClientSecret { get; }

    /// <summary>The certificate with its key, for a certificate key of the api plan.</summary>
    public CertificateBundle? Certificate { get; }

    public Uri ApiRoot => new(BaseUrl.AbsoluteUri.TrimEnd('/') + "/api/v1/");
}

/// <summary>
/// Reads a Process Integration Runtime service key of the "api" plan: <c>{"oauth":{"url","clientid","clientsecret",
/// "tokenurl"}}</c> (client credentials with a secret), or the certificate variant with "certificate" and "key" instead
/// of the secret (read by the same reader as ConvertFrom-ServiceKey). Also the cf CLI shape <c>{"credentials":{...}}</c>
/// and bare fields. Nothing secret ever goes into a message.
/// </summary>
internal static class CpiServiceKey
{
    public static CpiEndpoint FromText(string text, string source)
    {
        var docs = ServiceKeyFraming.ParseDocuments(text, source);
        if (docs.Count != 1)
        {
            throw new CertIntegrationException(ErrorIds.CpiServiceKeyInvalid, FailureKind.InvalidData,
                $"{source} holds {docs.Count} JSON documents; -ServiceKey takes one api-plan service key.");
        }

        return FromJson(docs[0], source);
    }

    public static CpiEndpoint FromJson(JObject root, string source)
    {
        JObject creds = Credentials(root);
        string? url = Text(creds, "url") ?? Text(root, "url");
        string? clientId = Text(creds, "clientid", "client_id");
        string? secret = Text(creds, "clientsecret", "client_secret");
        string? tokenUrl = Text(creds, "tokenurl", "token_url");
        bool hasCertificate = Text(creds, "certificate") is { Length: > 0 };

        if (string.IsNullOrWhiteSpace(url))
        {
            throw new CertIntegrationException(ErrorIds.CpiServiceKeyInvalid, FailureKind.InvalidData,
                $"{source} has no 'url'. An api-plan Process Integration Runtime service key has {{\"oauth\":{{\"url\",\"clientid\",\"clientsecret\",\"tokenurl\"}}}}; " +
                "a key of the integration-flow plan does not reach the API (see README, Tenant keystore API).");
        }

        if (string.IsNullOrWhiteSpace(clientId))
        {
            throw new CertIntegrationException(ErrorIds.CpiServiceKeyInvalid, FailureKind.InvalidData, $"{source} has no 'clientid'.");
        }

        if (string.IsNullOrEmpty(secret) && !hasCertificate)
        {
            throw new CertIntegrationException(ErrorIds.CpiServiceKeyInvalid, FailureKind.InvalidData,
                $"{source} has neither a 'clientsecret' nor a 'certificate'; an api-plan key has one of them.");
        }

        Uri baseUrl = Https(url!, source, "url");
        Uri token = TokenEndpoint.Parse(tokenUrl, source);
        CertificateBundle? bundle = null;
        if (string.IsNullOrEmpty(secret))
        {
            bundle = ServiceKeyReader.Read(root, source);
            if (!bundle.HasPrivateKey)
            {
                throw new CertIntegrationException(ErrorIds.CertificateHasNoPrivateKey, FailureKind.InvalidData,
                    $"{source} is a certificate key without its private key (certificate_external); give the key with it to authenticate.");
            }

            if (TokenEndpoint.ToCertificateHost(token) is { } certHost)
            {
                token = certHost;
            }
        }

        return new CpiEndpoint(baseUrl, token, clientId!.Trim(), string.IsNullOrEmpty(secret) ? null : secret, bundle);
    }

    /// <summary>An endpoint from a bundle of ConvertFrom-ServiceKey (a certificate key of the api plan).</summary>
    public static CpiEndpoint FromBundle(CertificateBundle bundle, string source)
    {
        if (string.IsNullOrWhiteSpace(bundle.Url) || string.IsNullOrWhiteSpace(bundle.ClientId))
        {
            throw new CertIntegrationException(ErrorIds.CpiServiceKeyInvalid, FailureKind.InvalidData,
                $"{source} has no url or clientid: pass the service key file (or its text) of the api plan to -ServiceKey.");
        }

        if (!bundle.HasPrivateKey)
        {
            throw new CertIntegrationException(ErrorIds.CertificateHasNoPrivateKey, FailureKind.InvalidData, $"{source} has no private key to authenticate with.");
        }

        Uri token = TokenEndpoint.Parse(bundle.TokenUrl, source);
        return new CpiEndpoint(Https(bundle.Url!, source, "url"), TokenEndpoint.ToCertificateHost(token) ?? token, bundle.ClientId!.Trim(), null, bundle);
    }

    private static Uri Https(string text, string source, string field)
    {
        if (!Uri.TryCreate(UriText.WithDefaultScheme(text.Trim(), hasBase: false), UriKind.Absolute, out Uri? uri) || uri.Host.Length == 0)
        {
            throw new CertIntegrationException(ErrorIds.UriInvalid, FailureKind.InvalidData, $"{source} field '{field}' ('{UriText.Redact(text)}') is not a URL.");
        }

        if (!string.Equals(uri.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
        {
            throw new CertIntegrationException(ErrorIds.UriNotHttps, FailureKind.InvalidData, $"{source} field '{field}' ('{UriText.Redact(text)}') is not an https:// URL.");
        }

        return UriText.WithoutUserInfo(uri);
    }

    private static JObject Credentials(JObject root)
    {
        JObject current = root;
        for (int i = 0; i < 3; i++)
        {
            if (current.GetValue("clientid", StringComparison.OrdinalIgnoreCase) is not null)
            {
                return current;
            }

            JToken? next = current.GetValue("oauth", StringComparison.OrdinalIgnoreCase) ?? current.GetValue("credentials", StringComparison.OrdinalIgnoreCase);
            if (next is not JObject o)
            {
                break;
            }

            current = o;
        }

        return current;
    }

    private static string? Text(JObject obj, params string[] names) =>
        names.Select(n => obj.GetValue(n, StringComparison.OrdinalIgnoreCase)).Where(t => t is not null && t.Type != JTokenType.Null)
            .Select(t => t!.Type == JTokenType.String ? (string?)t : t.ToString(Formatting.None)).FirstOrDefault();
}
