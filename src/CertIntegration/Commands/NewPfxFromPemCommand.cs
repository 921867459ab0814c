using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Writes a PFX (PKCS#12) file with the private key, the certificate and its whole chain.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "PfxFromPem", DefaultParameterSetName = BundleSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpUris.Base + "new-pfxfrompem")]
[OutputType(typeof(FileInfo))]
public sealed class NewPfxFromPemCommand : CancellableCmdlet
{
    private const string BundleSet = "Bundle";
    private const string FilesSet = "Files";

    private OutputFiles? _files;
    private OrderedWork<SafeFile.StagedFile>? _work;
    private int _inputs;

    /// <summary>A bundle with a private key, e.g. from ConvertFrom-ServiceKey.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = BundleSet)]
    public CertificateBundle? InputObject { get; set; }

    /// <summary>PEM file with the certificate (and optionally its chain).</summary>
    [Parameter(Mandatory = true, ParameterSetName = FilesSet)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = string.Empty;

    /// <summary>PEM file with the private key: PKCS#1, PKCS#8, encrypted PKCS#8, legacy-encrypted or EC.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FilesSet)]
    [ValidateNotNullOrEmpty]
    public string KeyPath { get; set; } = string.Empty;

    /// <summary>Password of an encrypted private key file.</summary>
    [Parameter(ParameterSetName = FilesSet)]
    public SecureString? KeyPassword { get; set; }

    /// <summary>PEM files with more CA certificates for the chain.</summary>
    [Parameter(ParameterSetName = FilesSet)]
    [ValidateNotNullOrEmpty]
    public string[]? ChainPath { get; set; }

    /// <summary>The PFX file to write.</summary>
    [Parameter(Position = 0)]
    [Alias("Path", "FilePath")]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>A folder to write one PFX per bundle into, named after its service key file (else the common name). Created when missing.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Password that protects the PFX.</summary>
    [Parameter(Mandatory = true)]
    public SecureString Password { get; set; } = new();

    /// <summary>Encryption profile: TripleDesSha1 (default, widest compatibility) or Aes256Sha256.</summary>
    [Parameter]
    public PfxEncryption Encryption { get; set; } = PfxEncryption.TripleDesSha1;

    /// <summary>Friendly name on the certificate and key (default: the leaf's common name).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FriendlyName { get; set; }

    /// <summary>Overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        _files = OutputFiles.Open(this, OutFile, Destination,
            missing: "Give -OutFile (one PFX) or -Destination (a folder for one PFX per bundle).",
            ambiguousHint: "Use -Destination to write one file per bundle.");

        if (Password.Length == 0)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("The PFX password is empty. Windows, STRUST and BTP destinations expect a password-protected PFX."), ErrorIds.PasswordEmpty, ErrorCategory.InvalidArgument, null));
        }
    }

    protected override void ProcessRecord()
    {
        _work ??= new OrderedWork<SafeFile.StagedFile>(OrderedWork<SafeFile.StagedFile>.DefaultWorkers, OrderedWork<SafeFile.StagedFile>.DefaultCapacity, StopToken);
        object? target = ParameterSetName == BundleSet ? InputObject : CertificatePath;
        Action? enqueue;
        try
        {
            CertificateBundle bundle = ParameterSetName == BundleSet ? InputObject! : ReadFiles();
            enqueue = Prepare(bundle, target);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // In its turn: after the files and errors of every earlier input.
            enqueue = () => _work.Add(() => WriteFailure(ex, target));
        }

        // Outside the catch: showing earlier inputs may end the pipeline (-ErrorAction Stop on an earlier error, a
        // terminating error downstream), which must not be taken for a failure of this input.
        enqueue?.Invoke();
    }

    protected override void EndProcessing() => _work?.Complete();

    protected override void Dispose(bool disposing)
    {
        // After a stop: waits for the PFX being built (CPU work, moments) and removes the files never renamed into place.
        _work?.Dispose();
    }

    /// <summary>
    /// Checks and asks (ShouldProcess) on the pipeline thread, and returns what queues the work (null when nothing is
    /// to be written): the PFX is built and written under its temporary name by a worker (the key derivations are
    /// nearly all of the time, so the cores share them); the file is renamed into place and reported on the pipeline
    /// thread, in input order.
    /// </summary>
    private Action? Prepare(CertificateBundle bundle, object? target)
    {
        if (bundle.Key is null && bundle.PlatformCertificate is not null)
        {
            throw new CertIntegrationException(ErrorIds.PrivateKeyNotExportable, FailureKind.PermissionDenied,
                $"The private key of '{bundle.Subject}' is held by the platform (e.g. a Windows certificate store) and may not be exported, so it cannot be written to a file. It still authenticates where it is (Test-MtlsEndpoint -Certificate); to move it, export it from where it was created as exportable.");
        }

        if (bundle.Key is null)
        {
            throw new CertIntegrationException(ErrorIds.BundleHasNoPrivateKey, FailureKind.InvalidData,
                $"The bundle '{bundle.Subject}' has no private key, so no PFX can be made from it. A certificate_external service key holds only the certificate; the key stays with whoever created it.");
        }

        PrivateKeyMaterial.EnsureMatches(bundle.Key, bundle.Certificate);
        string path = _files!.Reserve(OutputFiles.BundleStem(bundle), ".pfx", "input " + ++_inputs, bundle.Thumbprint, "bundle")!;
        if (!_files.ShouldWrite(path, $"Write PFX ({Encryption}) with key and {bundle.ChainLength} certificate(s) of '{bundle.Subject}'", Force))
        {
            return null;
        }

        // A PFX is often made for other reasons than client authentication (or ahead of its validity): say, still write.
        List<string> problems = ClientCertificateCheck.Problems(bundle.Certificate, DateTime.UtcNow).ToList();
        string friendly = FriendlyName ?? bundle.CommonName;
        PfxEncryption encryption = Encryption;
        bool force = Force;
        SecureString password = Password;
        return () => _work!.Add(
            () =>
            {
                byte[] pfx;
                using (PasswordChars pw = PasswordChars.From(password)!)
                {
                    pfx = Pkcs12Writer.Build(bundle, pw.Chars, encryption, friendly);
                }

                return SafeFile.Stage(path, pfx, overwrite: force, ownerOnly: true);
            },
            staged =>
            {
                try
                {
                    foreach (string problem in problems)
                    {
                        WriteWarning(problem + $" The PFX '{path}' is written anyway.");
                    }

                    staged.Commit();
                }
                catch (Exception ex) when (ex is not PipelineStoppedException)
                {
                    WriteFailure(ex, target);
                    return;
                }
                finally
                {
                    staged.Discard(); // no-op once committed
                }

                WriteVerbose($"Wrote '{path}': {encryption}, {bundle.ChainLength} certificate(s), friendly name '{friendly}'.");
                WriteObject(WrittenFile(path));
            },
            ex =>
            {
                foreach (string problem in problems)
                {
                    WriteWarning(problem + $" The PFX '{path}' is written anyway.");
                }

                WriteFailure(ex, target);
            },
            staged => staged.Discard());
    }

    private CertificateBundle ReadFiles() =>
        PemFilePair.Read(
            ResolveExisting(CertificatePath, literal: true)[0],
            (ChainPath ?? Array.Empty<string>()).Select(p => ResolveExisting(p, literal: true)[0]).ToList(),
            ResolveExisting(KeyPath, literal: true)[0],
            () => PasswordChars.From(KeyPassword));
}
