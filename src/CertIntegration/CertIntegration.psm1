# Chooses the build for this edition of PowerShell and imports its cmdlets; nothing else runs at import.
#  PowerShell 7: the loader (the module's only assembly in the default load context) loads the cmdlets, the core and
#    their dependencies from bin/net8.0/dependencies into the module's own AssemblyLoadContext "CertIntegration",
#    so another module's BouncyCastle or Newtonsoft.Json and ours never meet.
#  Windows PowerShell 5.1: the netstandard2.0 build, whose dependencies resolve from its own folder.
# Import-Module is called module-qualified (Get-Command would cost tens of milliseconds at the first call), and the
# reflection work is done by the loader in C# (from script it costs tens of milliseconds more).
$ErrorActionPreference = 'Stop'

if ($PSEdition -eq 'Core') {
    # LoadFrom returns the loader already loaded when the module is imported again.
    $loader = [System.Reflection.Assembly]::LoadFrom([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'net8.0', 'CertIntegration.Loader.dll'))
    $context = $loader.GetType('CertIntegration.Loader.ModuleLoadContext')
    $assembly = $context::LoadModule([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'net8.0', 'dependencies'))
    $inner = Microsoft.PowerShell.Core\Import-Module -Assembly $assembly -PassThru -ErrorAction Stop

    # Full-name accelerators keep [CertIntegration.CertificateBundle] (and the other public types) usable in
    # scripts: PowerShell resolves type names only in the default load context. They go with the module.
    # OnRemove runs in the module's scope, where $context and $publicTypes are: no GetNewClosure, which would cost
    # tens of milliseconds at import (it makes a dynamic module).
    $publicTypes = $context::AddTypeAccelerators([psobject], $assembly)
    $ExecutionContext.SessionState.Module.OnRemove = {
        $context::RemoveTypeAccelerators([psobject], $publicTypes)
    }
    $exported = $context::ExportCmdlets($ExecutionContext.SessionState.Module, $inner)
}
else {
    $inner = Microsoft.PowerShell.Core\Import-Module -Name ([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'netstandard2.0', 'CertIntegration.dll')) -PassThru -ErrorAction Stop
    $exported = $false
}

if (-not $exported) {
    Export-ModuleMember -Cmdlet @($inner.ExportedCmdlets.Keys)
}
