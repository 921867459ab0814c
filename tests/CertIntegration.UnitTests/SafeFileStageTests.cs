using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>SafeFile.Stage / Commit / Discard: the two halves New-PfxFromPem's workers and pipeline thread use.</summary>
public class SafeFileStageTests
{
    private static string[] Entries(string dir) => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void StagedFileAppearsOnlyOnCommit()
    {
        using var tmp = new TempDir();
        string path = tmp.File("a.pfx");
        SafeFile.StagedFile staged = SafeFile.Stage(path, new byte[] { 1, 2, 3 }, overwrite: false, ownerOnly: true);
        Assert.False(File.Exists(path));
        string hidden = Assert.Single(Entries(tmp.Path));
        Assert.StartsWith(".a.pfx.", hidden, StringComparison.Ordinal);
        Assert.EndsWith(".tmp", hidden, StringComparison.Ordinal);

        staged.Commit();
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(new[] { "a.pfx" }, Entries(tmp.Path));
        staged.Discard(); // after a commit: nothing happens
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void DiscardLeavesNothing()
    {
        using var tmp = new TempDir();
        SafeFile.StagedFile staged = SafeFile.Stage(tmp.File("a.pfx"), new byte[] { 1 }, overwrite: false, ownerOnly: true);
        staged.Discard();
        Assert.Empty(Entries(tmp.Path));
        Assert.Throws<InvalidOperationException>(() => staged.Commit());
    }

    [Fact]
    public void CommitWithoutOverwriteRefusesAFileThatAppearedMeanwhile()
    {
        using var tmp = new TempDir();
        string path = tmp.File("a.pfx");
        SafeFile.StagedFile staged = SafeFile.Stage(path, new byte[] { 1 }, overwrite: false, ownerOnly: true);
        File.WriteAllText(path, "theirs");
        var e = Assert.Throws<CertIntegrationException>(() => staged.Commit());
        Assert.Equal(ErrorIds.FileExists, e.ErrorId);
        Assert.Equal("theirs", File.ReadAllText(path));
        Assert.Equal(new[] { "a.pfx" }, Entries(tmp.Path)); // the staged temporary file is gone too
    }

    [Fact]
    public void StageRefusesAnExistingFileWithoutOverwrite()
    {
        using var tmp = new TempDir();
        string path = tmp.Write("a.pfx", "old");
        var e = Assert.Throws<CertIntegrationException>(() => SafeFile.Stage(path, new byte[] { 1 }, overwrite: false, ownerOnly: true));
        Assert.Equal(ErrorIds.FileExists, e.ErrorId);
        Assert.Equal(new[] { "a.pfx" }, Entries(tmp.Path));
    }
}
