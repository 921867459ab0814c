using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;

namespace CertIntegration.Commands;

/// <summary>Shared plumbing: path resolution through the provider, per-item error records.</summary>
public abstract class CertIntegrationCmdlet : PSCmdlet
{
    /// <summary>Reports a per-item failure as a non-terminating error whose target is the input.</summary>
    internal void WriteFailure(Exception ex, object? target)
    {
        if (ex is PipelineStoppedException)
        {
            throw ex;
        }

        WriteError(ErrorMapping.ToErrorRecord(ex, target));
    }

    /// <summary>
    /// Resolves -Path (wildcards) or -LiteralPath to file-system paths. Paths that match nothing (also a wildcard that
    /// matches no file: FileNotFound, as for a missing file) or are not on the FileSystem provider become errors; the
    /// rest is returned.
    /// </summary>
    internal List<string> ResolveFiles(IEnumerable<string>? paths, bool literal) => ResolveFiles(paths, literal, WriteError);

    /// <summary>As <see cref="ResolveFiles(IEnumerable{string}?, bool)"/>, with the errors handed to <paramref name="report"/>.</summary>
    internal List<string> ResolveFiles(IEnumerable<string>? paths, bool literal, Action<ErrorRecord> report)
    {
        var result = new List<string>();
        if (paths is null)
        {
            return result;
        }

        foreach (string p in paths)
        {
            try
            {
                ProviderInfo provider;
                IEnumerable<string> resolved;
                if (literal)
                {
                    resolved = new[] { SessionState.Path.GetUnresolvedProviderPathFromPSPath(p, out provider, out _) };
                }
                else
                {
                    resolved = GetResolvedProviderPathFromPSPath(p, out provider);
                }

                if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                {
                    report(new ErrorRecord(new ArgumentException($"'{p}' is not a file-system path."), ErrorIds.PathNotFileSystem, ErrorCategory.InvalidArgument, p));
                    continue;
                }

                // A wildcard that matches nothing resolves to no path and no exception; it is a missing file all the same.
                List<string> matches = resolved.ToList();
                if (matches.Count == 0)
                {
                    report(new ErrorRecord(new FileNotFoundException($"No file matches '{p}'.", p), ErrorIds.FileNotFound, ErrorCategory.ObjectNotFound, p));
                    continue;
                }

                foreach (string r in matches)
                {
                    if (Directory.Exists(r))
                    {
                        report(new ErrorRecord(new ArgumentException($"'{r}' is a folder; give a file."), ErrorIds.PathIsFolder, ErrorCategory.InvalidArgument, p));
                    }
                    else if (!File.Exists(r))
                    {
                        report(new ErrorRecord(new FileNotFoundException($"The file '{r}' does not exist.", r), ErrorIds.FileNotFound, ErrorCategory.ObjectNotFound, p));
                    }
                    else
                    {
                        result.Add(r);
                    }
                }
            }
            catch (ItemNotFoundException ex)
            {
                report(new ErrorRecord(ex, ErrorIds.FileNotFound, ErrorCategory.ObjectNotFound, p));
            }
            catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or NotSupportedException or ArgumentException or WildcardPatternException)
            {
                report(new ErrorRecord(ex, ErrorIds.PathInvalid, ErrorCategory.InvalidArgument, p));
            }
        }

        return result;
    }

    /// <summary>
    /// The files <paramref name="path"/> names (wildcards unless <paramref name="literal"/>), at least one. A path that
    /// names none throws the resolver's own error (FileNotFound, PathIsFolder, PathNotFileSystem, PathInvalid) as a
    /// <see cref="CertIntegrationException"/>, one error per bad input; a wildcard that matches nothing is FileNotFound.
    /// </summary>
    internal List<string> ResolveExisting(string path, bool literal)
    {
        var problems = new List<ErrorRecord>();
        List<string> files = ResolveFiles(new[] { path }, literal, problems.Add);
        if (files.Count > 0)
        {
            return files;
        }

        ErrorRecord? first = problems.FirstOrDefault();
        throw new CertIntegrationException(
            first?.FullyQualifiedErrorId ?? ErrorIds.FileNotFound,
            first?.CategoryInfo.Category == ErrorCategory.InvalidArgument ? FailureKind.InvalidArgument : FailureKind.ObjectNotFound,
            first?.Exception.Message ?? $"No file matches '{path}'.",
            first?.Exception);
    }

    /// <summary>
    /// The file an object names (PSPath, LiteralPath or FullName, as Get-Item and Get-ChildItem give them, or the Path
    /// of a Resolve-Path result), so that piped file objects are read as files; null when it names none.
    /// </summary>
    internal static string? FilePathOf(PSObject item)
    {
        if (item.BaseObject is PathInfo info)
        {
            return info.Path;
        }

        foreach (string name in new[] { "PSPath", "LiteralPath", "FullName" })
        {
            if (item.Properties[name]?.Value is string { Length: > 0 } p)
            {
                return p;
            }
        }

        return null;
    }

    /// <summary>
    /// A file the cmdlet wrote, as Get-Item returns it (the FileSystem provider's object, with PSPath, UnixMode, User,
    /// Group and Size filled in for the default file view); a plain FileInfo when the provider cannot give it.
    /// </summary>
    internal PSObject WrittenFile(string path)
    {
        try
        {
            var items = SessionState.InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true);
            if (items.Count == 1)
            {
                return items[0];
            }
        }
        catch (Exception ex) when (ex is ProviderNotFoundException or ItemNotFoundException or System.Management.Automation.DriveNotFoundException or NotSupportedException or ArgumentException)
        {
        }

        return PSObject.AsPSObject(new FileInfo(path));
    }

    /// <summary>Resolves an output path (which need not exist yet) against the current location.</summary>
    internal string ResolveOutputPath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>Shows progress only when there is enough work for it to matter.</summary>
    internal void Progress(int activityId, string activity, int done, int total, string status)
    {
        if (total < 2)
        {
            return;
        }

        var record = new ProgressRecord(activityId, activity, status)
        {
            PercentComplete = Math.Min(100, (int)(done * 100L / total)),
        };
        if (done >= total)
        {
            record.RecordType = ProgressRecordType.Completed;
        }

        WriteProgress(record);
    }
}
