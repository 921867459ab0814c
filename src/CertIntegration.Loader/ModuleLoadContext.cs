using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace CertIntegration.Loader;

/// <summary>
/// The module's own AssemblyLoadContext, named "CertIntegration". It resolves an assembly from the module's
/// dependencies folder when a file of that name is there, and otherwise leaves it to the default context (the
/// runtime, System.Management.Automation). Nothing is loaded until <see cref="LoadModule"/> is called, and
/// BouncyCastle only when code first needs it.
/// </summary>
public sealed class ModuleLoadContext : AssemblyLoadContext
{
    private static readonly object Gate = new();
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
    /// Loads the cmdlet assembly (CertIntegration.dll) from <paramref name="folder"/> into the module's context and
    /// returns it for Import-Module -Assembly. One context per process, made by the first import: importing the
    /// module again (also with -Force, also from another copy of the module) reuses it, as loading into the default
    /// context would. Two copies side by side would give two types of each name, and PowerShell caches cmdlet
    /// parameter metadata by type name, so a bundle of one copy would not bind to a cmdlet of the other.
    /// </summary>
    public static Assembly LoadModule(string folder)
    {
        if (string.IsNullOrEmpty(folder))
        {
            throw new ArgumentException("The module's dependencies folder is required.", nameof(folder));
        }

        string full = Path.GetFullPath(folder);
        lock (Gate)
        {
            s_context ??= new ModuleLoadContext(full);
            return s_context.LoadFromAssemblyName(new AssemblyName("CertIntegration"));
        }
    }

    /// <summary>
    /// The module's public types (namespace CertIntegration, in the core), for the full-name type accelerators the
    /// module adds: PowerShell resolves type names only among the default context's assemblies.
    /// </summary>
    public static Type[] PublicTypes(Assembly module)
    {
        AssemblyLoadContext context = GetLoadContext(module) as ModuleLoadContext
            ?? throw new ArgumentException("The assembly was not loaded by the module's load context.", nameof(module));
        Assembly core = context.LoadFromAssemblyName(new AssemblyName("CertIntegration.Core"));
        return Array.FindAll(core.GetExportedTypes(), t => t.Namespace == "CertIntegration");
    }

    /// <summary>
    /// Adds full-name type accelerators for the module's public types (PowerShell resolves [TypeName] only among the
    /// default context's assemblies), through the engine's TypeAccelerators class found from
    /// <paramref name="engineType"/> (any type of System.Management.Automation, e.g. [psobject]). Returns the types,
    /// for <see cref="RemoveTypeAccelerators"/>. Done here rather than in the psm1: reflection from script costs
    /// tens of milliseconds at import.
    /// </summary>
    public static Type[] AddTypeAccelerators(Type engineType, Assembly module)
    {
        Type[] types = PublicTypes(module);
        Type? accelerators = engineType.Assembly.GetType("System.Management.Automation.TypeAccelerators");
        MethodInfo? add = accelerators?.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(Type) }, null);
        MethodInfo? remove = accelerators?.GetMethod("Remove", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
        if (add is null || remove is null)
        {
            return Array.Empty<Type>();
        }

        // TypeAccelerators is one unsynchronised dictionary per process: runspaces that import the module at the same
        // time (parallel hosts, tests) would corrupt it. Our writes take one lock, and names that already map to the
        // same type are left alone, so a second import writes nothing. Reading the table (TypeAccelerators.Get copies it)
        // is inside the lock too: a copy made while another import writes fails with "same key has already been added".
        lock (AcceleratorLock)
        {
            var current = accelerators!.GetProperty("Get", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as IDictionary<string, Type>;
            foreach (Type t in types)
            {
                if (current is not null && current.TryGetValue(t.FullName!, out Type? existing) && existing == t)
                {
                    continue;
                }

                remove.Invoke(null, new object[] { t.FullName! });
                add.Invoke(null, new object[] { t.FullName!, t });
            }
        }

        return types;
    }

    private static readonly object AcceleratorLock = new();

    /// <summary>Removes the accelerators <see cref="AddTypeAccelerators"/> added (when the module is removed).</summary>
    public static void RemoveTypeAccelerators(Type engineType, Type[] types)
    {
        MethodInfo? remove = engineType.Assembly.GetType("System.Management.Automation.TypeAccelerators")
            ?.GetMethod("Remove", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
        lock (AcceleratorLock)
        {
            foreach (Type t in types)
            {
                remove?.Invoke(null, new object[] { t.FullName! });
            }
        }
    }

    /// <summary>
    /// Exports the cmdlets of <paramref name="inner"/> (the PSModuleInfo of Import-Module -Assembly) from
    /// <paramref name="outer"/> (the psm1's own PSModuleInfo) by adding them to its export table. After a
    /// Remove-Module or Import-Module -Force, importing the same assembly again no longer puts its cmdlets into the
    /// psm1's scope, so Export-ModuleMember alone would export none. False when the engine lacks the method; the
    /// psm1 then falls back to Export-ModuleMember.
    /// </summary>
    public static bool ExportCmdlets(object outer, object inner)
    {
        MethodInfo? add = outer.GetType().GetMethod("AddExportedCmdlet", BindingFlags.Instance | BindingFlags.NonPublic);
        if (add is null || inner.GetType().GetProperty("ExportedCmdlets")?.GetValue(inner) is not IDictionary cmdlets)
        {
            return false;
        }

        foreach (DictionaryEntry e in cmdlets)
        {
            add.Invoke(outer, new[] { e.Value });
        }

        return true;
    }

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
