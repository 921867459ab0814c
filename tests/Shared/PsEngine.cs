using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace CertIntegration.TestSupport;

public sealed class PsResult
{
    public required Collection<PSObject> Output { get; init; }
    public required List<ErrorRecord> Errors { get; init; }
    public required List<string> Verbose { get; init; }
    public required List<string> Warnings { get; init; }
    public required List<string> Debug { get; init; }
    public List<ProgressRecord> Progress { get; init; } = new();
    public Exception? Terminating { get; init; }

    public IEnumerable<T> Objects<T>() => Output.Select(o => o.BaseObject).OfType<T>();

    public IReadOnlyList<string> ErrorIds => Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]).ToList();

    /// <summary>Everything the user could see, for checks that secrets never appear.</summary>
    public string AllText => string.Join("\n", Output.Select(o => o?.ToString()).Concat(Errors.Select(e => e.ToString() + " " + e.Exception?.ToString())).Concat(Verbose).Concat(Warnings).Concat(Debug)) + " " + Terminating;
}

/// <summary>
/// A real PowerShell engine (System.Management.Automation) with the built module imported from
/// out/CertIntegration, as a user's session would have it.
/// </summary>
public sealed class PsEngine : IDisposable
{
    private readonly Runspace _runspace;

    public PsEngine(bool importModule = true, string? manifest = null)
    {
        var iss = InitialSessionState.CreateDefault2();
        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.Open();
        if (importModule)
        {
            string path = manifest ?? Repo.ModuleManifest;
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"The module is not built at {path}: build CertIntegration.sln first.");
            }

            PsResult r = Run("Import-Module -Name $args[0] -ErrorAction Stop", path);
            if (r.Terminating is not null || r.Errors.Count > 0)
            {
                throw new InvalidOperationException("Import-Module failed: " + r.Terminating + string.Join("\n", r.Errors));
            }
        }
    }

    public Runspace Runspace => _runspace;

    public void SetVariable(string name, object? value) => _runspace.SessionStateProxy.SetVariable(name, value);

    /// <summary>Runs a script; positional arguments are available as $args.</summary>
    public PsResult Run(string script, params object?[] args)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        foreach (object? a in args)
        {
            ps.AddArgument(a);
        }

        Collection<PSObject> output = new();
        Exception? terminating = null;
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException ex)
        {
            terminating = ex;
        }

        return new PsResult
        {
            Output = output,
            Errors = ps.Streams.Error.ToList(),
            Verbose = ps.Streams.Verbose.Select(v => v.Message).ToList(),
            Warnings = ps.Streams.Warning.Select(v => v.Message).ToList(),
            Debug = ps.Streams.Debug.Select(v => v.Message).ToList(),
            Progress = ps.Streams.Progress.ToList(),
            Terminating = terminating,
        };
    }

    /// <summary>A SecureString made the way a script without ConvertTo-SecureString does it.</summary>
    public static System.Security.SecureString Secure(string s) => new System.Net.NetworkCredential(string.Empty, s).SecurePassword;

    public void Dispose() => _runspace.Dispose();
}
