using System;
using System.IO;
using System.Runtime.InteropServices;

namespace CertIntegration.Core.Files;

/// <summary>
/// Writes files so that they appear complete or not at all: the bytes go to a hidden temporary file beside the
/// target (created owner-only on Unix when asked), are flushed to disk, and the file is then renamed into place.
/// </summary>
internal static class SafeFile
{
    public static bool IsWindows => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    public static void Write(string path, byte[] data, bool overwrite, bool ownerOnly)
    {
        string full = CheckTarget(path, overwrite);
        string tmp = TempName(full);
        try
        {
            WriteTemp(tmp, data, ownerOnly);
            Move(tmp, full, overwrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw WriteFailed(full, overwrite, ex);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>
    /// The slow half of <see cref="Write"/> (the bytes go to the hidden temporary file and are flushed to disk), for a
    /// worker thread; <see cref="StagedFile.Commit"/> then renames it into place, which callers do in input order so
    /// files appear in that order. A staged file that is not committed must be discarded.
    /// </summary>
    public static StagedFile Stage(string path, byte[] data, bool overwrite, bool ownerOnly)
    {
        string full = CheckTarget(path, overwrite);
        string tmp = TempName(full);
        try
        {
            WriteTemp(tmp, data, ownerOnly);
            return new StagedFile(tmp, full, overwrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw WriteFailed(full, overwrite, ex);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>A file written and flushed under its temporary name, waiting to be renamed into place.</summary>
    internal sealed class StagedFile
    {
        private readonly string _tmp;
        private readonly bool _overwrite;
        private bool _done;

        internal StagedFile(string tmp, string path, bool overwrite)
        {
            _tmp = tmp;
            Path = path;
            _overwrite = overwrite;
        }

        public string Path { get; }

        /// <summary>Renames the file into place (FileExists when another took the name meanwhile and there is no overwrite).</summary>
        public void Commit()
        {
            if (_done)
            {
                throw new InvalidOperationException("The staged file was committed or discarded already.");
            }

            _done = true;
            try
            {
                Move(_tmp, Path, _overwrite);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                TryDelete(_tmp);
                throw WriteFailed(Path, _overwrite, ex);
            }
            catch
            {
                TryDelete(_tmp);
                throw;
            }
        }

        /// <summary>Removes the temporary file; nothing appears at the path.</summary>
        public void Discard()
        {
            if (!_done)
            {
                _done = true;
                TryDelete(_tmp);
            }
        }
    }

    private static string CheckTarget(string path, bool overwrite)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? throw new CertIntegrationException(ErrorIds.FileWriteFailed, FailureKind.InvalidArgument, $"'{path}' has no folder.");
        if (!Directory.Exists(dir))
        {
            throw new CertIntegrationException(ErrorIds.FileWriteFailed, FailureKind.ObjectNotFound, $"The folder '{dir}' does not exist.");
        }

        if (Directory.Exists(full))
        {
            throw new CertIntegrationException(ErrorIds.FileWriteFailed, FailureKind.InvalidArgument, $"'{full}' is a folder, not a file.");
        }

        if (!overwrite && File.Exists(full))
        {
            throw new CertIntegrationException(ErrorIds.FileExists, FailureKind.ResourceExists, $"The file '{full}' already exists. Use -Force to overwrite it.");
        }

        return full;
    }

    private static string TempName(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".tmp");

    private static void WriteTemp(string tmp, byte[] data, bool ownerOnly)
    {
        using FileStream fs = CreateNew(tmp, ownerOnly);
        fs.Write(data, 0, data.Length);
        fs.Flush(true);
    }

    private static CertIntegrationException WriteFailed(string full, bool overwrite, Exception ex) =>
        !overwrite && File.Exists(full)
            ? new CertIntegrationException(ErrorIds.FileExists, FailureKind.ResourceExists, $"The file '{full}' already exists. Use -Force to overwrite it.", ex)
            : new CertIntegrationException(ErrorIds.FileWriteFailed, FailureKind.WriteError, $"Could not write '{full}': {ex.Message}", ex);

    private static FileStream CreateNew(string path, bool ownerOnly)
    {
#if NET8_0_OR_GREATER
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
#else
        // The netstandard2.0 build is the one Windows PowerShell 5.1 loads; files there inherit the folder's ACL.
        _ = ownerOnly;
        return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
#endif
    }

    private static void Move(string tmp, string dest, bool overwrite)
    {
#if NET8_0_OR_GREATER
        File.Move(tmp, dest, overwrite);
#else
        if (overwrite && File.Exists(dest))
        {
            File.Replace(tmp, dest, null);
        }
        else
        {
            File.Move(tmp, dest);
        }
#endif
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // best effort: the temporary name is hidden and unique
        }
    }

    /// <summary>Reads a whole file, refusing anything larger than the input limit before reading it.</summary>
    public static byte[] ReadBounded(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new CertIntegrationException(ErrorIds.FileNotFound, FailureKind.ObjectNotFound, $"The file '{path}' does not exist.");
            }

            if (info.Length > Limits.MaxInputBytes)
            {
                throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                    $"The file '{path}' is {info.Length} bytes; at most {Limits.MaxInputBytes} are read.");
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CertIntegrationException(ErrorIds.FileReadFailed, FailureKind.ReadError, $"Could not read '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>Decodes text files: UTF-8 (with or without BOM), UTF-16 with BOM, as PowerShell's Out-File writes them.</summary>
    public static string DecodeText(byte[] bytes)
    {
        if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE)
        {
            return System.Text.Encoding.Unicode.GetString(bytes, 2, bytes.Length - 2);
        }

        if (bytes.Length >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF)
        {
            return System.Text.Encoding.BigEndianUnicode.GetString(bytes, 2, bytes.Length - 2);
        }

        if (bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF)
        {
            return System.Text.Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3);
        }

        return System.Text.Encoding.UTF8.GetString(bytes);
    }
}
