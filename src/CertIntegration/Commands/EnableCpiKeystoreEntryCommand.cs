using System;
using System.Management.Automation;
using CertIntegration.Core.Cpi;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Activates a renewed key pair of the KeyRenewal keystore, replacing the entry of the same alias in use.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Enable, "CpiKeystoreEntry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpUris.Base + "enable-cpikeystoreentry")]
[OutputType(typeof(CpiKeystoreEntry))]
public sealed class EnableCpiKeystoreEntryCommand : CpiCmdlet
{
    /// <summary>Aliases of the renewed entries (binds the Alias of Get-CpiKeystoreEntry's entries).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Alias { get; set; } = Array.Empty<string>();

    /// <summary>The keystore the renewed entries wait in: KeyRenewal, the only one the API activates from.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("KeyRenewal")]
    public string Keystore { get; set; } = "KeyRenewal";

    /// <summary>Return the activated entry of the system keystore.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string alias in Alias)
        {
            try
            {
                CpiKeystore.CheckAddress(alias);
                CpiKeystore.CheckNotReserved(alias, "activated");
                if (!ShouldProcess(Target(ResolvedConnection, "KeyRenewal", alias), "Activate the renewed entry, replacing the one of the system keystore"))
                {
                    continue;
                }

                Run(async v =>
                {
                    await CpiKeystore.DeleteAsync(Client, "KeyRenewal", alias, activate: true, StopToken, v).ConfigureAwait(false);
                    return true;
                });
                if (PassThru)
                {
                    WriteObject(Run(v => CpiKeystore.GetAsync(Client, "system", alias, StopToken, v)));
                }
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, alias);
            }
        }
    }
}
