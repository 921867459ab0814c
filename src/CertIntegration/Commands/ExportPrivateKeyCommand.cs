using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using System.Text;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Writes the private key of a bundle to a PEM file that only the owner can read.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "PrivateKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpUris.Base + "export-privatekey")]
[OutputType(typeof(FileInfo))]
public sealed class ExportPrivateKeyCommand : CertIntegrationCmdlet
{
    private OutputFiles? _files;
    private int _inputs;

    /// <summary>A bundle with a private key, e.g. from ConvertFrom-ServiceKey.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public CertificateBundle? InputObject { get; set; }

    /// <summary>The key file to write.</summary>
    [Parameter(Position = 0)]
    [Alias("Path", "FilePath")]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>A folder to write one key file per bundle into, named after its service key file (else the common name). Created when missing.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Pkcs8 (default: BEGIN PRIVATE KEY) or Pkcs1 (BEGIN RSA PRIVATE KEY; BEGIN EC PRIVATE KEY for EC keys).</summary>
    [Parameter]
    public PrivateKeyFormat Format { get; set; } = PrivateKeyFormat.Pkcs8;

    /// <summary>Encrypts the key (PKCS#8 only): BEGIN ENCRYPTED PRIVATE KEY, AES-256-CBC with PBKDF2-HMAC-SHA256.</summary>
    [Parameter]
    public SecureString? Password { get; set; }

    /// <summary>Overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        _files = OutputFiles.Open(this, OutFile, Destination,
            missing: "Give -OutFile (one key file) or -Destination (a folder for one key file per bundle).",
            ambiguousHint: "Use -Destination to write one key file per bundle.");

        if (Password is not null && Password.Length == 0)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("The password is empty. Leave out -Password for an unencrypted key file."), ErrorIds.PasswordEmpty, ErrorCategory.InvalidArgument, null));
        }

        if (Password is not null && Format == PrivateKeyFormat.Pkcs1)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("-Password works with -Format Pkcs8 only. Traditional PEM encryption of PKCS#1 keys (Proc-Type/DEK-Info) derives its key with a single MD5 round and is weak; write an encrypted PKCS#8 key instead, or an unencrypted PKCS#1 key without -Password."),
                ErrorIds.PasswordWithPkcs1, ErrorCategory.InvalidArgument, null));
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
            Write(bundle);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, bundle);
        }
    }

    private void Write(CertificateBundle bundle)
    {
        if (bundle.Key is null && bundle.PlatformCertificate is not null)
        {
            throw new CertIntegrationException(ErrorIds.PrivateKeyNotExportable, FailureKind.PermissionDenied,
                $"The private key of '{bundle.Subject}' is held by the platform (e.g. a Windows certificate store) and may not be exported, so it cannot be written to a file. It still authenticates where it is (Test-MtlsEndpoint -Certificate); to move it, export it from where it was created as exportable.");
        }

        if (bundle.Key is null)
        {
            throw new CertIntegrationException(ErrorIds.BundleHasNoPrivateKey, FailureKind.InvalidData,
                $"The bundle '{bundle.Subject}' has no private key. A certificate_external service key holds only the certificate; the key stays with whoever created it.");
        }

        PrivateKeyMaterial.EnsureMatches(bundle.Key, bundle.Certificate);
        string path = _files!.Reserve(OutputFiles.BundleStem(bundle), ".key", "input " + ++_inputs, bundle.Thumbprint, "bundle")!;
        string what = Password is null ? Format.ToString() : "encrypted " + Format;
        if (!_files.ShouldWrite(path, $"Write the {bundle.Key.Algorithm} private key of '{bundle.Subject}' ({what}, readable by the owner only)", Force))
        {
            return;
        }

        string pem;
        using (PasswordChars? pw = PasswordChars.From(Password))
        {
            pem = CertificateExport.KeyToPem(bundle.Key, Format, pw?.Chars);
        }

        SafeFile.Write(path, Encoding.ASCII.GetBytes(pem), overwrite: Force, ownerOnly: true);
        WriteVerbose($"Wrote '{path}': {bundle.Key.Algorithm} {bundle.Key.KeySize}-bit private key, {what}.");
        WriteObject(WrittenFile(path));
    }
}
