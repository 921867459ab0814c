using System;
using CertIntegration.Core.Cpi;

namespace CertIntegration;

/// <summary>
/// A connection to one Cloud Integration tenant's API, made by Connect-CpiTenant: the base URL, the client and how it
/// authenticates. The token, the CSRF token and the session's cookies stay inside (never a property); one connection
/// belongs to the session that made it.
/// </summary>
public sealed class CpiConnection
{
    internal CpiConnection(CpiClient client)
    {
        Client = client;
        ConnectedOn = DateTimeOffset.UtcNow;
    }

    /// <summary>The tenant's URL from the service key; the API is under /api/v1.</summary>
    public Uri BaseUrl => Client.Endpoint.BaseUrl;

    public Uri TokenUrl => Client.Endpoint.TokenUrl;

    public string ClientId => Client.Endpoint.ClientId;

    /// <summary>ClientSecret or Certificate.</summary>
    public string Authentication => Client.Endpoint.ClientSecret is null ? "Certificate" : "ClientSecret";

    /// <summary>When the token in hand expires (UTC); a new one is fetched shortly before.</summary>
    public DateTimeOffset? TokenExpiresOn => Client.TokenExpiresOn;

    public DateTimeOffset ConnectedOn { get; }

    internal CpiClient Client { get; }

    public override string ToString() => $"{BaseUrl.GetLeftPart(UriPartial.Authority)} ({ClientId}, {Authentication})";
}
