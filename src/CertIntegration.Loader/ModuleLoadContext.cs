using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace CertIntegration.Loader;

/// <summary>
/// The module's own AssemblyLoadContext, named "CertIntegration". It resolves an assembly from the module's
/// dependencies folder when a file of that name is there, and otherwise leaves it to the default context (the
/// runtime, System.Management.Automation). Nothing is loaded until PowerShell asks for the cmdlet assembly (see
/// <see cref="Register"/>), and BouncyCastle only when code first needs it.
/// </summary>
public sealed class ModuleLoadContext : AssemblyLoadContext
{
    private static readonly object Gate = new();
    private const string CmdletAssembly = "CertIntegration";
    private static ModuleLoadContext? s_context;

    private readonly string _folder;

    private ModuleLoadContext(string folder)
        : base("CertIntegration", isCollectible: false)
    {
        _folder = folder;
    }

    /// <summary>The folder the context loads from.</summary>
    public string Folder => _folder;

    /// <summary>
    /// Makes the cmdlet assembly loadable by name from the default context, which is how PowerShell loads the
    /// manifest's RootModule ('CertIntegration.dll', named, not beside the manifest): a request for "CertIntegration"
    /// that the default context cannot satisfy is answered with the cmdlet assembly of the module's context, loaded
    /// from <paramref name="folder"/>. Called by the bootstrap (the manifest's nested module) before the RootModule
    /// loads. One context per process, made by the first import: importing the module again (also with -Force, also
    /// from another copy of the module) reuses it, as loading into the default context would. Two copies side by side
    /// would give two types of each name, and PowerShell caches cmdlet parameter metadata by type name, so a bundle of
    /// one copy would not bind to a cmdlet of the other.
    /// </summary>
    public static void Register(string folder)
    {
        if (string.IsNullOrEmpty(folder))
        {
            throw new ArgumentException("The module's dependencies folder is required.", nameof(folder));
        }

        lock (Gate)
        {
            if (s_context is not null)
            {
                return;
            }

            s_context = new ModuleLoadContext(Path.GetFullPath(folder));
            Default.Resolving += ResolveCmdletAssembly;
        }
    }

    private static Assembly? ResolveCmdletAssembly(AssemblyLoadContext context, AssemblyName name) =>
        string.Equals(name.Name, CmdletAssembly, StringComparison.OrdinalIgnoreCase) && s_context is { } own
            ? own.LoadFromAssemblyName(new AssemblyName(CmdletAssembly))
            : null;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is not { Length: > 0 } name)
        {
            return null;
        }

        string path = Path.Combine(_folder, name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
