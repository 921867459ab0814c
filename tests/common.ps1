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

<#
    A self-signed CA of its own, unrelated to Get-TestPki (EC P-256, valid 30 days), made with openssl into $Folder
    (default $TestFolder): for truststores with several roots and for servers that trust another CA. Returns the
    file paths Cert and Key.
#>
function New-TestRootCertificate {
    param([Parameter(Mandatory)] [string] $CommonName, [string] $Folder = $TestFolder)
    $name = ($CommonName -replace '[^A-Za-z0-9]+', '-').ToLowerInvariant()
    $cert = Join-Path $Folder "$name.crt"
    $key = Join-Path $Folder "$name.key"
    $null = Invoke-OpenSsl @('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', $key,
        '-out', $cert, '-days', '30', '-subj', "/CN=$CommonName", '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    [pscustomobject]@{ Cert = $cert; Key = $key }
}

<#
    A TLS server certificate 'CN=localhost' for localhost and 127.0.0.1 (serverAuth), issued by the intermediate of
    Get-TestPki, made with openssl into $Folder (default $TestFolder; the shared PKI folder is never written). Returns
    the file paths Cert, Key and Chain (the intermediate, for s_server -cert_chain).
#>
function New-TestServerCertificate {
    param([Parameter(Mandatory)] $Pki, [string] $Folder = $TestFolder, [string] $Name = 'server')
    $cnf = Join-Path $Folder "$Name.cnf"
    @'
[v3_server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
'@ | Set-Content -LiteralPath $cnf -Encoding Ascii
    $issued = New-TestIssuedCertificate -Pki $Pki -Folder $Folder -Name $Name -CommonName 'localhost' -ExtFile $cnf -Section 'v3_server'
    [pscustomobject]@{ Cert = $issued.Cert; Key = $issued.Key; Chain = $Pki.IntermediateCert }
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# $true once 127.0.0.1:$Port accepts a TCP connection, $false when $Process ends or $TimeoutSeconds pass first.
function Wait-TcpPort {
    param([Parameter(Mandatory)] [int] $Port, [System.Diagnostics.Process] $Process, [int] $TimeoutSeconds = 15)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if ($Process -and $Process.HasExited) { return $false }
        $client = [System.Net.Sockets.TcpClient]::new()
        try {
            if ($client.ConnectAsync('127.0.0.1', $Port).Wait(500) -and $client.Connected) { return $true }
        }
        catch {
            # refused: not listening yet
        }
        finally {
            $client.Dispose()
        }
        Start-Sleep -Milliseconds 100
    }
    $false
}

<#
    Starts `openssl s_server -www` (answers GET with an HTTP 200 status page) on 127.0.0.1 at a free port with the
    server certificate of New-TestServerCertificate and the extra $ArgumentList (for example '-Verify', '2',
    '-verify_return_error', '-CAfile', $pki.RootCert), and waits until the port accepts connections (at most 15 s).
    Returns Process, Port, Url (https://127.0.0.1:<port>/) and LogFile; stop it with Stop-TestTlsServer in AfterAll.
    Where coreutils timeout exists the server runs under it, so it ends after $MaxSeconds even if AfterAll never runs.
#>
function Start-TestTlsServer {
    param([Parameter(Mandatory)] $ServerCertificate, [string[]] $ArgumentList = @(), [int] $MaxSeconds = 300)
    $quote = { param($a) if ($a -match '[\s"]') { '"' + ($a -replace '"', '\"') + '"' } else { $a } }
    $timeout = @('/usr/bin/timeout', '/bin/timeout') | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    for ($attempt = 1; ; $attempt++) {
        $port = Get-FreeTcpPort
        $opensslArgs = @('s_server', '-accept', "127.0.0.1:$port", '-cert', $ServerCertificate.Cert, '-key', $ServerCertificate.Key,
            '-cert_chain', $ServerCertificate.Chain, '-www') + $ArgumentList
        $file = 'openssl'
        if ($timeout) {
            $file = $timeout
            $opensslArgs = @("$MaxSeconds", 'openssl') + $opensslArgs
        }
        $log = Join-Path $TestFolder "s_server-$port.log"
        $process = Start-Process -FilePath $file -ArgumentList (($opensslArgs | ForEach-Object { & $quote $_ }) -join ' ') -NoNewWindow -PassThru `
            -RedirectStandardOutput $log -RedirectStandardError "$log.err"
        $server = [pscustomobject]@{ Process = $process; Port = $port; Url = "https://127.0.0.1:$port/"; LogFile = $log }
        if (Wait-TcpPort -Port $port -Process $process) { return $server }
        Stop-TestTlsServer $server
        if ($attempt -ge 3) {
            $output = @($log, "$log.err") | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -LiteralPath $_ -Raw }
            throw "openssl s_server did not accept connections on port ${port}: $($output -join "`n")"
        }
    }
}

# Ends a server of Start-TestTlsServer with its child processes; nothing happens for $null or a server already gone.
function Stop-TestTlsServer {
    param($Server)
    if (-not $Server -or -not $Server.Process) { return }
    $process = $Server.Process
    if (-not $process.HasExited) {
        if ($PSVersionTable.PSVersion.Major -ge 7) { $process.Kill($true) } else { $process.Kill() }
        $null = $process.WaitForExit(5000)
    }
    $process.Dispose()
}

<#
    Runs build/fuzz.ps1 with $Arguments in a pwsh of its own (a crash of that process fails the test instead of
    ending the run), writing its JSON summary to TestResults/fuzz-<Name>.json and its failing inputs to
    TestResults/fuzz-<Name>-failures (both kept after the run, for a look at what failed). Returns ExitCode, Summary
    (the parsed JSON), Output (the fuzzer's text) and FailureFolder.
#>
function Invoke-Fuzzer {
    param([Parameter(Mandatory)] [string[]] $Arguments, [Parameter(Mandatory)] [string] $Name)
    $repoRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '..'))
    $results = Join-Path $repoRoot 'TestResults'
    $json = Join-Path $results "fuzz-$Name.json"
    $failures = Join-Path $results "fuzz-$Name-failures"
    foreach ($old in @($json, $failures)) { if (Test-Path -LiteralPath $old) { Remove-Item -LiteralPath $old -Recurse -Force } }
    $null = New-Item -ItemType Directory -Path $results -Force
    $ErrorActionPreference = 'Continue'
    $output = & (Get-Pwsh) -NoLogo -NoProfile -NonInteractive -File (Join-Path $repoRoot 'build/fuzz.ps1') @Arguments -OutFile $json -KeepFailures $failures 2>&1 |
        ForEach-Object { "$_" }
    $exitCode = $LASTEXITCODE
    if (-not (Test-Path -LiteralPath $json -PathType Leaf)) {
        throw "build/fuzz.ps1 $($Arguments -join ' ') wrote no summary (exit code $exitCode):`n$($output -join "`n")"
    }
    [pscustomobject]@{
        ExitCode = $exitCode; Summary = (Get-Content -LiteralPath $json -Raw | ConvertFrom-Json); Output = $output; FailureFolder = $failures
    }
}

# The failing inputs of a fuzzer summary (all, or those of one format), one paragraph each: input, mutation,
# outcome, and per failure its kind, error ID, exception chain, message and stack top.
function Format-FuzzFailure {
    param([Parameter(Mandatory)] $Summary, [string] $Format)
    $failing = @($Summary.Failures | Where-Object { -not $Format -or $_.Format -eq $Format })
    if ($failing.Count -eq 0) { return 'no failing input' }
    $text = foreach ($f in $failing) {
        $lines = @("$($f.Format) #$($f.Index)$(if ($f.VerboseDebug) { ' (-Verbose -Debug)' }): $($f.Mutation)",
            "    outcome: $(@($f.Outcomes) -join '; '), $($f.Ms) ms (CPU $($f.CpuMs) ms)$(if ($f.SavedAs) { ", saved as $($f.SavedAs)" })")
        foreach ($x in @($f.Failures)) {
            $lines += "    $($x.Kind) $($x.Cmdlet) $($x.ErrorId) [$($x.Exceptions)] $($x.Message)$(if ($x.StackTop) { " at $($x.StackTop)" })"
        }
        $lines -join "`n"
    }
    "$($failing.Count) failing input(s):`n" + ($text -join "`n")
}

<#
    Another client certificate 'CN=<CommonName>' (clientAuth, the extensions of the PKI's own client), issued by the
    intermediate of Get-TestPki, with an RSA 2048 or EC P-256 key, made with openssl into $Folder (default
    $TestFolder; the shared PKI folder is never written). Returns the file paths Cert and Key (PKCS#8).
#>
function New-TestClientCertificate {
    param(
        [Parameter(Mandatory)] $Pki, [string] $Folder = $TestFolder, [string] $Name = 'client2', [string] $CommonName = 'Pester Client 2',
        [ValidateSet('Rsa', 'Ec')] [string] $KeyType = 'Rsa'
    )
    New-TestIssuedCertificate -Pki $Pki -Folder $Folder -Name $Name -CommonName $CommonName -KeyType $KeyType `
        -ExtFile (Join-Path (Split-Path -Parent $Pki.LeafCert) 'pki.cnf') -Section 'v3_leaf'
}

# 'CN=<CommonName>' with a new key, issued by the intermediate of Get-TestPki with the extensions of section $Section
# of $ExtFile, as $Folder/<Name>.crt and .key. Returns the file paths Cert and Key.
function New-TestIssuedCertificate {
    param(
        [Parameter(Mandatory)] $Pki, [Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $CommonName, [Parameter(Mandatory)] [string] $ExtFile, [Parameter(Mandatory)] [string] $Section,
        [ValidateSet('Rsa', 'Ec')] [string] $KeyType = 'Rsa'
    )
    $key = Join-Path $Folder "$Name.key"
    $csr = Join-Path $Folder "$Name.csr"
    $cert = Join-Path $Folder "$Name.crt"
    $newKey = if ($KeyType -eq 'Ec') { @('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256') } else { @('-newkey', 'rsa:2048') }
    $serial = '0x' + [guid]::NewGuid().ToString('N').Substring(0, 16)
    $null = Invoke-OpenSsl (@('req', '-new') + $newKey + @('-nodes', '-keyout', $key, '-out', $csr, '-subj', "/CN=$CommonName"))
    $null = Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-CA', $Pki.IntermediateCert, '-CAkey', $Pki.IntermediateKey, '-set_serial', $serial,
        '-out', $cert, '-days', '30', '-extfile', $ExtFile, '-extensions', $Section)
    [pscustomobject]@{ Cert = $cert; Key = $key }
}
