using System;
using System.Management.Automation;
using CertIntegration.Core.Cpi;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Deletes entries of a tenant keystore through the Cloud Integration API.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CpiKeystoreEntry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpUris.Base + "remove-cpikeystoreentry")]
public sealed class RemoveCpiKeystoreEntryCommand : CpiCmdlet
{
    /// <summary>Aliases of the entries to delete (binds the Alias of Get-CpiKeystoreEntry's entries).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Alias { get; set; } = Array.Empty<string>();

    /// <summary>The keystore: system (default) or KeyRenewal.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("system", "KeyRenewal")]
    public string Keystore { get; set; } = "system";

    protected override void ProcessRecord()
    {
        foreach (string alias in Alias)
        {
            try
            {
                string keystore = CpiKeystore.KeystoreName(Keystore);
                CpiKeystore.CheckAddress(alias);
                CpiKeystore.CheckNotReserved(alias, "deleted");
                if (!ShouldProcess(Target(ResolvedConnection, keystore, alias), "Delete keystore entry"))
                {
                    continue;
                }

                Run(async v =>
                {
                    await CpiKeystore.DeleteAsync(Client, keystore, alias, activate: false, StopToken, v).ConfigureAwait(false);
                    return true;
                });
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, alias);
            }
        }
    }
}
