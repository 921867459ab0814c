#!/usr/bin/env pwsh
<#
    Packs the built module (out/CertIntegration, whatever it holds) into out/CertIntegration.<version>.nupkg,
    a package that Install-PSResource and Save-PSResource install from a local file repository.
    Usage: ./build/package.ps1 [-ModulePath out/CertIntegration] [-OutputPath out]    (build first: ./build/build.ps1)
           ./build/package.sh                                                        (the same from bash)

    The standard tooling does the packing: Publish-PSResource into an empty local repository in a temporary folder,
    which works offline. It runs in a child pwsh so that the repository it registers never reaches the user's
    PSResourceGet settings: on Linux and macOS the child gets a temporary HOME (the settings move with it); Windows
    keeps them in the user profile whatever the environment says, so there the repository gets a unique name and is
    unregistered again, also when publishing fails.
#>
[CmdletBinding()]
[OutputType([System.IO.FileInfo])]
param(
    [string] $ModulePath = [System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration'),
    [string] $OutputPath = [System.IO.Path]::Combine($PSScriptRoot, '..', 'out')
)
$ErrorActionPreference = 'Stop'

$ModulePath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ModulePath)
$OutputPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputPath)
$manifest = [System.IO.Path]::Combine($ModulePath, 'CertIntegration.psd1')
if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
    throw "No built module at $ModulePath (CertIntegration.psd1 is missing). Run ./build/build.sh or ./build/build.ps1 first."
}

# This very pwsh (also when it is the dotnet global tool, whose process is dotnet itself); from Windows PowerShell the one on PATH.
$pwsh = @('pwsh', 'pwsh.exe') | ForEach-Object { [System.IO.Path]::Combine($PSHOME, $_) } |
    Where-Object { $PSVersionTable.PSEdition -eq 'Core' -and (Test-Path -LiteralPath $_ -PathType Leaf) } | Select-Object -First 1
if (-not $pwsh) {
    $pwsh = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source
    if (-not $pwsh) { throw 'Packing needs pwsh 7.4 or later (it ships Microsoft.PowerShell.PSResourceGet); pwsh is not on PATH.' }
}
$onWindows = [System.IO.Path]::DirectorySeparatorChar -eq '\'

$work = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'ci-package-' + [guid]::NewGuid().ToString('N'))
$repository = [System.IO.Path]::Combine($work, 'repository')
$tempHome = [System.IO.Path]::Combine($work, 'home')
$null = New-Item -ItemType Directory -Path $repository, $tempHome

$publish = {
    param([string] $ModulePath, [string] $Repository, [string] $Name, [string] $SettingsUnder)
    $ErrorActionPreference = 'Stop'
    $settings = [Environment]::GetFolderPath('LocalApplicationData')
    if ($SettingsUnder -and -not $settings.StartsWith($SettingsUnder)) {
        throw "PSResourceGet would keep its settings in '$settings', not in the temporary '$SettingsUnder'; nothing was registered."
    }
    Import-Module Microsoft.PowerShell.PSResourceGet -MinimumVersion 1.0.0
    $version = (Test-ModuleManifest -Path ([System.IO.Path]::Combine($ModulePath, 'CertIntegration.psd1'))).Version
    Register-PSResourceRepository -Name $Name -Uri $Repository -Trusted
    try {
        Publish-PSResource -Path $ModulePath -Repository $Name
    }
    finally {
        Unregister-PSResourceRepository -Name $Name
    }
    $version.ToString()
}

$saved = @{}
$isolate = if ($onWindows) { @{} } else {
    @{
        HOME            = $tempHome
        XDG_DATA_HOME   = [System.IO.Path]::Combine($tempHome, '.local', 'share')
        XDG_CONFIG_HOME = [System.IO.Path]::Combine($tempHome, '.config')
        XDG_CACHE_HOME  = [System.IO.Path]::Combine($tempHome, '.cache')
    }
}
try {
    foreach ($name in $isolate.Keys) {
        # .NET answers an empty path for a special folder that does not exist, and PSResourceGet then writes into the working directory.
        $null = New-Item -ItemType Directory -Path $isolate[$name] -Force
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $isolate[$name])
    }

    $name = 'CertIntegrationPack-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
    $result = & $pwsh -NoProfile -NonInteractive -Command $publish -args $ModulePath, $repository, $name, $(if ($onWindows) { '' } else { $tempHome })
    if ($LASTEXITCODE -ne 0) { throw "Publish-PSResource failed in $pwsh (exit code $LASTEXITCODE)." }
    $version = @($result)[-1]

    $nupkg = [System.IO.Path]::Combine($repository, "CertIntegration.$version.nupkg")
    if (-not (Test-Path -LiteralPath $nupkg -PathType Leaf)) {
        $made = (Get-ChildItem -LiteralPath $repository -Name) -join ', '
        throw "Publish-PSResource did not write CertIntegration.$version.nupkg (the repository holds: $made)."
    }

    $null = New-Item -ItemType Directory -Path $OutputPath -Force
    $target = [System.IO.Path]::Combine($OutputPath, "CertIntegration.$version.nupkg")
    Move-Item -LiteralPath $nupkg -Destination $target -Force
    Get-Item -LiteralPath $target
}
finally {
    foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
