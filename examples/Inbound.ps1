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

# The pair curl wants (curl --cert cert.pem --key key.key): the chain as one PEM file, leaf first, and the key as
# PKCS#8, owner-only on Linux and macOS.
$pem = $bundle | Export-CertificateChain -Format PemBundle -OutFile ([System.IO.Path]::Combine($OutDir, 'cert.pem')) -Force
"Certificate chain written: $($pem.FullName) ($($bundle.ChainLength) certificates, leaf first)"
$key = $bundle | Export-PrivateKey -OutFile ([System.IO.Path]::Combine($OutDir, 'key.key')) -Force
"Private key written: $($key.FullName) (PKCS#8, unencrypted: keep it private)"
