<#
.SYNOPSIS
    Pester environment check: can this machine call the Cloud Integration endpoints with its client certificates?

.DESCRIPTION
    Run before a go-live, after a certificate renewal, or on a schedule:

        Invoke-Pester -Path .\Mtls.Tests.ps1 -Output Detailed

    Configure the service keys and the endpoints in $Checks below (or set MTLS_CHECKS to the path of a .psd1 file
    holding the same array). Each check reads a service key, checks the certificate locally (private key, expiry,
    Client Authentication key usage), then calls the endpoints with Test-MtlsEndpoint. A failing test shows the
    diagnosis of Test-MtlsEndpoint, so the report says why, not only that it failed.

    Requires Pester 5 and the CertIntegration module.
#>

BeforeDiscovery {
    # One entry per service key: the key file, the endpoints (relative to the key's url, or absolute), the status
    # codes that count as success (default: any 2xx) and, for a server with a private CA, the file of its root
    # (TrustedCertificate: PEM, DER, .p7b). Paths are built with Join-Path, so the file runs on Windows and Linux.
    $keys = Join-Path $PSScriptRoot 'keys'
    $Checks = @(
        @{ Name = 'Orders runtime'; ServiceKey = (Join-Path $keys 'orders-cert-key.json'); Endpoints = @('/http/orders/ping', '/http/orders/health'); Expected = @(); TrustedCertificate = $null }
        # @{ Name = 'Partner gateway'; ServiceKey = (Join-Path $keys 'partner-key.json'); Endpoints = @('/http/partner/ping'); Expected = @(200, 202); TrustedCertificate = (Join-Path $keys 'partner-root.cer') }
    )
    if ($env:MTLS_CHECKS) {
        $Checks = Import-PowerShellDataFile -Path $env:MTLS_CHECKS | ForEach-Object { $_.Checks }
    }
}

BeforeAll {
    Import-Module CertIntegration -ErrorAction Stop
    $script:MinDaysRemaining = if ($env:MTLS_MIN_DAYS) { [int]$env:MTLS_MIN_DAYS } else { 30 }
}

Describe 'Client certificate <Name>' -ForEach $Checks {
    BeforeAll {
        $script:bundle = ConvertFrom-ServiceKey -LiteralPath $ServiceKey -ErrorAction Stop
    }

    It 'has its private key' {
        $bundle.HasPrivateKey | Should -BeTrue -Because 'mTLS needs the private key that belongs to the certificate'
    }

    It 'does not expire soon' {
        $bundle.DaysRemaining | Should -BeGreaterOrEqual $MinDaysRemaining -Because "the certificate expires on $($bundle.NotAfter); create a new service key in time"
    }

    It 'is issued for client authentication' {
        $eku = $bundle.Certificate.Extensions | Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension] }
        if ($eku) {
            $eku.EnhancedKeyUsages.Value | Should -Contain '1.3.6.1.5.5.7.3.2' -Because "SAP's load balancers reject certificates without the Client Authentication key usage"
        }
    }

    It 'authenticates at <_>' -ForEach $Endpoints {
        $params = @{ Uri = $_; Certificate = $bundle; TimeoutSec = 60 }
        if ($Expected) { $params.ExpectedStatusCode = $Expected }
        if ($TrustedCertificate) { $params.TrustedCertificate = Import-CertificateBundle -LiteralPath $TrustedCertificate -ErrorAction Stop }
        $result = Test-MtlsEndpoint @params
        $because = "$($result.Verdict): " + ($result.Diagnosis -join ' ')
        $result.Success | Should -BeTrue -Because $because
    }
}
