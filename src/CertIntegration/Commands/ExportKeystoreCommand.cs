using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.Core.Keystores;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Writes one Java keystore (JKS) or PKCS#12 keystore with key entries and trusted-certificate entries, for the tenant's Keystore Monitor.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "Keystore", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpUris.Base + "export-keystore")]
[OutputType(typeof(FileInfo))]
public sealed class ExportKeystoreCommand : CertIntegrationCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private readonly List<KeystoreInput> _inputs = new();
    private int _failures;
    private OutputFiles? _files;
    private KeystoreFormat _format;

    /// <summary>CertificateBundle objects (with a key: key entries; without: trusted certificates), X509Certificate2 objects or certificate files.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    /// <summary>Certificate and keystore files to read; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Certificate and keystore files to read, taken literally.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Password of the PFX or JKS files read (not of the keystore written: that is -Password).</summary>
    [Parameter]
    public SecureString? SourcePassword { get; set; }

    /// <summary>The keystore file to write.</summary>
    [Parameter(Mandatory = true)]
    [Alias("FilePath")]
    [ValidateNotNullOrEmpty]
    public string OutFile { get; set; } = string.Empty;

    /// <summary>Pkcs12 or Jks; by default from the extension of -OutFile (.jks: Jks), else Pkcs12.</summary>
    [Parameter]
    public KeystoreFormat Format { get; set; } = KeystoreFormat.Pkcs12;

    /// <summary>Password of the keystore, which also protects every private key in it.</summary>
    [Parameter(Mandatory = true)]
    public SecureString Password { get; set; } = new();

    /// <summary>Alias for the one input, or one alias per input in input order; by default the container's name for it, else made from its common name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Alias { get; set; }

    /// <summary>Overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        _files = OutputFiles.Open(this, OutFile, null, missing: null, ambiguousHint: "A keystore is one file.");
        if (Password.Length == 0)
        {
            ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.PasswordEmpty,
                "The keystore password is empty. The Keystore Monitor asks for the keystore password on upload, and keytool refuses an empty one.", null));
        }

        if (Password.Length < 6)
        {
            WriteWarning("The keystore password has fewer than 6 characters; keytool refuses such passwords (the keystore is written anyway).");
        }

        string ext = System.IO.Path.GetExtension(OutFile).ToLowerInvariant();
        KeystoreFormat? byExtension = ext switch
        {
            ".jks" or ".keystore" => KeystoreFormat.Jks,
            ".p12" or ".pfx" => KeystoreFormat.Pkcs12,
            _ => null,
        };
        _format = MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? Format : byExtension ?? KeystoreFormat.Pkcs12;
        if (byExtension is null || byExtension != _format)
        {
            WriteWarning($"'{System.IO.Path.GetFileName(OutFile)}' does not have the extension of a {_format} keystore ({(_format == KeystoreFormat.Jks ? ".jks" : ".p12 or .pfx")}); the Keystore Monitor tells the formats apart by extension. It is written as {_format}.");
        }

        if (Alias is not null)
        {
            var given = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (string alias in Alias)
            {
                try
                {
                    TenantKeystore.CheckAlias(alias, "-Alias");
                }
                catch (CertIntegrationException ex)
                {
                    ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex, alias));
                }

                if (!given.Add(alias))
                {
                    ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.KeystoreAliasDuplicate,
                        $"-Alias names '{alias}' more than once (aliases compare ignoring case, as in a JKS); give each entry its own alias.", alias));
                }
            }
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            foreach (PSObject item in InputObject)
            {
                ProcessInput(item);
            }

            return;
        }

        foreach (string file in ResolveFiles(ParameterSetName == PathSet ? Path : LiteralPath, ParameterSetName == LiteralPathSet, Fail))
        {
            ReadFile(file, file);
        }
    }

    protected override void EndProcessing()
    {
        bool aliasesFit = Alias is null || Alias.Length == _inputs.Count;
        if (!aliasesFit && _failures == 0 && _inputs.Count > 0)
        {
            WriteError(ErrorMapping.Argument(ErrorIds.KeystoreAliasCountMismatch,
                $"-Alias gives {Alias!.Length} alias(es) for {_inputs.Count} input(s); give one alias for one input, or one per bundle or certificate in input order (or leave -Alias out to keep or make the aliases). Nothing was written.", Alias));
            return;
        }

        // Inputs whose files failed leave the aliases without their inputs: then only the other errors are reported.
        List<KeystoreInput> inputs = Alias is not null && aliasesFit ? _inputs.Select((x, i) => new KeystoreInput(x.Bundle, Alias[i], x.Target)).ToList() : _inputs;
        List<KeystoreEntry> entries = KeystoreBuilder.Plan(inputs, _format, Fail, WriteVerbose, WriteWarning);
        if (_failures > 0)
        {
            WriteError(ErrorMapping.ToErrorRecord(new CertIntegrationException(ErrorIds.KeystoreNotWritten, FailureKind.InvalidData,
                $"The keystore '{OutFile}' was not written: {_failures} input(s) could not become entries (see the errors before). A keystore missing entries could replace the tenant's entries with the Replace action; fix the inputs and run again."), OutFile));
            return;
        }

        if (entries.Count == 0)
        {
            WriteError(ErrorMapping.Argument(ErrorIds.KeystoreEmpty, "No certificates or bundles were given, so there is no keystore to write.", null));
            return;
        }

        try
        {
            string path = _files!.Reserve(System.IO.Path.GetFileNameWithoutExtension(OutFile), System.IO.Path.GetExtension(OutFile), "keystore", entries[0].Certificate.Thumbprint, "keystore")!;
            string what = $"Write {_format} keystore with {entries.Count} entr{(entries.Count == 1 ? "y" : "ies")}: {string.Join("; ", entries.Select(e => e.Describe()))}";
            if (!_files.ShouldWrite(path, what, Force))
            {
                return;
            }

            byte[] bytes;
            using (PasswordChars pw = PasswordChars.From(Password)!)
            {
                bytes = KeystoreBuilder.Build(entries, _format, pw.Chars);
            }

            foreach (string warning in KeystoreBuilder.SizeWarnings(bytes.Length, _format, path))
            {
                WriteWarning(warning);
            }

            SafeFile.Write(path, bytes, overwrite: Force, ownerOnly: true);
            foreach (KeystoreEntry e in entries)
            {
                WriteVerbose($"'{path}': {e.Describe()}{(e.AliasDerived ? ", alias made from the common name" : string.Empty)}.");
            }

            WriteVerbose($"Wrote '{path}': {_format}, {entries.Count} entries, {bytes.Length} bytes; every key is protected with the keystore password.");
            WriteObject(WrittenFile(path));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, OutFile);
        }
    }

    private void ProcessInput(PSObject? item)
    {
        switch (item?.BaseObject)
        {
            case null:
                return;
            case CertificateBundle bundle:
                _inputs.Add(new KeystoreInput(bundle, null, bundle));
                return;
            case X509Certificate2 cert:
                _inputs.Add(new KeystoreInput(new CertificateBundle(cert), null, cert));
                return;
            case FileInfo file:
                ReadFile(file.FullName, file);
                return;
            case string path:
                foreach (string file in ResolveFiles(new[] { path }, literal: false, Fail))
                {
                    ReadFile(file, path);
                }

                return;
            case var _ when FilePathOf(item!) is { } boundPath:
                foreach (string file in ResolveFiles(new[] { boundPath }, literal: true, Fail))
                {
                    ReadFile(file, item!);
                }

                return;
            default:
                Fail(new CertIntegrationException(ErrorIds.InputNotCertificate, FailureKind.InvalidArgument,
                    $"Export-Keystore takes CertificateBundle or X509Certificate2 objects, or certificate and keystore files (paths or file objects); got {item.BaseObject.GetType().FullName}."), item);
                return;
        }
    }

    private void ReadFile(string path, object target)
    {
        try
        {
            foreach (CertificateBundle bundle in ContainerReader.ReadFile(path, SourcePassword, WriteVerbose, WriteWarning))
            {
                _inputs.Add(new KeystoreInput(bundle, null, target));
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            Fail(ex, target);
        }
    }

    private void Fail(Exception ex, object? target)
    {
        _failures++;
        WriteFailure(ex, target);
    }

    private void Fail(ErrorRecord record)
    {
        _failures++;
        WriteError(record);
    }
}
