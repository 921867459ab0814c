using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace CertIntegration.Bootstrap;

/// <summary>
/// Runs when PowerShell imports the manifest's nested module, before the RootModule: the manifest names the cmdlet
/// assembly by name only (RootModule = 'CertIntegration.dll', no such file beside the manifest), so PowerShell loads
/// it with Assembly.Load("CertIntegration"), which the default context cannot satisfy; the resolver registered here
/// answers. PowerShell 7: the net8.0 loader (bin/net8.0/CertIntegration.Loader.dll) answers from the module's own
/// AssemblyLoadContext. Windows PowerShell 5.1: AppDomain.AssemblyResolve answers with bin/netstandard2.0's build,
/// loaded from its folder (whose dependencies then resolve from there). Nothing else is loaded here.
/// </summary>
public sealed class ModuleBootstrap : IModuleAssemblyInitializer
{
    private const string CmdletAssembly = "CertIntegration";
    private static readonly object Gate = new object();
    private static bool s_registered;

    /// <summary>Registers the resolver once per process; PowerShell may call this on every import of the module.</summary>
    public void OnImport()
    {
        lock (Gate)
        {
            if (s_registered)
            {
                return;
            }

            string bin = Path.GetDirectoryName(typeof(ModuleBootstrap).Assembly.Location)
                ?? throw new InvalidOperationException("The module's bin folder is unknown.");
            if (typeof(object).Assembly.GetName().Name == "System.Private.CoreLib")
            {
                RegisterCore(bin);
            }
            else
            {
                RegisterDesktop(Path.Combine(Path.Combine(bin, "netstandard2.0"), CmdletAssembly + ".dll"));
            }

            s_registered = true;
        }
    }

    // The load context needs a class derived from AssemblyLoadContext, which netstandard2.0 cannot compile: the
    // net8.0 loader, the one module assembly in the default context, has it.
    private static void RegisterCore(string bin)
    {
        string net8 = Path.Combine(bin, "net8.0");
        Assembly loader = Assembly.LoadFrom(Path.Combine(net8, "CertIntegration.Loader.dll"));
        MethodInfo register = loader.GetType("CertIntegration.Loader.ModuleLoadContext", throwOnError: true)!
            .GetMethod("Register", BindingFlags.Public | BindingFlags.Static)
            ?? throw new InvalidOperationException("CertIntegration.Loader has no Register method.");
        register.Invoke(null, new object[] { Path.Combine(net8, "dependencies") });
    }

    private static void RegisterDesktop(string path)
    {
        AppDomain.CurrentDomain.AssemblyResolve += (sender, args) =>
            string.Equals(new AssemblyName(args.Name).Name, CmdletAssembly, StringComparison.OrdinalIgnoreCase)
                ? Assembly.LoadFrom(path)
                : null;
    }
}
