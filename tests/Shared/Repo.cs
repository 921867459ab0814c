namespace CertIntegration.TestSupport;

public static class Repo
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CertIntegration.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("CertIntegration.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    public static string ModuleManifest => Path.Combine(Root, "out", "CertIntegration", "CertIntegration.psd1");

    /// <summary>../shared from the project root, or null when absent (tests using it then say they are skipped).</summary>
    public static string? Shared
    {
        get
        {
            string p = Path.GetFullPath(Path.Combine(Root, "..", "shared"));
            return Directory.Exists(p) ? p : null;
        }
    }

    public static string? Corpora => Shared is { } s && Directory.Exists(Path.Combine(s, "corpora")) ? Path.Combine(s, "corpora") : null;

    /// <summary>../shared/fuzz-finds (inputs found by mutation fuzzing, all with password <see cref="FuzzPassword"/>), or null.</summary>
    public static string? FuzzFinds => Shared is { } s && Directory.Exists(Path.Combine(s, "fuzz-finds")) ? Path.Combine(s, "fuzz-finds") : null;

    public const string FuzzPassword = "fuzzpw1";
}

/// <summary>A folder under the system temp folder, removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ci-tests-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string text)
    {
        string p = File(name);
        System.IO.File.WriteAllText(p, text);
        return p;
    }

    public string Write(string name, byte[] bytes)
    {
        string p = File(name);
        System.IO.File.WriteAllBytes(p, bytes);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
