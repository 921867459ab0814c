using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace CertIntegration.Commands;

/// <summary>
/// Where the writers (New-PfxFromPem, Export-PrivateKey, Export-CertificateChain) put their files, all the same way.
/// -OutFile is one file for the whole call: a second input for it is OutputPathAmbiguous. -Destination is a folder
/// with one file per input, named from the input. A missing folder is created, asked through ShouldProcess like each
/// file, so -WhatIf writes nothing and creates nothing. A name another input took in this call gets the first 8 hex
/// digits of its thumbprint. An existing file is FileExists unless -Force.
/// </summary>
internal sealed class OutputFiles
{
    private readonly CertIntegrationCmdlet _cmdlet;
    private readonly string? _outFile;
    private readonly string _folder;
    private readonly string _ambiguousHint;

    // Paths handed out in this call, with what went into them: two inputs never share a name, and the same content
    // reached twice (the root of two service keys of one tenant) is written once.
    private readonly Dictionary<string, string> _reserved = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _foldersAnswered = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _foldersDeclined = new(StringComparer.OrdinalIgnoreCase);

    private OutputFiles(CertIntegrationCmdlet cmdlet, string? outFile, string folder, string ambiguousHint)
    {
        _cmdlet = cmdlet;
        _outFile = outFile;
        _folder = folder;
        _ambiguousHint = ambiguousHint;
    }

    /// <summary>
    /// Checks -OutFile and -Destination for the whole call (in BeginProcessing: problems are terminating errors).
    /// Without either, <paramref name="missing"/> is the OutFileMissing message, or null to write into the current
    /// location. <paramref name="ambiguousHint"/> says what to do when a second input would go to -OutFile.
    /// </summary>
    public static OutputFiles Open(CertIntegrationCmdlet cmdlet, string? outFile, string? destination, string? missing, string ambiguousHint)
    {
        if (outFile is not null && destination is not null)
        {
            cmdlet.ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.OutFileAndDestination,
                "Give either -OutFile (one file) or -Destination (a folder for one file per input), not both.", null));
        }

        if (outFile is null && destination is null && missing is not null)
        {
            cmdlet.ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.OutFileMissing, missing, null));
        }

        if (outFile is not null)
        {
            string file = Resolve(cmdlet, outFile);
            return new OutputFiles(cmdlet, file, Path.GetDirectoryName(file) ?? file, ambiguousHint);
        }

        string folder = destination is null ? cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath : Resolve(cmdlet, destination);
        if (File.Exists(folder))
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(new IOException($"The destination '{folder}' is a file; give a folder."), ErrorIds.DestinationNotFolder, ErrorCategory.InvalidArgument, destination));
        }

        return new OutputFiles(cmdlet, null, folder, ambiguousHint);
    }

    /// <summary>The name stem of a bundle's own file: the stem of the file it came from, else its common name.</summary>
    public static string BundleStem(CertificateBundle bundle) =>
        CertificateNames.SafeFileName(bundle.Source is { Length: > 0 } source ? Path.GetFileNameWithoutExtension(source) : bundle.CommonName);

    /// <summary>
    /// The path for one output: -OutFile, or <paramref name="stem"/> + <paramref name="ext"/> in -Destination (with a
    /// thumbprint suffix when other content took that name in this call). Null when this very content
    /// (<paramref name="identity"/>) already went to a file in this call. A second input for -OutFile throws
    /// OutputPathAmbiguous; <paramref name="what"/> names the input ("bundle", "certificate").
    /// </summary>
    public string? Reserve(string stem, string ext, string identity, string thumbprint, string what)
    {
        if (_outFile is not null)
        {
            if (!_reserved.TryGetValue(_outFile, out string? owner))
            {
                _reserved[_outFile] = identity;
                return _outFile;
            }

            return owner == identity
                ? null
                : throw new CertIntegrationException(ErrorIds.OutputPathAmbiguous, FailureKind.InvalidArgument,
                    $"More than one {what} would be written to '{_outFile}'. {_ambiguousHint}");
        }

        string thumb = thumbprint.ToLowerInvariant();
        string[] candidates = { stem + ext, stem + "-" + thumb.Substring(0, Math.Min(8, thumb.Length)) + ext, stem + "-" + thumb + ext };
        for (int n = 0; ; n++)
        {
            string name = n < candidates.Length ? candidates[n] : stem + "-" + thumb + "-" + (n - candidates.Length + 2) + ext;
            string path = Path.Combine(_folder, name);
            if (!_reserved.TryGetValue(path, out string? owner))
            {
                _reserved[path] = identity;
                return path;
            }

            if (owner == identity)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// True when <paramref name="path"/> is to be written: it does not exist (or <paramref name="force"/>), its folder
    /// exists or was created, and ShouldProcess agreed to <paramref name="action"/>. An existing file throws FileExists
    /// even with -WhatIf, since the write would fail. The folder is asked for once; with -WhatIf it is shown, not made.
    /// </summary>
    public bool ShouldWrite(string path, string action, bool force)
    {
        if (File.Exists(path) && !force)
        {
            throw new CertIntegrationException(ErrorIds.FileExists, FailureKind.ResourceExists, $"The file '{path}' already exists. Use -Force to overwrite it.");
        }

        string folder = Path.GetDirectoryName(path) ?? _folder;
        if (!Directory.Exists(folder) && !_foldersAnswered.Contains(folder))
        {
            if (_cmdlet.ShouldProcess($"Create the folder '{folder}'.", $"Create the folder '{folder}'?", "Create folder", out ShouldProcessReason reason))
            {
                try
                {
                    Directory.CreateDirectory(folder);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
                {
                    throw new CertIntegrationException(ErrorIds.FileWriteFailed, FailureKind.WriteError, $"Could not create the folder '{folder}': {ex.Message}", ex);
                }
            }
            else
            {
                // -WhatIf: the file's own what-if line follows. Declined under -Confirm: nothing goes into that folder.
                _foldersAnswered.Add(folder);
                if (reason != ShouldProcessReason.WhatIf)
                {
                    _foldersDeclined.Add(folder);
                }
            }
        }

        return !_foldersDeclined.Contains(folder) && _cmdlet.ShouldProcess(path, action);
    }

    private static string Resolve(CertIntegrationCmdlet cmdlet, string path)
    {
        try
        {
            string resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
            if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
            {
                cmdlet.ThrowTerminatingError(ErrorMapping.Argument(ErrorIds.PathNotFileSystem, $"'{path}' is not a file-system path.", path));
            }

            return resolved;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or ItemNotFoundException)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.PathInvalid, ErrorCategory.InvalidArgument, path));
            throw; // not reached
        }
    }
}
