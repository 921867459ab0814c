using System;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Turns a certificate bundle into an X509Certificate2 with its private key, for Invoke-RestMethod -Certificate.</para>
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "X509Certificate", HelpUri = HelpUris.Base + "convertto-x509certificate")]
[OutputType(typeof(X509Certificate2), typeof(X509Certificate2Collection))]
public sealed class ConvertToX509CertificateCommand : CertIntegrationCmdlet
{
    /// <summary>A bundle with a private key, e.g. from ConvertFrom-ServiceKey; an X509Certificate2 binds through the bundle's constructor.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public CertificateBundle? InputObject { get; set; }

    /// <summary>Emit one X509Certificate2Collection: the leaf with its key first, then the chain's other certificates without keys.</summary>
    [Parameter]
    public SwitchParameter IncludeChain { get; set; }

    /// <summary>Where and how the platform keeps the key. UserKeySet (the default) is what SChannel on Windows can use and leaves nothing behind.</summary>
    [Parameter]
    public X509KeyStorageFlags KeyStorageFlags { get; set; } = X509KeyStorageFlags.UserKeySet;

    protected override void BeginProcessing()
    {
        if (CertificateWithKey.Conflict(KeyStorageFlags) is { } conflict)
        {
            ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.ParameterConflict, $"-KeyStorageFlags {KeyStorageFlags}: {conflict}", KeyStorageFlags));
        }

        bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        if (windows && (KeyStorageFlags & CertificateWithKey.EphemeralKeySet) != 0)
        {
            WriteWarning("-KeyStorageFlags EphemeralKeySet: SChannel cannot use an ephemeral key for TLS client authentication, so Invoke-RestMethod and Invoke-WebRequest fail with this certificate on Windows. Leave out -KeyStorageFlags (UserKeySet).");
        }

        if ((KeyStorageFlags & X509KeyStorageFlags.PersistKeySet) != 0 && !RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            WriteWarning(windows
                ? "-KeyStorageFlags PersistKeySet: the key container stays in your Windows key store after this session, even after the certificate is disposed, and nothing removes it for you."
                : "-KeyStorageFlags PersistKeySet: the certificate and its key stay in your default keychain after this session.");
        }
    }

    protected override void ProcessRecord()
    {
        CertificateBundle? bundle = InputObject;
        if (bundle is null)
        {
            return;
        }

        try
        {
            Convert(bundle);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, bundle);
        }
    }

    private void Convert(CertificateBundle bundle)
    {
        X509Certificate2 leaf;
        if (bundle.PlatformCertificate is { } platform)
        {
            // Its key is where the platform keeps it (a Windows key container, a keychain): already usable for TLS.
            leaf = platform;
            WriteVerbose($"'{bundle.Subject}' already holds its private key in the platform; returned as it is" +
                (MyInvocation.BoundParameters.ContainsKey(nameof(KeyStorageFlags)) ? " (-KeyStorageFlags does not apply)." : "."));
        }
        else
        {
            if (bundle.Key is null)
            {
                string message = bundle.MadeFromCertificate
                    ? $"The certificate '{bundle.Subject}' has no private key available, so it cannot become a client certificate. Pass it with its key (e.g. from Cert:\\CurrentUser\\My or a PFX)."
                    : $"The bundle '{bundle.Subject}' has no private key, so it cannot become a client certificate. A certificate_external service key or a certificate file holds only the certificate; read it together with its key (a service key, a PFX, or PEM with the key).";
                throw new CertIntegrationException(ErrorIds.BundleHasNoPrivateKey, FailureKind.InvalidData, message);
            }

            PrivateKeyMaterial.EnsureMatches(bundle.Key, bundle.Certificate);
            leaf = CertificateWithKey.Load(bundle, KeyStorageFlags, bundle.CommonName);
            WriteVerbose($"Loaded '{bundle.Subject}' with its {bundle.Key.Algorithm} private key ({KeyStorageFlags}); no file was written by CertIntegration.");
        }

        if (!IncludeChain)
        {
            WriteObject(leaf);
            return;
        }

        // Copies, so that disposing the collection leaves the bundle's certificates intact.
        var collection = new X509Certificate2Collection(leaf);
        foreach (X509Certificate2 issuer in bundle.Chain.Skip(1))
        {
            collection.Add(new X509Certificate2(issuer.RawData));
        }

        WriteObject(collection, enumerateCollection: false);
    }
}
