using System;
using System.IO;
using System.Net;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.CloudFoundry;

/// <summary>
/// What the cf CLI keeps after <c>cf login</c> in <c>$CF_HOME/.cf/config.json</c> (else <c>~/.cf/config.json</c>):
/// the API endpoint (Target), the bearer token and refresh token, the UAA endpoint and the targeted org and space.
/// </summary>
internal sealed class CfConfig
{
    /// <summary>Largest config file read; the cf CLI writes a few kilobytes.</summary>
    public const int MaxConfigBytes = 1024 * 1024;

    public string Path { get; private set; } = string.Empty;

    public Uri? Target { get; private set; }

    /// <summary>The access token without its "bearer " prefix; null when the session has none.</summary>
    public string? AccessToken { get; private set; }

    public string? RefreshToken { get; private set; }

    public Uri? UaaEndpoint { get; private set; }

    public string? SpaceGuid { get; private set; }

    public string? SpaceName { get; private set; }

    public string? OrganizationGuid { get; private set; }

    public string? OrganizationName { get; private set; }

    /// <summary>The config file of the cf CLI: $CF_HOME/.cf/config.json when CF_HOME is set, else ~/.cf/config.json.</summary>
    public static string DefaultPath(string? cfHome, string userHome) =>
        System.IO.Path.Combine(string.IsNullOrEmpty(cfHome) ? userHome : cfHome!, ".cf", "config.json");

    /// <summary>The session of the config file at <paramref name="path"/>, or null when the file does not exist.</summary>
    public static CfConfig? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        FileInfo info = new(path);
        if (info.Length > MaxConfigBytes)
        {
            throw new CertIntegrationException(ErrorIds.CfConfigInvalid, FailureKind.InvalidData,
                $"The cf CLI config '{path}' is {info.Length} bytes, more than a cf config holds; it is not read.");
        }

        JObject root;
        try
        {
            using var reader = new JsonTextReader(new StringReader(File.ReadAllText(path))) { MaxDepth = 32, DateParseHandling = DateParseHandling.None };
            root = JToken.ReadFrom(reader) as JObject ?? throw new JsonReaderException("not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new CertIntegrationException(ErrorIds.CfConfigInvalid, FailureKind.InvalidData,
                $"The cf CLI config '{path}' is not valid JSON ({Messages.Clause(ex.Message)}). Run 'cf login' again, or pass -ApiEndpoint with -Credential or -Token.", ex);
        }

        var config = new CfConfig
        {
            Path = path,
            Target = ParseUri(Text(root, "Target"), path, "Target"),
            RefreshToken = Text(root, "RefreshToken"),
            UaaEndpoint = ParseUri(Text(root, "UaaEndpoint"), path, "UaaEndpoint"),
            SpaceGuid = Text(root["SpaceFields"], "GUID"),
            SpaceName = Text(root["SpaceFields"], "Name"),
            OrganizationGuid = Text(root["OrganizationFields"], "GUID"),
            OrganizationName = Text(root["OrganizationFields"], "Name"),
        };
        string? access = Text(root, "AccessToken");
        if (access is not null && access.StartsWith("bearer ", StringComparison.OrdinalIgnoreCase))
        {
            access = access.Substring(7).Trim();
        }

        config.AccessToken = string.IsNullOrEmpty(access) ? null : access;
        return config;
    }

    private static string? Text(JToken? parent, string name) =>
        parent is JObject o && o.GetValue(name, StringComparison.OrdinalIgnoreCase) is JValue { Type: JTokenType.String } v && ((string?)v) is { Length: > 0 } s ? s : null;

    private static Uri? ParseUri(string? text, string path, string field)
    {
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new CertIntegrationException(ErrorIds.CfConfigInvalid, FailureKind.InvalidData,
                $"The cf CLI config '{path}' has a {field} that is not an http(s) URL. Run 'cf api' and 'cf login' again.");
        }

        return uri;
    }
}

/// <summary>How the cmdlets authenticate to the Cloud Foundry API: the cf session, a password grant or a given token.</summary>
internal sealed class CfAuthentication
{
    public Uri ApiEndpoint { get; set; } = null!;

    /// <summary>The current access token (without "bearer "); replaced on refresh, never shown.</summary>
    public string? AccessToken { get; set; }

    public string? RefreshToken { get; set; }

    public Uri? UaaEndpoint { get; set; }

    /// <summary>User name and password for the password grant (-Credential).</summary>
    public NetworkCredential? Password { get; set; }

    /// <summary>Where the session came from, for messages: "the cf session in '...'", "-Credential", "-Token".</summary>
    public string Origin { get; set; } = string.Empty;

    /// <summary>The targeted space of the cf session, when there is one.</summary>
    public string? SpaceGuid { get; set; }

    public string? SpaceName { get; set; }

    public string? OrganizationGuid { get; set; }

    /// <summary>
    /// The authentication for one cmdlet call. A given token (-Token) or user (-Credential) wins; otherwise the cf
    /// session of <paramref name="config"/> is used, but only for its own API endpoint: with an -ApiEndpoint that is not
    /// the session's Target the session's tokens are never sent there.
    /// </summary>
    public static CfAuthentication Resolve(CfConfig? config, string configPath, Uri? apiEndpoint, NetworkCredential? password, string? token)
    {
        if (apiEndpoint is not null && (!apiEndpoint.IsAbsoluteUri || apiEndpoint.Scheme != Uri.UriSchemeHttps || apiEndpoint.Host.Length == 0 || apiEndpoint.UserInfo.Length > 0))
        {
            throw new CertIntegrationException(ErrorIds.UriInvalid, FailureKind.InvalidArgument,
                "-ApiEndpoint takes the https:// URL of the Cloud Foundry API (for example https://api.cf.eu10.hana.ondemand.com), without a user name or password.");
        }

        Uri? target = apiEndpoint ?? config?.Target;
        if (target is null)
        {
            throw new CertIntegrationException(ErrorIds.CfApiEndpointMissing, FailureKind.InvalidArgument,
                config is null
                    ? $"There is no cf session ('{configPath}' does not exist). Run 'cf login', or pass -ApiEndpoint with -Credential or -Token."
                    : $"The cf session in '{configPath}' targets no API endpoint. Run 'cf api' and 'cf login', or pass -ApiEndpoint.");
        }

        if (target.Scheme != Uri.UriSchemeHttps)
        {
            throw new CertIntegrationException(ErrorIds.UriNotHttps, FailureKind.InvalidArgument,
                $"The Cloud Foundry API endpoint '{target.GetLeftPart(UriPartial.Authority)}' is not https; the token is sent only over TLS.");
        }

        bool sameTarget = config?.Target is { } t && SameEndpoint(t, target);
        var auth = new CfAuthentication { ApiEndpoint = new Uri(target.GetLeftPart(UriPartial.Authority) + "/") };
        if (sameTarget)
        {
            auth.UaaEndpoint = config!.UaaEndpoint;
            auth.SpaceGuid = config.SpaceGuid;
            auth.SpaceName = config.SpaceName;
            auth.OrganizationGuid = config.OrganizationGuid;
        }

        if (token is not null)
        {
            string bare = token.Trim();
            if (bare.StartsWith("bearer ", StringComparison.OrdinalIgnoreCase))
            {
                bare = bare.Substring(7).Trim();
            }

            if (bare.Length == 0)
            {
                throw new CertIntegrationException(ErrorIds.CfNotLoggedIn, FailureKind.InvalidArgument, "-Token is empty.");
            }

            auth.AccessToken = bare;
            auth.Origin = "-Token";
        }
        else if (password is not null)
        {
            if (password.UserName.Length == 0)
            {
                throw new CertIntegrationException(ErrorIds.CfNotLoggedIn, FailureKind.InvalidArgument, "-Credential has no user name.");
            }

            auth.Password = password;
            auth.Origin = $"-Credential (user '{password.UserName}')";
        }
        else if (sameTarget)
        {
            auth.AccessToken = config!.AccessToken;
            auth.RefreshToken = config.RefreshToken;
            auth.Origin = $"the cf session in '{configPath}'";
            if (auth.AccessToken is null && auth.RefreshToken is null)
            {
                throw new CertIntegrationException(ErrorIds.CfNotLoggedIn, FailureKind.AuthenticationError,
                    $"The cf session in '{configPath}' is not logged in (it has no access token). Run 'cf login', or pass -Credential or -Token.");
            }
        }
        else
        {
            throw new CertIntegrationException(ErrorIds.CfNotLoggedIn, FailureKind.AuthenticationError,
                config?.Target is { } other
                    ? $"The cf session in '{configPath}' is for {other.GetLeftPart(UriPartial.Authority)}, not {target.GetLeftPart(UriPartial.Authority)}; its token is not sent elsewhere. Pass -Credential or -Token, or log in to that endpoint with cf login."
                    : $"There is no cf session for {target.GetLeftPart(UriPartial.Authority)}. Pass -Credential or -Token, or run 'cf login'.");
        }

        return auth;
    }

    private static bool SameEndpoint(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
