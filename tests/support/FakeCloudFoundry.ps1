<#
    Helpers for the tests of the Cf cmdlets; dot-source after common.ps1. They start the fake Cloud Foundry API and
    UAA (tests/fakes/FakeCloudFoundry, built by the solution; built here when missing or older than its source) on
    127.0.0.1 with a server certificate of the test PKI, and write a cf CLI config.json naming it, so the cmdlets reach
    the fake as they reach a real landscape: through $env:CF_HOME/.cf/config.json.
#>

$FakeCfProject = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../fakes/FakeCloudFoundry'))

function Start-FakeCloudFoundry {
    param([Parameter(Mandatory)] $Pki, [int] $MaxSeconds = 900)
    $dll = Join-Path $FakeCfProject 'bin/Release/net8.0/FakeCloudFoundry.dll'
    $source = Get-ChildItem -LiteralPath $FakeCfProject -Filter *.cs* -File | Sort-Object LastWriteTimeUtc -Descending | Select-Object -First 1
    if (-not (Test-Path -LiteralPath $dll) -or (Get-Item -LiteralPath $dll).LastWriteTimeUtc -lt $source.LastWriteTimeUtc) {
        $output = & dotnet build $FakeCfProject -c Release -nologo -v q 2>&1
        if ($LASTEXITCODE -ne 0) { throw "Building the fake Cloud Foundry failed: $($output -join "`n")" }
    }
    $folder = Join-Path $TestFolder 'fakecf'
    $null = New-Item -ItemType Directory -Path $folder -Force
    $cert = New-TestServerCertificate -Pki $Pki -Folder $folder -Name 'fakecf'
    $timeout = @('/usr/bin/timeout', '/bin/timeout') | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    for ($attempt = 1; ; $attempt++) {
        $port = Get-FreeTcpPort
        $arguments = @($dll, '--port', "$port", '--cert', $cert.Cert, '--key', $cert.Key, '--chain', $Pki.IntermediateCert,
            '--issuer-cert', $Pki.IntermediateCert, '--issuer-key', $Pki.IntermediateKey, '--root', $Pki.RootCert)
        $file = 'dotnet'
        if ($timeout) { $file = $timeout; $arguments = @("$MaxSeconds", 'dotnet') + $arguments }
        $log = Join-Path $folder "fakecf-$port.log"
        $process = Start-Process -FilePath $file -ArgumentList ($arguments | ForEach-Object { if ($_ -match '\s') { '"' + $_ + '"' } else { $_ } }) `
            -NoNewWindow -PassThru -RedirectStandardOutput $log -RedirectStandardError "$log.err"
        $fake = [pscustomobject]@{ Process = $process; Port = $port; Url = "https://127.0.0.1:$port"; Folder = $folder; LogFile = $log }
        if (Wait-TcpPort -Port $port -Process $process -TimeoutSeconds 60) { return $fake }
        Stop-TestTlsServer $fake
        if ($attempt -ge 3) {
            throw "The fake Cloud Foundry did not start on port ${port}: $(Get-Content -LiteralPath "$log.err" -Raw -ErrorAction SilentlyContinue)"
        }
    }
}

# A call of the fake's test control (/fake/...), outside the cmdlets under test.
function Invoke-FakeCf {
    param([Parameter(Mandatory)] $Fake, [Parameter(Mandatory)] [string] $Path, [string] $Method = 'Post', $Body)
    $arguments = @{ Uri = "$($Fake.Url)$Path"; Method = $Method; SkipCertificateCheck = $true }
    if ($null -ne $Body) { $arguments.Body = ($Body | ConvertTo-Json -Depth 8); $arguments.ContentType = 'application/json' }
    Invoke-RestMethod @arguments
}

# What the cmdlets sent to the fake since the last reset (method, path, query, authorization, body).
function Get-FakeCfRequest {
    param([Parameter(Mandatory)] $Fake)
    @(Invoke-FakeCf -Fake $Fake -Path "/fake/requests" -Method Get | ForEach-Object { $_ })
}

# Resets the fake to its seed (spaces dev and prod, instances cpi-inbound, cpi-shared twice, cpi-prod, four keys).
function Reset-FakeCf {
    param([Parameter(Mandatory)] $Fake)
    $null = Invoke-FakeCf -Fake $Fake -Path '/fake/reset'
}

<#
    Writes $CfHome/.cf/config.json as `cf login` leaves it: Target, AccessToken ("bearer ..."), RefreshToken,
    UaaEndpoint, OrganizationFields and SpaceFields (dev unless -Space), with tokens the fake issued (or -AccessToken).
#>
function Set-FakeCfConfig {
    param([Parameter(Mandatory)] $Fake, [Parameter(Mandatory)] [string] $CfHome, [string] $Space = 'dev', [string] $AccessToken,
        [string] $RefreshToken, [switch] $NoTokens, [switch] $NoSpace)
    $tokens = Invoke-FakeCf -Fake $Fake -Path '/fake/tokens' -Method Get
    $spaces = @{ dev = '5b5f2a9c-0000-4000-8000-000000000001'; prod = '5b5f2a9c-0000-4000-8000-000000000002' }
    $config = [ordered]@{
        ConfigVersion        = 3
        Target               = $Fake.Url
        APIVersion           = '3.180.0'
        AuthorizationEndpoint = "$($Fake.Url)/uaa"
        UaaEndpoint          = "$($Fake.Url)/uaa"
        AccessToken          = if ($NoTokens) { '' } elseif ($AccessToken) { "bearer $AccessToken" } else { "bearer $($tokens.access_token)" }
        RefreshToken         = if ($NoTokens) { '' } elseif ($RefreshToken) { $RefreshToken } else { $tokens.refresh_token }
        UAAOAuthClient       = 'cf'
        UAAOAuthClientSecret = ''
        SSLDisabled          = $false
        OrganizationFields   = [ordered]@{ GUID = '0a0a0a0a-0000-4000-8000-00000000000a'; Name = 'pester-org' }
        SpaceFields          = if ($NoSpace) { [ordered]@{ GUID = ''; Name = '' } } else { [ordered]@{ GUID = $spaces[$Space]; Name = $Space; AllowSSH = $true } }
    }
    $folder = Join-Path $CfHome '.cf'
    $null = New-Item -ItemType Directory -Path $folder -Force
    $config | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath (Join-Path $folder 'config.json') -Encoding UTF8
    [pscustomobject]@{ AccessToken = $config.AccessToken -replace '^bearer ', ''; RefreshToken = $config.RefreshToken }
}

# The error records a command writes (its output is dropped).
function Get-ErrorRecord([scriptblock] $Script) {
    $ErrorActionPreference = 'Continue'
    @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
}
