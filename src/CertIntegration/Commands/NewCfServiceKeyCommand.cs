using System;
using System.Management.Automation;
using CertIntegration.Core.CloudFoundry;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Creates a service key of a Process Integration Runtime instance through the Cloud Foundry API and returns its certificate bundle.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "CfServiceKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpUris.Base + "new-cfservicekey")]
[OutputType(typeof(CfServiceKey))]
public sealed class NewCfServiceKeyCommand : CfCommand
{
    /// <summary>The name of the new key.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>The key's parameters: New-ServiceKeyParameter's JSON text or hashtable, or any JSON object.</summary>
    [Parameter(Position = 2)]
    [ValidateNotNull]
    public object? Parameter { get; set; }

    /// <summary>How long to wait for the creation job, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int JobTimeoutSec { get; set; } = 600;

    protected override void ProcessRecord()
    {
        JObject? parameters;
        try
        {
            parameters = Parameter is null ? null : CfParameterInput.ToJson(Parameter);
        }
        catch (CertIntegrationException ex)
        {
            WriteFailure(ex, Parameter);
            return;
        }

        string target = TargetText(Name);
        if (!ShouldProcess(target + (parameters is null ? string.Empty : $" with parameters {parameters.ToString(Newtonsoft.Json.Formatting.None)}"), "Create"))
        {
            return;
        }

        string activity = $"Creating the service key '{Name}' of '{ServiceInstance}'";
        try
        {
            CfServiceKeys keys = Keys;
            CfServiceKey key = Run(async ct =>
            {
                (string? spaceGuid, string? spaceName) = await keys.SpaceAsync(Space, ct).ConfigureAwait(false);
                CfInstance instance = await keys.InstanceAsync(ServiceInstance, spaceGuid, spaceName, ct).ConfigureAwait(false);
                if ((await keys.KeysAsync(instance, Name, ct).ConfigureAwait(false)).Count > 0)
                {
                    throw new CertIntegrationException(ErrorIds.CfServiceKeyExists, FailureKind.ResourceExists,
                        $"The service instance '{instance.Name}' has a service key '{Name}' already; choose another name, or remove it first (Remove-CfServiceKey).");
                }

                Uri? job = await keys.CreateAsync(instance, Name, parameters, ct).ConfigureAwait(false);
                if (job is not null)
                {
                    Verbose($"The API accepted the request; waiting for the job {job.PathAndQuery}.");
                    await keys.WaitAsync(job, $"Creating the service key '{Name}' of '{instance.Name}'", TimeSpan.FromSeconds(JobTimeoutSec), JobProgress(activity), ct).ConfigureAwait(false);
                }

                var created = await keys.KeysAsync(instance, Name, ct).ConfigureAwait(false);
                if (created.Count == 0)
                {
                    throw new CertIntegrationException(ErrorIds.CfServiceKeyNotFound, FailureKind.ObjectNotFound,
                        $"The job to create the service key '{Name}' of '{instance.Name}' completed, but the key is not listed.");
                }

                return await keys.ReadAsync(instance, created[0], Verbose, ct).ConfigureAwait(false);
            });
            EndProgress(activity);
            WriteObject(key);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            EndProgress(activity);
            WriteFailure(ex, Name);
        }
    }
}
