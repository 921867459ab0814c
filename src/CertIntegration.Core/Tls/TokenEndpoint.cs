using System;

namespace CertIntegration.Core.Tls;

/// <summary>
/// The token URL of a certificate service key. SAP's token server authenticates a client by its certificate only on
/// the <c>.authentication.cert.</c> host; the plain <c>.authentication.</c> host never asks for a certificate and
/// answers 401. A URL with the plain host is moved to the certificate host.
/// </summary>
internal static class TokenEndpoint
{
    private const string PlainLabel = ".authentication.";
    private const string CertLabel = ".authentication.cert.";

    /// <summary>The absolute https:// URL of <paramref name="text"/>, without user information; else a clear error.</summary>
    public static Uri Parse(string? text, string origin)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CertIntegrationException(ErrorIds.TokenUrlMissing, FailureKind.InvalidArgument,
                $"{origin} has no token URL; pass -TokenUrl (the service key's tokenurl, https://<subdomain>.authentication.cert.<region>.hana.ondemand.com/oauth/token).");
        }

        string trimmed = text!.Trim();
        if (!Uri.TryCreate(UriText.WithDefaultScheme(trimmed, hasBase: false), UriKind.Absolute, out Uri? uri) || uri.Host.Length == 0)
        {
            throw new CertIntegrationException(ErrorIds.UriInvalid, FailureKind.InvalidArgument, $"The token URL '{UriText.Redact(trimmed)}' is not a valid URL.");
        }

        if (!string.Equals(uri.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
        {
            throw new CertIntegrationException(ErrorIds.UriNotHttps, FailureKind.InvalidArgument,
                $"The token URL '{UriText.Redact(trimmed)}' is not an https:// URL; a client certificate is only presented over TLS.");
        }

        return UriText.WithoutUserInfo(uri);
    }

    /// <summary>
    /// The URL on the certificate host: "sub.authentication.eu10.hana.ondemand.com" becomes
    /// "sub.authentication.cert.eu10.hana.ondemand.com"; port, path and query stay. Null when nothing changes (the
    /// host is the certificate host already, or has no ".authentication." label).
    /// </summary>
    public static Uri? ToCertificateHost(Uri url)
    {
        string host = url.Host;
        if (host.IndexOf(CertLabel, StringComparison.OrdinalIgnoreCase) >= 0)
        {
            return null;
        }

        int at = host.IndexOf(PlainLabel, StringComparison.OrdinalIgnoreCase);
        if (at <= 0)
        {
            return null;
        }

        string certHost = host.Substring(0, at) + CertLabel + host.Substring(at + PlainLabel.Length);
        return new UriBuilder(url) { Host = certHost }.Uri;
    }
}
