using System;

namespace CertIntegration;

/// <summary>
/// An OAuth access token that Get-ServiceKeyToken fetched with a service key's certificate (client credentials over
/// mTLS). The token itself is a SecureString, or a string with -AsPlainText; it is never part of ToString().
/// </summary>
public sealed class ServiceKeyToken
{
    /// <summary>The access token: a SecureString, or a string when -AsPlainText was given.</summary>
    public object? AccessToken { get; internal set; }

    /// <summary>The token type the server named, usually "bearer".</summary>
    public string? TokenType { get; internal set; }

    /// <summary>When the token expires (UTC): the time of the request plus the server's expires_in; null when it sent none.</summary>
    public DateTimeOffset? ExpiresOn { get; internal set; }

    /// <summary>The scopes the server granted, as it sent them (space-separated); null when it sent none.</summary>
    public string? Scope { get; internal set; }

    /// <summary>The OAuth client the token was issued to (the service key's clientid).</summary>
    public string? ClientId { get; internal set; }

    /// <summary>The token URL that was called (after the .authentication. to .authentication.cert. rule).</summary>
    public Uri? TokenUrl { get; internal set; }

    /// <summary>Type, client and expiry; never the token.</summary>
    public override string ToString() => $"{TokenType} token for {ClientId}" + (ExpiresOn is { } e ? $", expires {e.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z" : string.Empty);
}
