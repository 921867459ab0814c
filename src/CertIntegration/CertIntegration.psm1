# Chooses the build for this edition of PowerShell and imports its cmdlets; nothing else runs at import.
#  PowerShell 7: the loader (the module's only assembly in the default load context) loads the cmdlets, the core and
#    their dependencies from bin/net8.0/dependencies into the module's own AssemblyLoadContext "CertIntegration",
#    so another module's BouncyCastle or Newtonsoft.Json and ours never meet.
#  Windows PowerShell 5.1: the netstandard2.0 build, whose dependencies resolve from its own folder.
$ErrorActionPreference = 'Stop'

if ($PSEdition -eq 'Core') {
    # Module-qualified Import-Module (not Get-Command, which costs tens of milliseconds at the first call); LoadFrom
    # returns the loader already loaded when the module is imported again.
    $null = [System.Reflection.Assembly]::LoadFrom([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'net8.0', 'CertIntegration.Loader.dll'))

    $assembly = [CertIntegration.Loader.ModuleLoadContext]::LoadModule([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'net8.0', 'dependencies'))
    $inner = Microsoft.PowerShell.Core\Import-Module -Assembly $assembly -PassThru -ErrorAction Stop

    # PowerShell resolves [TypeName] only in the default load context: full-name accelerators keep
    # [CertIntegration.CertificateBundle] (and the other public types) usable in scripts, and go with the module.
    $accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
    $publicTypes = [CertIntegration.Loader.ModuleLoadContext]::PublicTypes($assembly)
    foreach ($type in $publicTypes) {
        $null = $accelerators::Remove($type.FullName)
        $accelerators::Add($type.FullName, $type)
    }

    $ExecutionContext.SessionState.Module.OnRemove = {
        foreach ($type in $publicTypes) { $null = $accelerators::Remove($type.FullName) }
    }.GetNewClosure()
}
else {
    $inner = Microsoft.PowerShell.Core\Import-Module -Name ([System.IO.Path]::Combine($PSScriptRoot, 'bin', 'netstandard2.0', 'CertIntegration.dll')) -PassThru -ErrorAction Stop
}

# The cmdlets are exported from this module by adding them to its export table: after a Remove-Module or
# Import-Module -Force, importing the same assembly again no longer puts its cmdlets into this module's scope,
# so Export-ModuleMember alone would export none. Export-ModuleMember is the fallback where the engine lacks the
# method.
$addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod('AddExportedCmdlet', [System.Reflection.BindingFlags]'Instance, NonPublic')
if ($addExportedCmdlet) {
    foreach ($cmdlet in $inner.ExportedCmdlets.Values) {
        $null = $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmdlet))
    }
}
else {
    Export-ModuleMember -Cmdlet @($inner.ExportedCmdlets.Keys)
}
