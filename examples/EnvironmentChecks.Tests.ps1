<#
.SYNOPSIS
    Pester environment check for a runbook: do the service keys and certificate files stay valid, and do the
    endpoints answer over mTLS?

.DESCRIPTION
    Point it at a folder of service keys, a folder of certificate files and a list of endpoints, through the
    parameters below (Pester 5 containers) or environment variables:

        $container = New-PesterContainer -Path .\EnvironmentChecks.Tests.ps1 -Data @{
            ServiceKeyFolder  = 'D:\cpi\keys'            # *.json service keys (key-type certificate or certificate_external)
            CertificateFolder = 'D:\cpi\certificates'    # PEM, DER, .cer, .p7b, .pfx (no password), JKS (no password)
            Endpoint          = @('/http/ping', 'https://partner.example.com/health')
            MinimumDaysValid  = 30
        }
        Invoke-Pester -Container $container -Output Detailed

    Environment variables (used when the parameter is not given): CERTCHECK_SERVICE_KEYS, CERTCHECK_CERTIFICATES,
    CERTCHECK_ENDPOINTS (separated by ';'), CERTCHECK_MIN_DAYS, CERTCHECK_TRUSTED (';'-separated root files the
    other side trusts, for the chain check), CERTCHECK_SERVER_TRUSTED (';'-separated root files to trust for the
    endpoints' own certificates, for servers with a private CA), CERTCHECK_PURPOSE (Client or Server, for the
    certificate files).

    Per service key and per certificate file it checks, with Test-CertificateBundle: the expiry window, the Client
    Authentication key usage (Server Authentication with -CertificatePurpose Server), the chain (complete, not
    outliving its CAs, ending at a trusted root when -TrustedCertificate is given) and everything else the cmdlet
    checks (key and certificate, weak keys, SHA-1, the service key's certificatedetails). Per endpoint and service
    key it calls the endpoint with Test-MtlsEndpoint and expects a 2xx answer (or -ExpectedStatusCode). An endpoint
    is an absolute URL or a path relative to each service key's url; 'orders-key.json|/http/orders' calls it with
    that one key only. Failing tests quote the finding messages and the mTLS diagnosis, so the log says what to do.

    Requires Pester 5 and the CertIntegration module.
#>
param(
    # Folder of service key files (*.json).
    [string] $ServiceKeyFolder = $env:CERTCHECK_SERVICE_KEYS,

    # Folder of certificate files (every file in it is read; subfolders are not).
    [string] $CertificateFolder = $env:CERTCHECK_CERTIFICATES,

    # Endpoints to call with the service keys: absolute URLs or paths relative to each key's url; "key.json|uri" for one key.
    [string[]] $Endpoint = @(if ($env:CERTCHECK_ENDPOINTS) { $env:CERTCHECK_ENDPOINTS -split ';' | ForEach-Object { $_.Trim() } | Where-Object { $_ } }),

    # Days each certificate must still be valid.
    [int] $MinimumDaysValid = $(if ($env:CERTCHECK_MIN_DAYS) { [int]$env:CERTCHECK_MIN_DAYS } else { 30 }),

    # Root certificate files the other side trusts: each chain must end at one of them (not checked when empty).
    [string[]] $TrustedCertificate = @(if ($env:CERTCHECK_TRUSTED) { $env:CERTCHECK_TRUSTED -split ';' | Where-Object { $_ } }),

    # Root certificate files to trust for the endpoints' server certificates (a private CA); public CAs need none.
    [string[]] $ServerTrustedCertificate = @(if ($env:CERTCHECK_SERVER_TRUSTED) { $env:CERTCHECK_SERVER_TRUSTED -split ';' | Where-Object { $_ } }),

    # What the certificate files are for: Client (default) or Server.
    [ValidateSet('Client', 'Server')]
    [string] $CertificatePurpose = $(if ($env:CERTCHECK_PURPOSE) { $env:CERTCHECK_PURPOSE } else { 'Client' }),

    # Status codes that count as success for the endpoints; default any 2xx.
    [int[]] $ExpectedStatusCode = @(),

    # Seconds per endpoint call.
    [int] $TimeoutSec = 60
)

BeforeDiscovery {
    $settings = @{
        MinimumDaysValid = $MinimumDaysValid; TrustedCertificate = @($TrustedCertificate); ServerTrustedCertificate = @($ServerTrustedCertificate)
        ExpectedStatusCode = @($ExpectedStatusCode); TimeoutSec = $TimeoutSec
    }
    $keyFiles = @(if ($ServiceKeyFolder) { Get-ChildItem -LiteralPath $ServiceKeyFolder -Filter '*.json' -File -ErrorAction Stop | Sort-Object Name })
    $certificateFiles = @(if ($CertificateFolder) { Get-ChildItem -LiteralPath $CertificateFolder -File -ErrorAction Stop | Sort-Object Name })

    $ServiceKeys = @($keyFiles | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName; Purpose = 'Client' } + $settings })
    $CertificateFiles = @($certificateFiles | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName; Purpose = $CertificatePurpose } + $settings })
    $Calls = @(foreach ($e in $Endpoint) {
            $keyName, $uri = if ($e -match '^([^|]+\.json)\|(.+)$') { $Matches[1], $Matches[2] } else { $null, $e }
            foreach ($k in $keyFiles) {
                if (-not $keyName -or $k.Name -eq $keyName) { @{ Uri = $uri; Name = $k.Name; Path = $k.FullName } + $settings }
            }
            if ($keyName -and -not ($keyFiles | Where-Object Name -EQ $keyName)) {
                @{ Uri = $uri; Name = $keyName; Path = $null } + $settings
            }
        })
    $Configured = @{ Count = $ServiceKeys.Count + $CertificateFiles.Count + $Calls.Count; ServiceKeyFolder = "$ServiceKeyFolder"; CertificateFolder = "$CertificateFolder" }
}

BeforeAll {
    if (-not (Get-Module CertIntegration)) { Import-Module CertIntegration -ErrorAction Stop }

    # The results of one file, and the findings among them with the given codes, as text for -Because.
    function Get-Finding {
        param($Result, [string[]] $Code)
        @($Result | ForEach-Object { $r = $_; $r.Findings | Where-Object { $_.Severity -eq 'Error' -and (-not $Code -or $_.Code -in $Code) } |
                ForEach-Object { "$($r.CommonName): $($_.Code): $($_.Message)" } })
    }

    function Invoke-CertificateTest {
        param([string] $Path, [string] $Purpose, [int] $MinimumDaysValid, [string[]] $TrustedCertificate)
        $params = @{ LiteralPath = $Path; Purpose = $Purpose; MinimumDaysValid = $MinimumDaysValid; ErrorAction = 'Stop' }
        if ($TrustedCertificate) { $params.TrustedCertificate = $TrustedCertificate }
        @(Test-CertificateBundle @params)
    }
}

Describe 'Environment check configuration' -ForEach @($Configured) {
    It 'has something to check' {
        $Count | Should -BeGreaterThan 0 -Because "no service keys (folder '$ServiceKeyFolder'), certificate files (folder '$CertificateFolder') or endpoints were found; give them as parameters or CERTCHECK_* environment variables"
    }
}

Describe '<Kind> <Name>' -ForEach @(@($ServiceKeys | ForEach-Object { $_ + @{ Kind = 'Service key' } }) + @($CertificateFiles | ForEach-Object { $_ + @{ Kind = 'Certificate file' } })) {
    BeforeAll {
        $script:results = Invoke-CertificateTest -Path $Path -Purpose $Purpose -MinimumDaysValid $MinimumDaysValid -TrustedCertificate $TrustedCertificate
    }

    It 'holds a certificate' {
        $results.Count | Should -BeGreaterThan 0
    }

    It 'is valid for at least <MinimumDaysValid> more days' {
        $found = Get-Finding $results 'Expired', 'NotYetValid', 'ExpiresSoon'
        $found | Should -BeNullOrEmpty -Because ($found -join ' ')
    }

    It 'carries the key usage for <Purpose> authentication' {
        $found = Get-Finding $results 'ClientAuthenticationMissing', 'ServerAuthenticationMissing'
        $found | Should -BeNullOrEmpty -Because ($found -join ' ')
    }

    It 'has a complete chain that the other side trusts' {
        $found = Get-Finding $results 'ChainIncomplete', 'RootNotTrusted', 'IntermediateExpiresFirst'
        $found | Should -BeNullOrEmpty -Because ($found -join ' ')
    }

    It 'passes every other check' {
        $found = Get-Finding $results
        $found | Should -BeNullOrEmpty -Because ($found -join ' ')
    }
}

Describe 'Endpoint <Uri> with <Name>' -ForEach $Calls {
    It 'answers over mTLS' {
        $Path | Should -Not -BeNullOrEmpty -Because "the service key '$Name' named for this endpoint is not in the folder"
        $bundle = ConvertFrom-ServiceKey -LiteralPath $Path -ErrorAction Stop
        $params = @{ Uri = $Uri; Certificate = $bundle; TimeoutSec = $TimeoutSec }
        if ($ExpectedStatusCode) { $params.ExpectedStatusCode = $ExpectedStatusCode }
        if ($ServerTrustedCertificate) { $params.TrustedCertificate = $ServerTrustedCertificate }
        $result = Test-MtlsEndpoint @params
        $result.Success | Should -BeTrue -Because "$($result.Verdict): $($result.Diagnosis -join ' ')"
    }
}
