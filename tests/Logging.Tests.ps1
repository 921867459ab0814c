#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    What a runbook logs: ConvertTo-Json (default depth) and ConvertTo-Csv of the module's objects (a bundle from a
    service key and from a .p7b, a server chain, a Test-MtlsEndpoint result) are short readable records (subjects,
    thumbprints, dates, verdict, diagnosis) with no certificate internals (raw bytes, base64, Handle), no truncation
    warning and no .NET type names in CSV cells; ConvertFrom-Json gives the fields back. The certificate objects stay
    usable by name ($b.Certificate, $b.Chain, $r.ServerCertificateChain). TLS servers are openssl s_server on
    127.0.0.1; without openssl the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the logging tests are skipped (their PKI and TLS servers come from openssl).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # JSON as a runbook writes it: default depth, warnings captured rather than shown.
    function ConvertTo-LogJson($InputObject) {
        $warnings = $null
        $json = ConvertTo-Json -InputObject $InputObject -WarningVariable warnings -WarningAction SilentlyContinue
        [pscustomobject]@{ Json = $json; Bytes = [System.Text.Encoding]::UTF8.GetByteCount($json); Warnings = @($warnings) }
    }

    # The same object piped (the pipeline wraps it; PowerShell then adds its visible properties too).
    function ConvertTo-PipedJson($InputObject) {
        $warnings = $null
        $json = $InputObject | ConvertTo-Json -WarningVariable warnings -WarningAction SilentlyContinue
        [pscustomobject]@{ Json = $json; Bytes = [System.Text.Encoding]::UTF8.GetByteCount($json); Warnings = @($warnings) }
    }

    function Get-CsvCell($InputObject) {
        $rows = @($InputObject | ConvertTo-Csv -NoTypeInformation | ConvertFrom-Csv)
        foreach ($row in $rows) { foreach ($p in $row.PSObject.Properties) { [pscustomobject]@{ Name = $p.Name; Value = [string]$p.Value } } }
    }

    # What must never be in a log record: a certificate's base64 (DER starts 0x30 0x82, "MII"), its bytes, its handle.
    function Assert-NoCertificateInternals([string] $Json, $Certificates) {
        $Json | Should -Not -Match 'MII[A-Za-z0-9+/]{40}'
        $Json | Should -Not -Match '"(Handle|RawData|RawDataMemory|PublicKey|Extensions|SubjectName|IssuerName|PrivateKey)"'
        foreach ($c in $Certificates) {
            $Json | Should -Not -Match ([regex]::Escape([Convert]::ToBase64String($c.RawData).Substring(0, 40)))
        }
    }

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert)
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.LeafCert)
        $keyFile = New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki
        $p7b = Join-Path $TestFolder 'chain.p7b'
        $null = Invoke-OpenSsl @('crl2pkcs7', '-nocrl', '-certfile', $pki.FullChainFile, '-outform', 'DER', '-out', $p7b)
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Logging the module''s objects' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $bundle = ConvertFrom-ServiceKey $keyFile
        $p7bBundle = Import-CertificateBundle $p7b
        $serverCert = New-TestServerCertificate -Pki $pki
        $serverLeaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($serverCert.Cert)
        $trusting = Start-TestTlsServer $serverCert @('-Verify', '1', '-verify_return_error', '-CAfile', $pki.RootCert)
        $otherRoot = New-TestRootCertificate -CommonName 'Pester Logging Other CA'
        $foreign = Start-TestTlsServer $serverCert @('-Verify', '1', '-verify_return_error', '-CAfile', $otherRoot.Cert)
        $serverChain = Get-ServerCertificateChain $trusting.Url -TrustedCertificate $root -TimeoutSec 20
        $ok = Test-MtlsEndpoint -Uri $trusting.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20
        $failed = Test-MtlsEndpoint -Uri $foreign.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20
    }

    AfterAll {
        Stop-TestTlsServer $trusting
        Stop-TestTlsServer $foreign
    }

    Context 'ConvertTo-Json at its default depth' {
        It 'is a short record without truncation warning or certificate internals: <Name>' -ForEach @(
            @{ Name = 'a bundle from a service key'; Get = { $bundle } }
            @{ Name = 'a bundle from a .p7b'; Get = { $p7bBundle } }
            @{ Name = 'a server chain'; Get = { $serverChain } }
            @{ Name = 'a successful test result'; Get = { $ok } }
            @{ Name = 'a failed test result'; Get = { $failed } }
        ) {
            $object = & $Get
            # A failed result carries its diagnosis sentences and error text, which may run to a kilobyte: the record
            # around them stays under 1,500 bytes.
            $sentences = @($object.Diagnosis) + @($object.Error) | Where-Object { $_ }
            $sentenceBytes = ($sentences | ForEach-Object { [System.Text.Encoding]::UTF8.GetByteCount($_) } | Measure-Object -Sum).Sum
            foreach ($out in (ConvertTo-LogJson $object), (ConvertTo-PipedJson $object)) {
                $out.Warnings | Should -BeNullOrEmpty
                $out.Bytes - $sentenceBytes | Should -BeLessThan 1500
                Assert-NoCertificateInternals $out.Json @($leaf, $root, $serverLeaf)
            }
        }

        It 'holds a bundle''s subject, thumbprint, dates, chain subjects, source and client id, and gives them back' {
            $json = (ConvertTo-PipedJson $bundle).Json
            $back = $json | ConvertFrom-Json
            $back.Subject | Should -Be 'CN=Pester Client'
            $back.Issuer | Should -Be 'CN=Pester Intermediate CA'
            $back.Thumbprint | Should -Be $leaf.Thumbprint
            ([datetime]$back.NotAfter).ToUniversalTime() | Should -Be $leaf.NotAfter.ToUniversalTime()
            ([datetime]$back.NotBefore).ToUniversalTime() | Should -Be $leaf.NotBefore.ToUniversalTime()
            $back.DaysRemaining | Should -Be $bundle.DaysRemaining
            $back.ChainSubjects | Should -Be @('CN=Pester Client', 'CN=Pester Intermediate CA', 'CN=Pester Root CA')
            $back.ChainLength | Should -Be 3
            $back.HasPrivateKey | Should -BeTrue
            $back.Source | Should -Be $keyFile
            $back.ClientId | Should -Be $bundle.ClientId
            $back.ClientId | Should -Not -BeNullOrEmpty
            $back.Url | Should -Be $bundle.Url
        }

        It 'holds a server chain''s host, trust, validation errors and chain subjects' {
            $back = (ConvertTo-PipedJson $serverChain).Json | ConvertFrom-Json
            $back.HostName | Should -Be '127.0.0.1'
            $back.Port | Should -Be $trusting.Port
            $back.IsTrusted | Should -BeTrue
            $back.Thumbprint | Should -Be $serverLeaf.Thumbprint
            $back.ChainSubjects | Should -Be @($serverChain.Chain | ForEach-Object Subject)
            $back.ClientCertificateRequested | Should -BeTrue
            $back.AcceptableIssuers | Should -Be @('CN=Pester Root CA')
        }

        It 'holds a result''s verdict, endpoint, server and client certificate names and dates, and its diagnosis' {
            $back = (ConvertTo-PipedJson $ok).Json | ConvertFrom-Json
            $back.Verdict | Should -Be 'OK 200'
            $back.Success | Should -BeTrue
            $back.Uri | Should -Be $trusting.Url
            $back.StatusCode | Should -Be 200
            $back.ServerCertificateSubject | Should -Be $serverLeaf.Subject
            $back.ServerCertificateThumbprint | Should -Be $serverLeaf.Thumbprint
            ([datetime]$back.ServerCertificateNotAfter).ToUniversalTime() | Should -Be $serverLeaf.NotAfter.ToUniversalTime()
            $back.ServerChainSubjects | Should -Be @($ok.ServerCertificateChain | ForEach-Object Subject)
            $back.ClientCertificateSubject | Should -Be 'CN=Pester Client'
            $back.ClientCertificateThumbprint | Should -Be $leaf.Thumbprint

            $failed.Success | Should -BeFalse
            @($failed.Diagnosis).Count | Should -BeGreaterThan 0
            $back = (ConvertTo-PipedJson $failed).Json | ConvertFrom-Json
            $back.Verdict | Should -Be $failed.Verdict
            $back.Verdict | Should -BeLike 'FAILED*'
            @($back.Diagnosis) | Should -Be @($failed.Diagnosis)
            ($back.Diagnosis -join ' ') | Should -Match 'Pester Logging Other CA'
        }

        It 'leaves the response body out of the record, which stays on the result' {
            $ok.ResponseBody | Should -Match 'Client certificate'
            (ConvertTo-PipedJson $ok).Json | Should -Not -Match 'ResponseBody'
        }
    }

    Context 'ConvertTo-Csv' {
        It 'has text in every cell, no .NET type names: <Name>' -ForEach @(
            @{ Name = 'a bundle from a service key'; Get = { $bundle } }
            @{ Name = 'a server chain'; Get = { $serverChain } }
            @{ Name = 'a failed test result'; Get = { $failed } }
        ) {
            $cells = @(Get-CsvCell (& $Get))
            $cells.Count | Should -BeGreaterThan 5
            $cells | Where-Object Value -Match 'System\.' | ForEach-Object { "$($_.Name)=$($_.Value)" } | Should -BeNullOrEmpty
            $cells.Name | Should -Not -Contain 'Certificate'
            $cells.Name | Should -Not -Contain 'Chain'
            $cells | Where-Object Value -Match 'MII[A-Za-z0-9+/]{40}' | Should -BeNullOrEmpty
        }

        It 'joins lists into one cell: chain subjects, diagnosis' {
            $row = $bundle | ConvertTo-Csv -NoTypeInformation | ConvertFrom-Csv
            $row.ChainSubjects | Should -Be 'CN=Pester Client; CN=Pester Intermediate CA; CN=Pester Root CA'
            $row.Thumbprint | Should -Be $leaf.Thumbprint
            $row = $failed | ConvertTo-Csv -NoTypeInformation | ConvertFrom-Csv
            $row.Diagnosis | Should -Be ($failed.Diagnosis -join '; ')
            $row.Verdict | Should -Be $failed.Verdict
        }
    }

    Context 'what scripts do with the objects keeps working' {
        It 'gives the certificate objects by name: Certificate, Chain, ServerCertificateChain' {
            $bundle.Certificate | Should -BeOfType ([System.Security.Cryptography.X509Certificates.X509Certificate2])
            $bundle.Certificate.Thumbprint | Should -Be $leaf.Thumbprint
            $bundle.Chain.GetType() | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2[]])
            @($bundle.Chain | ForEach-Object Subject) | Should -Be @('CN=Pester Client', 'CN=Pester Intermediate CA', 'CN=Pester Root CA')
            $serverChain.Chain.Count | Should -Be 2
            $serverChain.Certificate.Thumbprint | Should -Be $serverLeaf.Thumbprint
            $ok.ServerCertificateChain[0].Thumbprint | Should -Be $serverLeaf.Thumbprint
            # A one-certificate chain stays an array.
            $single = Import-CertificateBundle $pki.RootCert
            $single.Chain.GetType() | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2[]])
            $single.Chain.Count | Should -Be 1
        }

        It 'lists them with Get-Member -Force, not in Get-Member, Select-Object * or Format-List *' {
            ($bundle | Get-Member -Force -MemberType Properties).Name | Should -Contain 'Certificate'
            ($bundle | Get-Member -Force -MemberType Properties).Name | Should -Contain 'Chain'
            ($bundle | Get-Member -MemberType Properties).Name | Should -Not -Contain 'Certificate'
            ($bundle | Select-Object *).PSObject.Properties.Name | Should -Not -Contain 'Chain'
            # X509Certificate2 formats itself with "[Subject]" headings.
            ($bundle | Format-List * | Out-String) | Should -Not -Match '\[Subject\]|System\.Security'
            ($ok | Select-Object *).PSObject.Properties.Name | Should -Not -Contain 'ServerCertificateChain'
        }

        It 'keeps lists indexable and countable like the arrays they were' {
            $failed.Diagnosis[0] | Should -Be @($failed.Diagnosis)[0]
            $failed.Diagnosis.Count | Should -BeGreaterThan 0
            $failed.Diagnosis.Length | Should -Be $failed.Diagnosis.Count
            $bundle.ChainSubjects.Length | Should -Be 3
            $bundle.ChainSubjects.ToString() | Should -Be 'CN=Pester Client; CN=Pester Intermediate CA; CN=Pester Root CA'
        }

        It 'passes bundles down the pipeline and to -Certificate' {
            $files = $bundle | Export-CertificateChain -Destination (Join-Path $TestFolder 'chain-out') -Force
            @($files).Count | Should -Be 3
            (Test-MtlsEndpoint -Uri $trusting.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20 -Quiet) | Should -BeTrue
            ($bundle | ConvertTo-X509Certificate).Thumbprint | Should -Be $leaf.Thumbprint
        }
    }
}
