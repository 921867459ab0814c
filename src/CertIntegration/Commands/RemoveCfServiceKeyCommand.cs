using System;
using System.Management.Automation;
using CertIntegration.Core.CloudFoundry;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Deletes a service key of a Process Integration Runtime instance through the Cloud Foundry API.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CfServiceKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpUris.Base + "remove-cfservicekey")]
[OutputType(typeof(void))]
public sealed class RemoveCfServiceKeyCommand : CfCommand
{
    /// <summary>The name of the key to delete.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>How long to wait for the deletion job, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int JobTimeoutSec { get; set; } = 600;

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(TargetText(Name), "Delete"))
        {
            return;
        }

        string activity = $"Deleting the service key '{Name}' of '{ServiceInstance}'";
        try
        {
            CfServiceKeys keys = Keys;
            Run(async ct =>
            {
                (string? spaceGuid, string? spaceName) = await keys.SpaceAsync(Space, ct).ConfigureAwait(false);
                CfInstance instance = await keys.InstanceAsync(ServiceInstance, spaceGuid, spaceName, ct).ConfigureAwait(false);
                var found = await keys.KeysAsync(instance, Name, ct).ConfigureAwait(false);
                if (found.Count == 0)
                {
                    throw new CertIntegrationException(ErrorIds.CfServiceKeyNotFound, FailureKind.ObjectNotFound,
                        $"The service instance '{instance.Name}' has no service key '{Name}' (cf service-keys {instance.Name}).");
                }

                Uri? job = await keys.DeleteAsync(found[0], ct).ConfigureAwait(false);
                if (job is not null)
                {
                    Verbose($"The API accepted the request; waiting for the job {job.PathAndQuery}.");
                    await keys.WaitAsync(job, $"Deleting the service key '{Name}' of '{instance.Name}'", TimeSpan.FromSeconds(JobTimeoutSec), JobProgress(activity), ct).ConfigureAwait(false);
                }

                Verbose($"The service key '{Name}' of '{instance.Name}' is deleted.");
                return true;
            });
            EndProgress(activity);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            EndProgress(activity);
            WriteFailure(ex, Name);
        }
    }
}
