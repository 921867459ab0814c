using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Net;
using System.Runtime.InteropServices;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using CertIntegration.Core.CloudFoundry;

namespace CertIntegration.Commands;

/// <summary>
/// Shared by the Cf cmdlets: the service instance and space, the three sources of authentication (the cf session,
/// -Credential, -Token), TLS trust and proxy, and a pump that writes the core's verbose messages and job progress on
/// the pipeline thread while a request runs.
/// </summary>
public abstract class CfCommand : CancellableCmdlet
{
    private readonly BlockingCollection<Action> _posted = new();
    private CfClient? _client;
    private CfServiceKeys? _keys;

    /// <summary>The name of the Process Integration Runtime service instance.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string ServiceInstance { get; set; } = string.Empty;

    /// <summary>The space of the instance, by name; default the cf session's target space.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Space { get; set; }

    /// <summary>The Cloud Foundry API endpoint; default the cf session's Target.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? ApiEndpoint { get; set; }

    /// <summary>A user and password for the UAA password grant instead of the cf session.</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? Credential { get; set; }

    /// <summary>A bearer token (cf oauth-token) instead of the cf session.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? Token { get; set; }

    /// <summary>Extra roots trusted for the API's and UAA's certificates.</summary>
    [Parameter]
    public PSObject[]? TrustedCertificate { get; set; }

    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>How long to wait for each answer of the API, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    internal CfServiceKeys Keys => _keys ??= Connect();

    internal void Verbose(string message) => _posted.Add(() => WriteVerbose(message));

    internal void Post(Action action) => _posted.Add(action);

    /// <summary>Runs core work, writing what it posts (verbose, progress) on the pipeline thread as it comes.</summary>
    internal T Run<T>(Func<CancellationToken, Task<T>> work)
    {
        Task<T> task = Task.Run(() => work(StopToken));
        try
        {
            while (!task.IsCompleted)
            {
                if (_posted.TryTake(out Action? action, 50, StopToken))
                {
                    action();
                }
            }
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        finally
        {
            while (_posted.TryTake(out Action? action))
            {
                action();
            }
        }

        return Await(task);
    }

    /// <summary>Shows a job's state while it is waited for.</summary>
    internal Action<CfJobProgress> JobProgress(string activity) => p => Post(() =>
    {
        var record = new ProgressRecord(1, activity, $"Job {p.State}, poll {p.Polls}, {p.Elapsed.TotalSeconds:0} s of at most {p.Timeout.TotalSeconds:0} s")
        {
            PercentComplete = (int)Math.Min(99, p.Elapsed.TotalSeconds * 100 / Math.Max(1, p.Timeout.TotalSeconds)),
        };
        if (p.State is "COMPLETE" or "FAILED")
        {
            record.RecordType = ProgressRecordType.Completed;
        }

        WriteProgress(record);
    });

    internal void EndProgress(string activity) =>
        WriteProgress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });

    /// <summary>A description of the target for ShouldProcess, from the parameters alone (no request is sent).</summary>
    internal string TargetText(string keyName) =>
        $"service key '{keyName}' of service instance '{ServiceInstance}'" + (Space is null ? string.Empty : $" in space '{Space}'");

    private CfServiceKeys Connect()
    {
        string path = CfConfig.DefaultPath(Environment.GetEnvironmentVariable("CF_HOME"), Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
        CfConfig? config;
        try
        {
            config = CfConfig.Load(path);
        }
        catch (CertIntegrationException ex) when (ApiEndpoint is not null && (Credential is not null || Token is not null))
        {
            WriteVerbose($"The cf session is not used: {ex.Message}");
            config = null;
        }

        NetworkCredential? password = Credential is null || Credential == PSCredential.Empty ? null : Credential.GetNetworkCredential();
        CfAuthentication auth = CfAuthentication.Resolve(config, path, ApiEndpoint, password, Plain(Token));
        WriteVerbose($"Cloud Foundry API {auth.ApiEndpoint.GetLeftPart(UriPartial.Authority)} with {auth.Origin}"
            + (auth.SpaceName is { } s && Space is null ? $"; target space '{s}'." : "."));
        var validator = new ServerCertificateValidator(CertificateInput.TrustedRoots(this, TrustedCertificate));
        _client = new CfClient(auth, validator, ProxyInput.From(Proxy, ProxyCredential), TimeoutSec, Verbose);
        return new CfServiceKeys(_client, auth);
    }

    private static string? Plain(SecureString? secure)
    {
        if (secure is null)
        {
            return null;
        }

        IntPtr ptr = IntPtr.Zero;
        try
        {
            ptr = Marshal.SecureStringToGlobalAllocUnicode(secure);
            return Marshal.PtrToStringUni(ptr);
        }
        finally
        {
            if (ptr != IntPtr.Zero)
            {
                Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _client?.Dispose();
            _posted.Dispose();
        }

        base.Dispose(disposing);
    }
}
