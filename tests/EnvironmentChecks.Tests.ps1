#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    examples/EnvironmentChecks.Tests.ps1 run the way a runbook runs it (New-PesterContainer -Data, Invoke-Pester with
    a result file) in a pwsh of its own, against the test PKI and openssl s_server on 127.0.0.1 requiring a client
    certificate: it passes for a good setup and fails, in the test that names the problem, for an expiring key, a
    certificate without the Client Authentication EKU and an endpoint that refuses the certificate.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $pki = Get-TestPki
    $example = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../examples/EnvironmentChecks.Tests.ps1'))
    $pesterManifest = Join-Path (Get-Module Pester).ModuleBase 'Pester.psd1'

    # Runs the example in a new pwsh with $Data as container data (and $Environment as environment variables);
    # returns Result, PassedCount, FailedCount, Tests (Name, Result, Message) and the NUnit file it wrote.
    function Invoke-EnvironmentCheck {
        param([Parameter(Mandatory)] [string] $Name, [hashtable] $Data = @{}, [hashtable] $Environment = @{})
        $folder = Join-Path $TestFolder "run-$Name"
        $null = New-Item -ItemType Directory -Path $folder -Force
        $dataFile = Join-Path $folder 'data.clixml'
        $Data | Export-Clixml -LiteralPath $dataFile
        $summary = Join-Path $folder 'summary.json'
        $resultFile = Join-Path $folder 'certcheck.xml'
        $script = Join-Path $folder 'run.ps1'
        @'
param($Pester, $Module, $Example, $DataFile, $ResultFile, $Summary)
$ErrorActionPreference = 'Stop'
Import-Module $Pester
Import-Module $Module
$config = New-PesterConfiguration
$config.Run.Container = New-PesterContainer -Path $Example -Data (Import-Clixml -LiteralPath $DataFile)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultFile
$r = Invoke-Pester -Configuration $config
[pscustomobject]@{
    Result = $r.Result; PassedCount = $r.PassedCount; FailedCount = $r.FailedCount
    Tests = @($r.Tests | ForEach-Object { [pscustomobject]@{ Name = $_.ExpandedPath; Result = $_.Result; Message = "$($_.ErrorRecord)" } })
} | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $Summary -Encoding UTF8
'@ | Set-Content -LiteralPath $script -Encoding UTF8
        $saved = @{}
        foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
        try {
            $output = & (Get-Pwsh) -NoLogo -NoProfile -NonInteractive -File $script -Pester $pesterManifest -Module $ModuleManifest -Example $example `
                -DataFile $dataFile -ResultFile $resultFile -Summary $summary 2>&1 | ForEach-Object { "$_" }
        }
        finally {
            foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
        }
        if (-not (Test-Path -LiteralPath $summary)) { throw "The environment check '$Name' wrote no summary:`n$($output -join "`n")" }
        $s = Get-Content -LiteralPath $summary -Raw | ConvertFrom-Json
        $s | Add-Member -NotePropertyName ResultFile -NotePropertyValue $resultFile
        $s | Add-Member -NotePropertyName Output -NotePropertyValue ($output -join "`n")
        $s
    }

    function New-Folder { param([string] $Name) $p = Join-Path $TestFolder $Name; $null = New-Item -ItemType Directory -Path $p -Force; $p }

    # A service key in $Folder whose certificate is $Cert (issued by the test intermediate) with the key $Key.
    function New-KeyInFolder {
        param([string] $Folder, [string] $Name, [string] $Cert, [string] $Key)
        $path = Join-Path $Folder $Name
        $chain = ((Get-Content -LiteralPath $Cert -Raw) -replace "`r`n", "`n") + ((Get-Content -LiteralPath $pki.ChainFile -Raw) -replace "`r`n", "`n")
        @{ oauth = [ordered]@{
                clientid = "sb-$Name"; certificate = $chain; key = (Get-Content -LiteralPath $Key -Raw)
                url = 'https://pester.it-cpi001-rt.cfapps.eu10.hana.ondemand.com'; tokenurl = 'https://pester.authentication.cert.eu10.hana.ondemand.com/oauth/token'
            }
        } | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $path -Encoding UTF8
        $path
    }

    # A leaf under the test intermediate valid $Days days with extendedKeyUsage $Eku; returns Cert and Key.
    function New-Leaf {
        param([string] $Name, [int] $Days, [string] $Eku = 'clientAuth')
        $cnf = Join-Path $TestFolder "$Name.cnf"
        "[ext]`nbasicConstraints = CA:FALSE`nkeyUsage = critical,digitalSignature,keyEncipherment`nextendedKeyUsage = $Eku`nsubjectKeyIdentifier = hash`nauthorityKeyIdentifier = keyid`n" |
            Set-Content -LiteralPath $cnf -Encoding Ascii
        $key = Join-Path $TestFolder "$Name.key"; $csr = Join-Path $TestFolder "$Name.csr"; $cert = Join-Path $TestFolder "$Name.crt"
        $null = Invoke-OpenSsl @('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $key, '-out', $csr, '-subj', "/CN=$Name")
        $null = Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-CA', $pki.IntermediateCert, '-CAkey', $pki.IntermediateKey, '-set_serial', ('0x' + [guid]::NewGuid().ToString('N').Substring(0, 16)),
            '-out', $cert, '-days', "$Days", '-extfile', $cnf, '-extensions', 'ext')
        [pscustomobject]@{ Cert = $cert; Key = $key }
    }

    # $Base with the entries of $Change put over it.
    function Merge-Data {
        param([hashtable] $Base, [hashtable] $Change)
        $h = $Base.Clone()
        foreach ($k in $Change.Keys) { $h[$k] = $Change[$k] }
        $h
    }

    function Get-Failed { param($Run) @($Run.Tests | Where-Object Result -EQ 'Failed') }

    $serverCert = New-TestServerCertificate -Pki $pki
    # Requires a client certificate and verifies it against the test root.
    $server = Start-TestTlsServer -ServerCertificate $serverCert -ArgumentList @('-Verify', '2', '-verify_return_error', '-CAfile', $pki.RootCert)
    # Requires a client certificate from another CA: refuses ours in the handshake.
    $otherRoot = New-TestRootCertificate -CommonName 'Pester Refusing Root'
    $refusing = Start-TestTlsServer -ServerCertificate $serverCert -ArgumentList @('-Verify', '2', '-verify_return_error', '-CAfile', $otherRoot.Cert)

    $goodKeys = New-Folder 'good-keys'
    $null = New-TestServiceKey -Name 'orders-key.json' -Pki $pki
    Move-Item -LiteralPath (Join-Path $TestFolder 'orders-key.json') -Destination $goodKeys
    $goodCerts = New-Folder 'good-certs'
    Copy-Item -LiteralPath $pki.FullChainFile -Destination (Join-Path $goodCerts 'client-chain.pem')
    $good = @{
        ServiceKeyFolder = $goodKeys; CertificateFolder = $goodCerts; Endpoint = @($server.Url); MinimumDaysValid = 10
        TrustedCertificate = @($pki.RootCert); ServerTrustedCertificate = @($pki.RootCert); TimeoutSec = 20
    }
}

AfterAll {
    Stop-TestTlsServer $server
    Stop-TestTlsServer $refusing
    Remove-TestFolder
}

Describe 'examples/EnvironmentChecks.Tests.ps1' {
    It 'passes for a good setup and writes the NUnit result file for the runbook''s log' {
        $run = Invoke-EnvironmentCheck -Name 'good' -Data $good
        $run.Result | Should -Be 'Passed' -Because $run.Output
        $run.FailedCount | Should -Be 0
        # configuration + 5 per service key + 5 per certificate file + 1 endpoint call
        $run.PassedCount | Should -Be 12
        $run.Tests.Name | Should -Contain 'Service key orders-key.json.is valid for at least 10 more days'
        $run.Tests.Name | Should -Contain "Endpoint $($server.Url) with orders-key.json.answers over mTLS"
        [xml]$xml = Get-Content -LiteralPath $run.ResultFile -Raw
        $xml.'test-results'.failures | Should -Be '0'
        $xml.'test-results'.total | Should -Be '12'
    }

    It 'reads its settings from CERTCHECK_* environment variables' {
        $run = Invoke-EnvironmentCheck -Name 'environment' -Environment @{
            CERTCHECK_SERVICE_KEYS = $goodKeys; CERTCHECK_ENDPOINTS = "orders-key.json|$($server.Url); "; CERTCHECK_MIN_DAYS = '10'
            CERTCHECK_TRUSTED = $pki.RootCert; CERTCHECK_SERVER_TRUSTED = $pki.RootCert
        }
        $run.Result | Should -Be 'Passed' -Because $run.Output
        $run.PassedCount | Should -Be 7
        # The same window from the environment that the key does not meet fails.
        $strict = Invoke-EnvironmentCheck -Name 'environment-strict' -Environment @{ CERTCHECK_SERVICE_KEYS = $goodKeys; CERTCHECK_MIN_DAYS = '40' }
        $strict.Result | Should -Be 'Failed'
        (Get-Failed $strict).Name | Should -Contain 'Service key orders-key.json.is valid for at least 40 more days'
    }

    It 'fails for a key that expires within the window, naming it' {
        $folder = New-Folder 'expiring-keys'
        $leaf = New-Leaf -Name 'Pester Expiring Client' -Days 5
        $null = New-KeyInFolder -Folder $folder -Name 'expiring-key.json' -Cert $leaf.Cert -Key $leaf.Key
        $run = Invoke-EnvironmentCheck -Name 'expiring' -Data (Merge-Data $good @{ ServiceKeyFolder = $folder; CertificateFolder = $null; Endpoint = @() })
        $run.Result | Should -Be 'Failed'
        $failed = Get-Failed $run
        $failed.Name | Should -Contain 'Service key expiring-key.json.is valid for at least 10 more days'
        ($failed | Where-Object Name -Like '*valid for at least*').Message | Should -Match 'ExpiresSoon'
        $failed.Name | Should -Not -Contain 'Service key expiring-key.json.carries the key usage for Client authentication'
    }

    It 'fails for a certificate without the Client Authentication EKU' {
        $folder = New-Folder 'server-eku-certs'
        $leaf = New-Leaf -Name 'Pester Server Only' -Days 30 -Eku 'serverAuth'
        Set-Content -LiteralPath (Join-Path $folder 'server-only.pem') -Encoding Ascii -NoNewline -Value (
            ((Get-Content -LiteralPath $leaf.Cert -Raw) -replace "`r`n", "`n") + ((Get-Content -LiteralPath $pki.ChainFile -Raw) -replace "`r`n", "`n"))
        $run = Invoke-EnvironmentCheck -Name 'eku' -Data (Merge-Data $good @{ ServiceKeyFolder = $null; CertificateFolder = $folder; Endpoint = @() })
        $run.Result | Should -Be 'Failed'
        $failed = Get-Failed $run
        $failed.Name | Should -Contain 'Certificate file server-only.pem.carries the key usage for Client authentication'
        ($failed | Where-Object Name -Like '*key usage*').Message | Should -Match 'ClientAuthenticationMissing'
        $failed.Name | Should -Not -Contain 'Certificate file server-only.pem.is valid for at least 10 more days'
    }

    It 'fails for an endpoint that refuses the certificate, with the diagnosis' {
        $run = Invoke-EnvironmentCheck -Name 'refusing' -Data (Merge-Data $good @{ CertificateFolder = $null; Endpoint = @($server.Url, $refusing.Url) })
        $run.Result | Should -Be 'Failed'
        $failed = Get-Failed $run
        $failed | Should -HaveCount 1
        $failed[0].Name | Should -Be "Endpoint $($refusing.Url) with orders-key.json.answers over mTLS"
        $failed[0].Message | Should -Match 'FAILED'
    }

    It 'fails when it is given nothing to check' {
        $run = Invoke-EnvironmentCheck -Name 'empty' -Data @{ ServiceKeyFolder = ''; CertificateFolder = ''; Endpoint = @() }
        $run.Result | Should -Be 'Failed'
        (Get-Failed $run).Name | Should -Be @('Environment check configuration.has something to check')
    }
}
