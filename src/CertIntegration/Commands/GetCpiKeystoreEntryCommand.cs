using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using CertIntegration.Core.Cpi;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Gets the entries of a tenant keystore through the Cloud Integration API.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CpiKeystoreEntry", HelpUri = HelpUris.Base + "get-cpikeystoreentry")]
[OutputType(typeof(CpiKeystoreEntry))]
public sealed class GetCpiKeystoreEntryCommand : CpiCmdlet
{
    private List<CpiKeystoreEntry>? _listing;

    /// <summary>Aliases of the entries; wildcards allowed. Default: every entry.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Alias { get; set; }

    /// <summary>The keystore: system (default), KeyRenewal or backup_admin_system.</summary>
    [Parameter]
    [ValidateSet("system", "KeyRenewal", "backup_admin_system")]
    public string Keystore { get; set; } = "system";

    protected override void ProcessRecord()
    {
        string keystore = CpiKeystore.KeystoreName(Keystore);
        if (Alias is null)
        {
            try
            {
                WriteObject(Listing(keystore), enumerateCollection: true);
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, keystore);
            }

            return;
        }

        foreach (string alias in Alias)
        {
            try
            {
                if (WildcardPattern.ContainsWildcardCharacters(alias))
                {
                    var pattern = new WildcardPattern(alias, WildcardOptions.IgnoreCase);
                    WriteObject(Listing(keystore).Where(e => pattern.IsMatch(e.Alias)), enumerateCollection: true);
                    continue;
                }

                CpiKeystore.CheckAddress(alias);
                CpiKeystoreEntry entry = Run(v => CpiKeystore.GetAsync(Client, keystore, alias, StopToken, v));

                WriteObject(entry);
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, alias);
            }
        }
    }

    private List<CpiKeystoreEntry> Listing(string keystore) =>
        _listing ??= Run(v => CpiKeystore.ListAsync(Client, keystore, StopToken, v));
}
