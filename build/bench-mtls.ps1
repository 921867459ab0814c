# Used by build/bench-mtls.sh: Test-MtlsEndpoint over COUNT endpoints of one server at one -ThrottleLimit, in one pwsh.
# Prints "OURS_MS <in-process ms> <endpoints that passed> <peak working set MB>".
param(
    [Parameter(Mandatory)] [string] $ServiceKey,
    [Parameter(Mandatory)] [string] $ServerCa,
    [Parameter(Mandatory)] [int] $Port,
    [Parameter(Mandatory)] [int] $Count,
    [Parameter(Mandatory)] [int] $ThrottleLimit
)
$ErrorActionPreference = 'Stop'
Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration', 'CertIntegration.psd1'))
$bundle = ConvertFrom-ServiceKey $ServiceKey
$ca = Import-CertificateBundle $ServerCa
# Warm-up: one endpoint, so the timed run measures the endpoints, not the first use of the code.
$null = Test-MtlsEndpoint "https://127.0.0.1:$Port/warmup" -Certificate $bundle -TrustedCertificate $ca -Quiet
$uris = foreach ($i in 1..$Count) { "https://127.0.0.1:$Port/bench/$i" }
$sw = [System.Diagnostics.Stopwatch]::StartNew()
$passed = @(Test-MtlsEndpoint -Uri $uris -Certificate $bundle -TrustedCertificate $ca -ThrottleLimit $ThrottleLimit -Quiet | Where-Object { $_ }).Count
$sw.Stop()
$mem = [System.Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB
'OURS_MS {0:F0} {1} {2:F0}' -f $sw.Elapsed.TotalMilliseconds, $passed, $mem
