using System;
using System.Management.Automation;
using System.Security;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Gets an OAuth access token with a certificate service key: client credentials over mTLS, no client secret.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ServiceKeyToken", HelpUri = HelpUris.Base + "get-servicekeytoken")]
[OutputType(typeof(ServiceKeyToken))]
public sealed class GetServiceKeyTokenCommand : CancellableCmdlet
{
    /// <summary>Longest lifetime taken from expires_in (ten years); a larger value is treated as this.</summary>
    private const long MaxExpiresInSeconds = 10L * 366 * 24 * 3600;

    private ServerCertificateValidator _validator = new(null);
    private ProxySettings? _proxy;

    /// <summary>A bundle with its key and, from a service key, its clientid and tokenurl (ConvertFrom-ServiceKey).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public CertificateBundle? InputObject { get; set; }

    /// <summary>The OAuth client id; default the bundle's ClientId (the service key's clientid).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientId { get; set; }

    /// <summary>The token URL; default the bundle's TokenUrl (the service key's tokenurl).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TokenUrl { get; set; }

    /// <summary>Extra roots trusted for the token server's certificate (a private token server).</summary>
    [Parameter]
    public PSObject[]? TrustedCertificate { get; set; }

    /// <summary>An HTTP proxy (http://host:port) to reach the token server through.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>Basic credentials for -Proxy.</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    /// <summary>Return AccessToken as a string instead of a SecureString.</summary>
    [Parameter]
    public SwitchParameter AsPlainText { get; set; }

    protected override void BeginProcessing()
    {
        try
        {
            _validator = new ServerCertificateValidator(CertificateInput.TrustedRoots(this, TrustedCertificate));
            _proxy = ProxyInput.From(Proxy, ProxyCredential);
        }
        catch (CertIntegrationException ex)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex, null));
        }
    }

    protected override void ProcessRecord()
    {
        CertificateBundle? bundle = InputObject;
        if (bundle is null)
        {
            return;
        }

        var held = new HeldMessages();
        try
        {
            ServiceKeyToken token = Fetch(bundle, held);
            held.WriteTo(this);
            WriteObject(token);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            held.WriteTo(this);
            WriteFailure(ex, bundle);
        }
    }

    private ServiceKeyToken Fetch(CertificateBundle bundle, HeldMessages held)
    {
        string origin = bundle.Source is { Length: > 0 } source ? $"The service key '{source}'" : $"The bundle '{bundle.Subject}'";
        string clientId = ClientId ?? bundle.ClientId ?? throw new CertIntegrationException(ErrorIds.TokenClientIdMissing, FailureKind.InvalidArgument,
            $"{origin} has no client id; pass -ClientId (the service key's clientid) or read the bundle from the service key with ConvertFrom-ServiceKey.");
        if (clientId.Trim().Length == 0)
        {
            throw new CertIntegrationException(ErrorIds.TokenClientIdMissing, FailureKind.InvalidArgument, $"{origin} has an empty client id; pass -ClientId.");
        }

        Uri url = TokenEndpoint.Parse(TokenUrl ?? bundle.TokenUrl, origin);
        if (TokenEndpoint.ToCertificateHost(url) is { } certUrl)
        {
            held.Verbose($"The token URL's host '{url.Host}' is SAP's plain token host, which never asks for a client certificate; using the certificate host '{certUrl.Host}' instead.");
            url = certUrl;
        }

        using ClientCredential credential = ClientCredential.FromBundle(bundle);
        foreach (string problem in credential.LocalProblems(DateTime.UtcNow))
        {
            held.Warning(problem);
        }

        if (credential.IntermediatesSChannelCannotFind() is { Count: > 0 } missing)
        {
            held.Warning("Windows PowerShell sends with the client certificate only the intermediate CAs Windows finds in its certificate stores, and these are not there: "
                + string.Join("; ", missing) + ". A token server that trusts only the root then rejects the certificate. Import them into Cert:\\CurrentUser\\CA, or use PowerShell 7, which sends the whole chain.");
        }

        var request = new TokenRequest(url, clientId.Trim(), credential, _validator) { Proxy = _proxy, TimeoutSec = TimeoutSec };
        DateTimeOffset requestedAt = DateTimeOffset.UtcNow;
        TokenGrant grant = Await(TokenClient.RequestAsync(request, StopToken, held.Verbose));

        DateTimeOffset? expiresOn = grant.ExpiresInSeconds is long seconds ? requestedAt.AddSeconds(Math.Min(seconds, MaxExpiresInSeconds)) : null;
        held.Verbose($"Got a token of type '{grant.TokenType}' for '{request.ClientId}'"
            + (expiresOn is { } e ? $", valid until {e.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : ", with no expires_in")
            + (grant.Scope is { Length: > 0 } scope ? $"; scope: {TokenAnswer.Quote(scope)}." : "."));
        return new ServiceKeyToken
        {
            AccessToken = AsPlainText ? grant.AccessToken : Secure(grant.AccessToken),
            TokenType = grant.TokenType,
            ExpiresOn = expiresOn,
            Scope = grant.Scope,
            ClientId = request.ClientId,
            TokenUrl = url,
        };
    }

    private static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text)
        {
            secure.AppendChar(c);
        }

        secure.MakeReadOnly();
        return secure;
    }
}
