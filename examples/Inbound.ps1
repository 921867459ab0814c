<#
.SYNOPSIS
    The inbound chore in one pipeline: a Process Integration Runtime service key (key-type certificate) becomes a PFX
    for Postman, S/4HANA STRUST or a BTP destination, plus the cert.pem/key.key pair curl wants.
.EXAMPLE
    pwsh ./examples/Inbound.ps1 out/demo/cpi-cert-key.json out/demo
#>
param(
    [Parameter(Mandatory)] [string] $ServiceKey,
    [string] $OutDir = '.'
)
$ErrorActionPreference = 'Stop'
Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration', 'CertIntegration.psd1'))

# In real use: $pw = Read-Host -AsSecureString 'PFX password'
$pw = [System.Net.NetworkCredential]::new('', 'demo-only-password').SecurePassword

$bundle = ConvertFrom-ServiceKey -LiteralPath $ServiceKey
$bundle

$pfx = $bundle | New-PfxFromPem -OutFile ([System.IO.Path]::Combine($OutDir, 'client.pfx')) -Password $pw -Force
"PFX written: $($pfx.FullName) ($($pfx.Length) bytes, 3DES/SHA-1 profile: Windows Server 2016, STRUST and Java 8 read it)"
