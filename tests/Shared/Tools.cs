using System.Diagnostics;

namespace CertIntegration.TestSupport;

public sealed record ToolResult(int ExitCode, string StdOut, string StdErr)
{
    public string All => StdOut + StdErr;
}

/// <summary>Runs openssl, keytool and friends with a time limit and arguments passed as a list (no shell).</summary>
public static class Tools
{
    public static bool Exists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Any(d => File.Exists(Path.Combine(d, name)));

    public static ToolResult Run(string file, IEnumerable<string> args, string? stdin = null, int timeoutMs = 60_000, string? workDir = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }

        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }

        return new ToolResult(p.ExitCode, outTask.Result, errTask.Result);
    }

    public static ToolResult OpenSsl(params string[] args) => Run("openssl", args);

    /// <summary>
    /// The real pwsh: on PATH, or where `dotnet tool install --global PowerShell` puts it (build/tools.sh installs it
    /// there); null when neither has it.
    /// </summary>
    public static string? Pwsh()
    {
        string? onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "pwsh")).FirstOrDefault(File.Exists);
        string tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "pwsh");
        return onPath ?? (File.Exists(tool) ? tool : null);
    }
}
