using System;
using System.IO;
using System.Management.Automation;
using CertIntegration.Core.Cpi;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Connects to a Cloud Integration tenant's API with an api-plan service key (client secret or certificate).</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "CpiTenant", HelpUri = HelpUris.Base + "connect-cpitenant")]
[OutputType(typeof(CpiConnection))]
public sealed class ConnectCpiTenantCommand : CancellableCmdlet
{
    private ServerCertificateValidator _validator = new(null);
    private ProxySettings? _proxy;

    /// <summary>The api-plan service key: a path, its JSON text, a ConvertFrom-Json object or hashtable, or a bundle from ConvertFrom-ServiceKey.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public PSObject? ServiceKey { get; set; }

    /// <summary>Extra roots trusted for the tenant's and the token server's certificates.</summary>
    [Parameter]
    public PSObject[]? TrustedCertificate { get; set; }

    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>Timeout of each request of this connection, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 60;

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
        if (ServiceKey is null)
        {
            return;
        }

        CpiClient? client = null;
        try
        {
            CpiEndpoint endpoint = ReadKey(ServiceKey);
            client = new CpiClient(endpoint, _validator, _proxy, TimeoutSec);
            var held = new HeldMessages();
            try
            {
                Await(Token(client, held));
            }
            finally
            {
                held.WriteTo(this);
            }

            var connection = new CpiConnection(client);
            CpiCmdlet.SetLastConnection(this, connection);
            WriteObject(connection);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            client?.Dispose();
            WriteFailure(ex, ServiceKey.BaseObject is string ? null : ServiceKey);
        }
    }

    private async System.Threading.Tasks.Task<bool> Token(CpiClient client, HeldMessages held)
    {
        await client.EnsureTokenAsync(StopToken, held.Verbose).ConfigureAwait(false);
        return true;
    }

    private CpiEndpoint ReadKey(PSObject input)
    {
        switch (input.BaseObject)
        {
            case CertificateBundle bundle:
                return CpiServiceKey.FromBundle(bundle, bundle.Source is { Length: > 0 } s ? $"The service key '{s}'" : "The service key bundle");
            case FileInfo file:
                return FromFile(file.FullName);
            case string text when text.IndexOf('{') >= 0:
                return CpiServiceKey.FromText(text, "The service key text");
            case string path:
                var files = ResolveExisting(path, literal: false);
                if (files.Count != 1)
                {
                    throw new CertIntegrationException(ErrorIds.CpiServiceKeyInvalid, FailureKind.InvalidArgument, $"-ServiceKey '{path}' names {files.Count} files; give one.");
                }

                return FromFile(files[0]);
            default:
                if (FilePathOf(input) is { } p)
                {
                    return FromFile(p);
                }

                return CpiServiceKey.FromJson(PSObjectAdapter.ToJObject(input), "The service key object");
        }
    }

    private static CpiEndpoint FromFile(string path)
    {
        var info = new FileInfo(path);
        if (info.Exists && info.Length > Limits.MaxInputBytes)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded, $"The service key '{path}' is larger than {Limits.MaxInputBytes} bytes.");
        }

        return CpiServiceKey.FromText(File.ReadAllText(path), $"The service key '{path}'");
    }
}
