<#
    Shared by every tests/*.Tests.ps1; dot-source it in the file's BeforeAll and clean up in its AfterAll:

        BeforeAll { . (Join-Path $PSScriptRoot 'common.ps1') }
        AfterAll { Remove-TestFolder }

    It imports the built module (out/CertIntegration/CertIntegration.psd1), makes $TestFolder (a temp folder of this
    test file) and defines helpers: Invoke-OpenSsl, Get-TestPki (root CA -> intermediate CA -> client certificate,
    made with openssl), New-TestServiceKey / New-ServiceKeyFile (service key JSON files) and Get-CompletionText.
#>

$ModuleManifest = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../out/CertIntegration/CertIntegration.psd1'))
if (-not (Test-Path -LiteralPath $ModuleManifest -PathType Leaf)) {
    throw "The module is not built: $ModuleManifest does not exist. Run ./build/build.sh (or ./build/build.ps1) first."
}
Import-Module $ModuleManifest -Force -ErrorAction Stop

$TestFolder = Join-Path ([System.IO.Path]::GetTempPath()) ('certintegration-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
$null = New-Item -ItemType Directory -Path $TestFolder

function Remove-TestFolder {
    if ($TestFolder -and (Test-Path -LiteralPath $TestFolder)) {
        Remove-Item -LiteralPath $TestFolder -Recurse -Force
    }
}

function Invoke-OpenSsl {
    param([Parameter(Mandatory)] [string[]] $Arguments)
    $ErrorActionPreference = 'Continue'
    $output = & openssl @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "openssl $($Arguments -join ' ') failed ($LASTEXITCODE): $($output -join "`n")"
    }
    $output | ForEach-Object { "$_" }
}

<#
    A small PKI like SAP's: 'CN=Pester Root CA' -> 'CN=Pester Intermediate CA' -> 'CN=Pester Client' (clientAuth EKU),
    RSA 2048, valid 30 days. Returns the file paths:
      RootCert, RootKey, IntermediateCert, IntermediateKey, LeafCert,
      LeafKey (PKCS#8, "BEGIN PRIVATE KEY", as openssl 3 writes it), LeafRsaKey (PKCS#1, "BEGIN RSA PRIVATE KEY"),
      ChainFile (intermediate + root PEM), FullChainFile (leaf + intermediate + root PEM).
    build/run-pester.ps1 sets CERTINTEGRATION_TEST_PKI to a folder of its run, so the PKI is made once per run and
    shared by the files; without it (Invoke-Pester by hand) every file makes its own inside $TestFolder.
#>
function Get-TestPki {
    $folder = if ($env:CERTINTEGRATION_TEST_PKI) { $env:CERTINTEGRATION_TEST_PKI } else { Join-Path $TestFolder 'pki' }
    $files = [ordered]@{
        RootCert = 'root.crt'; RootKey = 'root.key'; IntermediateCert = 'intermediate.crt'; IntermediateKey = 'intermediate.key'
        LeafCert = 'client.crt'; LeafKey = 'client.key'; LeafRsaKey = 'client.rsa.key'; ChainFile = 'chain.pem'; FullChainFile = 'fullchain.pem'
    }
    $complete = Join-Path $folder 'complete'
    if (-not (Test-Path -LiteralPath $complete)) {
        # Made in a folder of its own and renamed when complete, so a failed or concurrent run never leaves half a PKI.
        $partial = "$folder.partial-" + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = New-Item -ItemType Directory -Path $partial -Force
        try {
            New-TestPkiFiles -Folder $partial -Files $files
            $null = New-Item -ItemType File -Path (Join-Path $partial 'complete')
            $parent = Split-Path -Parent $folder
            if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent -Force }
            try {
                [System.IO.Directory]::Move($partial, $folder)
            }
            catch {
                if (-not (Test-Path -LiteralPath $complete)) { throw }
            }
        }
        finally {
            if (Test-Path -LiteralPath $partial) { Remove-Item -LiteralPath $partial -Recurse -Force }
        }
    }

    $pki = [ordered]@{}
    foreach ($name in $files.Keys) { $pki[$name] = Join-Path $folder $files[$name] }
    [pscustomobject]$pki
}

function New-TestPkiFiles {
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [System.Collections.IDictionary] $Files)
    $f = @{}
    foreach ($name in $Files.Keys) { $f[$name] = Join-Path $Folder $Files[$name] }
    $cnf = Join-Path $Folder 'pki.cnf'
    @'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
'@ | Set-Content -LiteralPath $cnf -Encoding Ascii

    $serial = Join-Path $Folder 'ca.srl'
    $intCsr = Join-Path $Folder 'intermediate.csr'
    $leafCsr = Join-Path $Folder 'client.csr'
    $null = Invoke-OpenSsl @('req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $f.RootKey, '-out', $f.RootCert, '-days', '30',
        '-config', $cnf, '-extensions', 'v3_root', '-subj', '/CN=Pester Root CA')
    $null = Invoke-OpenSsl @('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $f.IntermediateKey, '-out', $intCsr, '-config', $cnf,
        '-subj', '/CN=Pester Intermediate CA')
    $null = Invoke-OpenSsl @('x509', '-req', '-in', $intCsr, '-CA', $f.RootCert, '-CAkey', $f.RootKey, '-CAserial', $serial, '-CAcreateserial',
        '-out', $f.IntermediateCert, '-days', '30', '-extfile', $cnf, '-extensions', 'v3_intermediate')
    $null = Invoke-OpenSsl @('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $f.LeafKey, '-out', $leafCsr, '-config', $cnf,
        '-subj', '/CN=Pester Client')
    $null = Invoke-OpenSsl @('x509', '-req', '-in', $leafCsr, '-CA', $f.IntermediateCert, '-CAkey', $f.IntermediateKey, '-CAserial', $serial,
        '-CAcreateserial', '-out', $f.LeafCert, '-days', '30', '-extfile', $cnf, '-extensions', 'v3_leaf')
    $null = Invoke-OpenSsl @('pkey', '-in', $f.LeafKey, '-traditional', '-out', $f.LeafRsaKey)

    $pem = { param($path) (Get-Content -LiteralPath $path -Raw) -replace "`r`n", "`n" }
    Set-Content -LiteralPath $f.ChainFile -NoNewline -Encoding Ascii -Value ((& $pem $f.IntermediateCert) + (& $pem $f.RootCert))
    Set-Content -LiteralPath $f.FullChainFile -NoNewline -Encoding Ascii -Value ((& $pem $f.LeafCert) + (& $pem $f.IntermediateCert) + (& $pem $f.RootCert))
}

# Writes {"oauth": <Credentials>} as JSON into $TestFolder/<Name> and returns the path.
function New-ServiceKeyFile {
    param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [System.Collections.IDictionary] $Credentials)
    $path = Join-Path $TestFolder $Name
    @{ oauth = $Credentials } | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $path -Encoding UTF8
    $path
}

<#
    A Process Integration Runtime service key of key-type "certificate" as the BTP cockpit or `cf service-key` gives it:
    the chain leaf first in "certificate", the key as "BEGIN RSA PRIVATE KEY" (or PKCS#8 with -KeyFormat Pkcs8),
    newlines as JSON "\n" escapes. Returns the path of the file in $TestFolder.
#>
function New-TestServiceKey {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] $Pki,
        [string] $ClientId = 'sb-pester-client!b1|it-rt-pester!b2',
        [ValidateSet('Rsa', 'Pkcs8')] [string] $KeyFormat = 'Rsa',
        [string] $Url = 'https://pester.it-cpi001-rt.cfapps.eu10.hana.ondemand.com',
        [string] $TokenUrl = 'https://pester.authentication.cert.eu10.hana.ondemand.com/oauth/token'
    )
    $keyFile = if ($KeyFormat -eq 'Rsa') { $Pki.LeafRsaKey } else { $Pki.LeafKey }
    New-ServiceKeyFile -Name $Name -Credentials ([ordered]@{
            clientid           = $ClientId
            certificate        = (Get-Content -LiteralPath $Pki.FullChainFile -Raw) -replace "`r`n", "`n"
            key                = (Get-Content -LiteralPath $keyFile -Raw) -replace "`r`n", "`n"
            url                = $Url
            tokenurl           = $TokenUrl
            certificatedetails = [ordered]@{ validity = 30; validitytype = 'DAYS' }
        })
}

# What PowerShell's tab completion offers at the end of $Line.
function Get-CompletionText {
    param([Parameter(Mandatory)] [string] $Line)
    @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
}

<#
    The pwsh running these tests, for scenarios that need a fresh process (load contexts cannot be undone
    in-process): the pwsh in $PSHOME (the process itself may be `dotnet` when pwsh runs as a dotnet tool), else pwsh
    on PATH.
#>
function Get-Pwsh {
    $candidate = @('pwsh', 'pwsh.exe') | ForEach-Object { [System.IO.Path]::Combine($PSHOME, $_) } |
        Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    if (-not $candidate) {
        $candidate = Get-Command pwsh -CommandType Application -ErrorAction Stop | Select-Object -First 1 -ExpandProperty Source
    }
    $candidate
}
