using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Reads certificates, chains and private keys from files of any common container format.</para>
/// <para type="description">The format is recognised from the bytes: PEM, DER certificate, PKCS#7 (.p7b/.p7c),
/// PKCS#12 (.pfx/.p12), Java keystore (JKS) or service key JSON. Each leaf certificate becomes one bundle with its
/// chain and, when the file holds it, its private key.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "CertificateBundle", DefaultParameterSetName = PathSet, HelpUri = HelpUris.Base + "import-certificatebundle")]
[OutputType(typeof(CertificateBundle))]
public sealed class ImportCertificateBundleCommand : CertIntegrationCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string Activity = "Importing certificate bundles";

    private readonly List<string> _pairedFiles = new();
    private int _filesDone;

    /// <summary>Files to read; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Files to read, taken literally; binds the output of Get-ChildItem.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Password of PKCS#12 files, Java keystores and encrypted private keys.</summary>
    [Parameter]
    public SecureString? Password { get; set; }

    /// <summary>
    /// A PEM file with the private key of the certificate in the -Path files (curl's --cert/--key pair): they become one
    /// bundle with its key.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>Password of an encrypted private key in -KeyPath (default: -Password).</summary>
    [Parameter]
    public SecureString? KeyPassword { get; set; }

    protected override void ProcessRecord()
    {
        bool literal = ParameterSetName == LiteralPathSet;
        List<string> files = ResolveFiles(literal ? LiteralPath : Path, literal);
        if (KeyPath is not null)
        {
            // The certificate files of the whole call are paired with the one key at the end.
            _pairedFiles.AddRange(files);
            return;
        }

        for (int i = 0; i < files.Count; i++)
        {
            string file = files[i];
            ShowProgress(file, i, files.Count);
            WriteVerbose($"Reading '{file}'.");
            // An encrypted key block in a PEM file opens with -Password, or with -KeyPassword when that is all there is.
            // The messages are written outside the read's error handling: a host that fails a write fails as itself.
            IReadOnlyList<CertificateBundle>? bundles = HeldMessages.Read(this, held => ContainerReader.ReadFile(file, Password ?? KeyPassword, held.Verbose, held.Warning), out Exception? failure);
            if (failure is not null)
            {
                WriteFailure(failure, file);
            }

            foreach (CertificateBundle bundle in bundles ?? Array.Empty<CertificateBundle>())
            {
                WriteVerbose($"'{file}': {bundle.Subject}, {bundle.ChainLength} certificate(s), private key: {bundle.HasPrivateKey}, expires {bundle.NotAfter:u}.");
                WriteObject(bundle);
            }

            _filesDone++;
        }

        if (files.Count > 1)
        {
            Progress(1, Activity, files.Count, files.Count, "Done");
        }
    }

    protected override void EndProcessing()
    {
        if (KeyPath is not null && _pairedFiles.Count > 0)
        {
            ReadPair();
        }

        if (_filesDone > 1)
        {
            WriteProgress(new ProgressRecord(1, Activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    /// <summary>The certificate files and the key file as one bundle: the key's certificate with its chain from all the files.</summary>
    private void ReadPair()
    {
        try
        {
            string keyFile = ResolveExisting(KeyPath!, literal: true)[0];
            WriteVerbose($"Reading '{string.Join("', '", _pairedFiles)}' with the key in '{keyFile}'.");
            CertificateBundle bundle = PemFilePair.Read(_pairedFiles[0], _pairedFiles.Skip(1).ToList(), keyFile, () => PasswordChars.From(KeyPassword ?? Password));
            WriteVerbose($"'{_pairedFiles[0]}' with '{keyFile}': {bundle.Subject}, {bundle.ChainLength} certificate(s), private key: {bundle.HasPrivateKey}, expires {bundle.NotAfter:u}.");
            WriteObject(bundle);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, KeyPath);
        }
    }

    private void ShowProgress(string file, int index, int count)
    {
        if (count > 1)
        {
            Progress(1, Activity, index, count, $"{file} ({index + 1} of {count})");
        }
        else if (_filesDone > 0)
        {
            // Files arriving one by one through the pipeline: the total is unknown, so show a running count.
            WriteProgress(new ProgressRecord(1, Activity, $"{file} (file {_filesDone + 1})") { PercentComplete = -1 });
        }
    }
}
