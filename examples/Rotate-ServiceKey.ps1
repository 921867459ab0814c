<#
.SYNOPSIS
    Rotates the certificate service key of a Process Integration Runtime instance the way SAP documents it: create
    the new key, write its PFX, test the endpoint with it, and only then remove the old key.
.DESCRIPTION
    Uses the cf CLI's session (cf login; $env:CF_HOME/.cf/config.json, else ~/.cf/config.json) to reach the Cloud
    Foundry API. The steps:
      1. New-CfServiceKey creates the key -NewName with New-ServiceKeyParameter -Validity (days) and waits for it.
      2. New-PfxFromPem writes its PFX to -PfxPath (owner-only; -Force to replace a file).
      3. Test-MtlsEndpoint calls -Endpoint with that PFX.
      4. Only when the test passes, Remove-CfServiceKey removes the old key -OldName.
    When the test fails, the old key stays and the script stops with an error; the new key stays too, for a look
    (remove it with Remove-CfServiceKey when it is not wanted). -WhatIf shows the four steps and changes nothing;
    -Confirm asks before each one. Returns one object that says what was done.
.EXAMPLE
    $pw = Read-Host -AsSecureString 'PFX password'
    pwsh ./examples/Rotate-ServiceKey.ps1 -ServiceInstance cpi-inbound -OldName cert-2026 -NewName cert-2027 `
        -PfxPath ./cert-2027.pfx -Password $pw -Endpoint https://tenant.it-cpi001-rt.cfapps.eu10.hana.ondemand.com/http/ping
.EXAMPLE
    ./examples/Rotate-ServiceKey.ps1 -ServiceInstance cpi-inbound -OldName cert-2026 -NewName cert-2027 -PfxPath ./cert-2027.pfx -Password $pw -Endpoint $url -WhatIf
#>
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
param(
    [Parameter(Mandatory)] [string] $ServiceInstance,
    [Parameter(Mandatory)] [string] $OldName,
    [Parameter(Mandatory)] [string] $NewName,
    [Parameter(Mandatory)] [string] $PfxPath,
    [Parameter(Mandatory)] [securestring] $Password,
    [Parameter(Mandatory)] [uri] $Endpoint,
    [ValidateRange(1, 365)] [int] $Validity = 365,
    [string] $Space,
    # Extra roots for the Cloud Foundry API's and the endpoint's certificates (a private landscape).
    [object[]] $TrustedCertificate,
    [int[]] $ExpectedStatusCode,
    [switch] $Force
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Command New-CfServiceKey -ErrorAction SilentlyContinue)) {
    Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration', 'CertIntegration.psd1'))
}

$cf = @{ ServiceInstance = $ServiceInstance }
if ($Space) { $cf.Space = $Space }
if ($TrustedCertificate) { $cf.TrustedCertificate = $TrustedCertificate }
$result = [ordered]@{
    ServiceInstance = $ServiceInstance; NewKey = $null; NotAfter = $null; Pfx = $null; Endpoint = $Endpoint; Verdict = $null
    OldKey = $OldName; OldKeyRemoved = $false
}

# 1. The new key.
$key = $null
if ($PSCmdlet.ShouldProcess("service key '$NewName' of '$ServiceInstance'", "Step 1: create it (validity $Validity days)")) {
    $key = New-CfServiceKey @cf -Name $NewName -Parameter (New-ServiceKeyParameter -Validity $Validity) -Confirm:$false
    $result.NewKey = $key.Name
    $result.NotAfter = $key.NotAfter
}

# 2. Its PFX.
$pfx = $null
if ($PSCmdlet.ShouldProcess($PfxPath, "Step 2: write the PFX of '$NewName'")) {
    $pfx = $key | New-PfxFromPem -OutFile $PfxPath -Password $Password -Force:$Force -Confirm:$false
    $result.Pfx = $pfx.FullName
}

# 3. The endpoint, with the new key's PFX.
$test = $null
if ($PSCmdlet.ShouldProcess($Endpoint, "Step 3: test it with the PFX of '$NewName'")) {
    $mtls = @{ Uri = $Endpoint; PfxPath = $pfx.FullName; Password = $Password }
    if ($TrustedCertificate) { $mtls.TrustedCertificate = $TrustedCertificate }
    if ($ExpectedStatusCode) { $mtls.ExpectedStatusCode = $ExpectedStatusCode }
    $test = Test-MtlsEndpoint @mtls
    $result.Verdict = $test.Verdict
    if (-not $test.Success) {
        [pscustomobject]$result
        throw "The endpoint test with the new key '$NewName' failed ($($test.Verdict)): $($test.Diagnosis -join ' ') The old key '$OldName' is kept; the new key '$NewName' stays for a look."
    }
}

# 4. Only now: the old key.
if ($PSCmdlet.ShouldProcess("service key '$OldName' of '$ServiceInstance'", 'Step 4: remove it (only after the test passed)')) {
    Remove-CfServiceKey @cf -Name $OldName -Confirm:$false
    $result.OldKeyRemoved = $true
}

[pscustomobject]$result
