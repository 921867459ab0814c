# Used by build/bench-keys.sh: converts every service key in a folder to a PFX and reports the time in-process.
param([Parameter(Mandatory)] [string] $KeyDir, [Parameter(Mandatory)] [string] $PfxDir)
$ErrorActionPreference = 'Stop'
Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration', 'CertIntegration.psd1'))
$pw = [System.Net.NetworkCredential]::new('', 'bench-password').SecurePassword
$sw = [System.Diagnostics.Stopwatch]::StartNew()
$files = ConvertFrom-ServiceKey -Path ([System.IO.Path]::Combine($KeyDir, '*.json')) | New-PfxFromPem -Destination $PfxDir -Password $pw
$sw.Stop()
$mem = [System.Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB
"CertIntegration (in-process): {0} PFX files in {1:N0} ms, peak working set {2:N0} MB" -f @($files).Count, $sw.Elapsed.TotalMilliseconds, $mem
