using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.Core.Cpi;
using CertIntegration.Core.Keystores;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Adds a certificate or a key pair to the tenant keystore through the Cloud Integration API.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "CpiKeystoreEntry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpUris.Base + "add-cpikeystoreentry")]
[OutputType(typeof(CpiKeystoreEntry))]
public sealed class AddCpiKeystoreEntryCommand : CpiCmdlet
{
    private readonly HashSet<string> _aliases = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A bundle (with its key: a key pair; without: a certificate) or an X509Certificate2.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public PSObject? InputObject { get; set; }

    /// <summary>The alias of the new entry; default the bundle's alias, else one made from its common name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Alias { get; set; }

    /// <summary>Upload only the certificate of a bundle that has a key.</summary>
    [Parameter]
    public SwitchParameter CertificateOnly { get; set; }

    /// <summary>Upload a certificate whose trust path the tenant cannot build (after checking its fingerprint).</summary>
    [Parameter]
    public SwitchParameter FingerprintVerified { get; set; }

    /// <summary>Replace an entry of the same alias (the API's update=true).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        PSObject input = InputObject!;
        try
        {
            CertificateBundle bundle = input.BaseObject switch
            {
                CertificateBundle b => b,
                X509Certificate2 c => new CertificateBundle(c),
                _ => throw new CertIntegrationException(ErrorIds.CpiKeystoreInputInvalid, FailureKind.InvalidType,
                    $"Add-CpiKeystoreEntry takes certificate bundles (Import-CertificateBundle, ConvertFrom-ServiceKey) or X509Certificate2 objects, not a {input.BaseObject.GetType().Name}."),
            };
            bool keyPair = bundle.HasPrivateKey && !CertificateOnly;
            string alias = Alias ?? bundle.Alias ?? TenantKeystore.DeriveAlias(bundle.CommonName);
            CpiKeystore.CheckWriteAlias(alias, Alias is null ? "the bundle" : "-Alias");
            if (!_aliases.Add(alias))
            {
                throw new CertIntegrationException(ErrorIds.KeystoreAliasDuplicate, FailureKind.InvalidArgument,
                    $"The alias '{alias}' was used for an earlier input of this call; give each input its own alias (one Add-CpiKeystoreEntry per -Alias). Nothing was sent for '{bundle.Subject}'.");
            }

            string what = (Force ? "Replace" : "Add") + (keyPair ? " key pair" : " certificate") + $" '{bundle.Subject}'";
            if (!ShouldProcess(Target(ResolvedConnection, "system", alias), what))
            {
                return;
            }

            CpiKeystoreEntry? entry = keyPair
                ? Run(v => CpiKeystore.UploadKeyPairAsync(Client, alias, bundle, Force, StopToken, v))
                : Run(v => CpiKeystore.UploadCertificateAsync(Client, alias, bundle.Certificate, Force, FingerprintVerified, StopToken, v));
            WriteObject(entry ?? Run(v => CpiKeystore.GetAsync(Client, "system", alias, StopToken, v)));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, input);
        }
    }
}
