<#
.SYNOPSIS
    The outbound chore: the tenant key pair's chain download (<alias>.p7b) becomes the .cer files a receiver imports
    (STRUST, an S/4HANA communication user), and the leaf as the single line a certificate_external key wants.
.EXAMPLE
    pwsh ./examples/Outbound.ps1 out/demo/sap_cloudintegrationcertificate.p7b out/demo/strust
#>
param(
    [Parameter(Mandatory)] [string] $ChainFile,
    [string] $OutDir = '.'
)
$ErrorActionPreference = 'Stop'
Import-Module ([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration', 'CertIntegration.psd1'))

$bundle = Import-CertificateBundle -LiteralPath $ChainFile
"Chain of $($bundle.Subject): $($bundle.ChainLength) certificates, expires in $($bundle.DaysRemaining) days"

# Base64 .cer per certificate, named by role and subject: what STRUST and Windows import.
$bundle | Export-CertificateChain -Destination $OutDir -Force | ForEach-Object { "  $($_.Role): $($_.Name)" }

# The leaf without line breaks, for the X.509 field of a certificate_external service key.
$line = $bundle | Export-CertificateChain -Destination $OutDir -Include Leaf -Format SingleLine -Force
"Single line ($($line.Text.Length) characters) in $($line.Name)"
