using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.UnitTests;

public class SafeFileTests
{
    private static string[] Entries(string dir) => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    [SkippableFact]
    public void OwnerOnlyFileHasMode0600AndNoTempIsLeft()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes only");
        using var tmp = new TempDir();
        string path = tmp.File("a.pfx");
        SafeFile.Write(path, new byte[] { 1, 2, 3 }, overwrite: false, ownerOnly: true);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(new[] { "a.pfx" }, Entries(tmp.Path));
    }

    [SkippableFact]
    public void OverwritingAWorldReadableFileLeavesAnOwnerOnlyFile()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes only");
        using var tmp = new TempDir();
        string path = tmp.Write("a.pfx", "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        SafeFile.Write(path, new byte[] { 9 }, overwrite: true, ownerOnly: true);
        Assert.Equal(new byte[] { 9 }, File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(new[] { "a.pfx" }, Entries(tmp.Path));
    }

    [Fact]
    public void ExistingFileIsKeptWithoutOverwrite()
    {
        using var tmp = new TempDir();
        string path = tmp.Write("a.pfx", "old");
        var e = Assert.Throws<CertIntegrationException>(() => SafeFile.Write(path, new byte[] { 1 }, overwrite: false, ownerOnly: true));
        Assert.Equal(ErrorIds.FileExists, e.ErrorId);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(new[] { "a.pfx" }, Entries(tmp.Path));
    }

    [Fact]
    public void MissingFolderAndFolderTargetAreClearErrors()
    {
        using var tmp = new TempDir();
        Assert.Equal(ErrorIds.FileWriteFailed, Assert.Throws<CertIntegrationException>(() =>
            SafeFile.Write(Path.Combine(tmp.Path, "no", "a.pfx"), new byte[] { 1 }, false, true)).ErrorId);
        Directory.CreateDirectory(tmp.File("d"));
        Assert.Equal(ErrorIds.FileWriteFailed, Assert.Throws<CertIntegrationException>(() =>
            SafeFile.Write(tmp.File("d"), new byte[] { 1 }, true, true)).ErrorId);
        Assert.Equal(new[] { "d" }, Entries(tmp.Path));
    }

    [SkippableFact]
    public void UnwritableFolderFailsWithoutLeftovers()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes only");
        Skip.If(Environment.UserName == "root", "root writes anywhere");
        using var tmp = new TempDir();
        string dir = Directory.CreateDirectory(tmp.File("ro")).FullName;
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var e = Assert.Throws<CertIntegrationException>(() => SafeFile.Write(Path.Combine(dir, "a.pfx"), new byte[] { 1 }, false, true));
            Assert.Equal(ErrorIds.FileWriteFailed, e.ErrorId);
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void ReadBoundedAndDecodeText()
    {
        using var tmp = new TempDir();
        Assert.Equal(ErrorIds.FileNotFound, Assert.Throws<CertIntegrationException>(() => SafeFile.ReadBounded(tmp.File("none"))).ErrorId);
        Assert.Equal("äb", SafeFile.DecodeText(new byte[] { 0xEF, 0xBB, 0xBF, 0xC3, 0xA4, (byte)'b' }));
        Assert.Equal("äb", SafeFile.DecodeText(System.Text.Encoding.Unicode.GetPreamble().Concat(System.Text.Encoding.Unicode.GetBytes("äb")).ToArray()));
        Assert.Equal("äb", SafeFile.DecodeText(System.Text.Encoding.BigEndianUnicode.GetPreamble().Concat(System.Text.Encoding.BigEndianUnicode.GetBytes("äb")).ToArray()));
        Assert.Equal("äb", SafeFile.DecodeText(System.Text.Encoding.UTF8.GetBytes("äb")));
    }
}
