using System;
using System.Linq;
using System.Management.Automation;
using CertIntegration.Core.Cpi;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Downloads the chain of a tenant key pair, or the certificate of an entry, as a certificate bundle.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CpiKeystoreCertificate", HelpUri = HelpUris.Base + "get-cpikeystorecertificate")]
[OutputType(typeof(CertificateBundle))]
public sealed class GetCpiKeystoreCertificateCommand : CpiCmdlet
{
    /// <summary>The alias of the entry (binds the Alias of Get-CpiKeystoreEntry's entries).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Alias { get; set; }

    /// <summary>The keystore: system (default), KeyRenewal or backup_admin_system.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("system", "KeyRenewal", "backup_admin_system")]
    public string Keystore { get; set; } = "system";

    protected override void ProcessRecord()
    {
        string alias = Alias!;
        try
        {
            string keystore = CpiKeystore.KeystoreName(Keystore);
            CpiKeystore.CheckAddress(alias);
            CpiKeystoreEntry entry = Run(v => CpiKeystore.GetAsync(Client, keystore, alias, StopToken, v));
            bool keyPair = string.Equals(entry.Type, "Key Pair", StringComparison.OrdinalIgnoreCase);
            byte[] data = Run(v => CpiKeystore.DownloadAsync(Client, keystore, alias, keyPair, StopToken, v));
            string source = $"{ResolvedConnection.BaseUrl.GetLeftPart(UriPartial.Authority)}/api/v1/KeystoreEntries('{entry.Hexalias}')" + (keyPair ? "/ChainResource" : "/Certificate");
            var held = new HeldMessages();
            CertificateBundle bundle;
            try
            {
                bundle = ContainerReader.ReadBytes(data, source, null, held.Verbose, held.Warning)
                    .OrderByDescending(b => b.ChainLength).FirstOrDefault()
                    ?? throw new CertIntegrationException(ErrorIds.CpiAnswerInvalid, FailureKind.ProtocolError, $"{source} held no certificate.");
            }
            finally
            {
                held.WriteTo(this);
            }

            bundle.Alias = entry.Alias;
            bundle.Source = source;
            WriteObject(bundle);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, alias);
        }
    }
}
