# Used by build/bench-keys.sh: the pipeline a user types, in one pwsh, over every service key in a folder.
# Prints "OURS_MS <in-process ms> <PFX files> <peak working set MB>".
param(
    [Parameter(Mandatory)] [string] $KeyDir,
    [Parameter(Mandatory)] [string] $PfxDir,
    [string] $Encryption = 'TripleDesSha1'
)
$ErrorActionPreference = 'Stop'
Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration', 'CertIntegration.psd1'))
$pw = [System.Net.NetworkCredential]::new('', 'bench-password').SecurePassword
$sw = [System.Diagnostics.Stopwatch]::StartNew()
$count = (Get-ChildItem -LiteralPath $KeyDir -Filter *.json | ConvertFrom-ServiceKey |
    New-PfxFromPem -Destination $PfxDir -Password $pw -Encryption $Encryption | Measure-Object).Count
$sw.Stop()
$mem = [System.Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB
'OURS_MS {0:F0} {1} {2:F0}' -f $sw.Elapsed.TotalMilliseconds, $count, $mem
