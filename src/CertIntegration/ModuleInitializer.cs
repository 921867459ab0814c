#if NET
using System;
using System.Management.Automation;
using System.Reflection;

namespace CertIntegration;

/// <summary>
/// PowerShell 7 only: full-name type accelerators for the module's public types (namespace CertIntegration, in the
/// core), so that [CertIntegration.CertificateBundle] keeps working in scripts although the types live in the
/// module's AssemblyLoadContext (PowerShell resolves [TypeName] only among the default context's assemblies). Added
/// when PowerShell imports this assembly and removed with the module; done in C#, as reflection from script costs
/// tens of milliseconds at import. Windows PowerShell 5.1 loads the netstandard2.0 build, which has no need of them.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    /// <summary>Adds the accelerators (again, when PowerShell calls this more than once).</summary>
    public void OnImport()
    {
        if (Accelerators() is not (MethodInfo add, MethodInfo remove))
        {
            return;
        }

        foreach (Type t in PublicTypes())
        {
            remove.Invoke(null, new object[] { t.FullName! });
            add.Invoke(null, new object[] { t.FullName!, t });
        }
    }

    /// <summary>Removes the accelerators with the module.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        if (Accelerators() is not (_, MethodInfo remove))
        {
            return;
        }

        foreach (Type t in PublicTypes())
        {
            remove.Invoke(null, new object[] { t.FullName! });
        }
    }

    private static Type[] PublicTypes() =>
        Array.FindAll(typeof(CertificateBundle).Assembly.GetExportedTypes(), t => t.Namespace == "CertIntegration");

    // The engine's TypeAccelerators class is not public; without it (another engine) there are no accelerators.
    private static (MethodInfo Add, MethodInfo Remove)? Accelerators()
    {
        Type? accelerators = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");
        MethodInfo? add = accelerators?.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(Type) }, null);
        MethodInfo? remove = accelerators?.GetMethod("Remove", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
        return add is null || remove is null ? null : (add, remove);
    }
}
#endif
