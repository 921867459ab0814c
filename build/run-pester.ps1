<#
.SYNOPSIS
    Runs the Pester tests (tests/*.Tests.ps1) of the built module with Pester 5.7.1, imported by path.

.DESCRIPTION
    Build the module first (./build/build.sh or ./build/build.ps1). Pester comes from the NuGet packages folder where
    ./build/tools.sh puts it; it is imported by path, so whatever Pester PSModulePath offers is never used.
    Writes an NUnit XML report into TestResults/ and, as the last line, "PESTER <passed> <failed> <skipped>".
    Failed counts failed tests plus test files or blocks that failed outside a test (a syntax error, a failing
    BeforeAll/AfterAll). Skipped counts skipped and inconclusive tests; tests left out by -Tag/-ExcludeTag are not
    counted. The exit code is 1 when anything failed, else 0 (also when the filter selects no test).

.EXAMPLE
    pwsh ./build/run-pester.ps1

.EXAMPLE
    pwsh ./build/run-pester.ps1 -Path tests/New-PfxFromPem.Tests.ps1 -Output Detailed

.EXAMPLE
    TZ=Pacific/Auckland pwsh ./build/run-pester.ps1 -Tag TimeZone -ResultFile TestResults/pester-timezone.xml
#>
[CmdletBinding()]
param(
    # Test files or folders; the default is every tests/*.Tests.ps1.
    [string[]] $Path,

    # Run only tests (or blocks) with one of these tags.
    [string[]] $Tag,

    # Leave out tests (or blocks) with one of these tags.
    [string[]] $ExcludeTag,

    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Output = 'Detailed',

    # The NUnit XML report; relative paths are from the repository root.
    [string] $ResultFile = 'TestResults/pester.xml',

    # Pester.psd1 of Pester 5.7.1; default: $env:CERTINTEGRATION_PESTER (set by build/tools.sh --print),
    # else pester/5.7.1/tools/Pester.psd1 in $env:NUGET_PACKAGES or ~/.nuget/packages.
    [string] $PesterPath
)

$ErrorActionPreference = 'Stop'
$repo = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '..')).ProviderPath
$pesterVersion = [version]'5.7.1'

# From bash, "pwsh -File run-pester.ps1 -Tag a,b" passes one string "a,b".
function Split-List([string[]] $Value) {
    @($Value | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ })
}

if (-not $PesterPath) { $PesterPath = $env:CERTINTEGRATION_PESTER }
if (-not $PesterPath) {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $PesterPath = Join-Path $packages "pester/$pesterVersion/tools/Pester.psd1"
}
if (-not (Test-Path -LiteralPath $PesterPath -PathType Leaf)) {
    Write-Error "Pester $pesterVersion is not at '$PesterPath'. Run ./build/tools.sh first (it downloads Pester into the NuGet packages folder)." -ErrorAction Continue
    'PESTER 0 1 0'
    exit 1
}

Get-Module Pester | Remove-Module -Force
$pester = Import-Module -Name $PesterPath -Force -PassThru -ErrorAction Stop
if ($pester.Version -ne $pesterVersion) {
    Write-Error "'$PesterPath' is Pester $($pester.Version), not $pesterVersion." -ErrorAction Continue
    'PESTER 0 1 0'
    exit 1
}

$paths = Split-List $Path
if ($paths.Count -eq 0) {
    $paths = @(Get-ChildItem -LiteralPath (Join-Path $repo 'tests') -Filter '*.Tests.ps1' -File | ForEach-Object FullName)
}
if (-not [System.IO.Path]::IsPathRooted($ResultFile)) { $ResultFile = Join-Path $repo $ResultFile }
$null = New-Item -ItemType Directory -Path (Split-Path -Parent $ResultFile) -Force

$config = New-PesterConfiguration
$config.Run.Path = $paths
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Output.Verbosity = $Output
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultFile
$config.TestResult.TestSuiteName = 'CertIntegration'
$tags = Split-List $Tag
if ($tags.Count -gt 0) { $config.Filter.Tag = $tags }
$excluded = Split-List $ExcludeTag
if ($excluded.Count -gt 0) { $config.Filter.ExcludeTag = $excluded }

# tests/common.ps1 makes the test PKI once per run into this folder instead of once per file.
$pkiCache = Join-Path ([System.IO.Path]::GetTempPath()) ("certintegration-pester-pki-$PID-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$env:CERTINTEGRATION_TEST_PKI = $pkiCache
try {
    $result = Invoke-Pester -Configuration $config
}
finally {
    Remove-Item Env:CERTINTEGRATION_TEST_PKI -ErrorAction SilentlyContinue
    if (Test-Path -LiteralPath $pkiCache) { Remove-Item -LiteralPath $pkiCache -Recurse -Force }
}

if (-not $result) {
    'PESTER 0 1 0'
    exit 1
}

$failed = $result.FailedCount + $result.FailedContainersCount
if ($failed -eq 0 -and $result.FailedBlocksCount -gt 0) { $failed = $result.FailedBlocksCount }
if ($failed -eq 0 -and $result.Result -eq 'Failed') { $failed = 1 }
$skipped = $result.SkippedCount + $result.InconclusiveCount
"PESTER {0} {1} {2}" -f $result.PassedCount, $failed, $skipped
if ($failed -gt 0) { exit 1 }
exit 0
