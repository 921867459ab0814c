#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Test-MtlsEndpoint through the built module against openssl s_server on 127.0.0.1: a server that requires a client
    certificate from our root, one that asks only for another CA's certificates, and one that trusts our intermediate
    (for an X509Certificate2 that carries no chain). Service keys, bundles and X509Certificate2 objects by parameter
    and by pipeline, -Quiet, -TrustedCertificate, and the results for bad input. Without openssl the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the Test-MtlsEndpoint tests are skipped (their TLS servers are openssl s_server).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $plainPw = 'P3ster-mtls-pw!'
    $pw = ConvertTo-SecureString $plainPw -AsPlainText -Force
    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert)
        $keyFile = New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki
        $bundle = ConvertFrom-ServiceKey $keyFile
        $pfx = Join-Path $TestFolder 'client.pfx'
        $null = Invoke-OpenSsl @('pkcs12', '-export', '-inkey', $pki.LeafKey, '-in', $pki.LeafCert, '-certfile', $pki.ChainFile,
            '-passout', "pass:$plainPw", '-out', $pfx)
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Test-MtlsEndpoint' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $serverCert = New-TestServerCertificate -Pki $pki
        $otherRoot = New-TestRootCertificate -CommonName 'Pester Other Root CA'
        # -Verify: a client certificate is required; -verify_return_error: one that does not verify ends the handshake.
        $trusting = Start-TestTlsServer $serverCert @('-Verify', '1', '-verify_return_error', '-CAfile', $pki.RootCert)
        $foreign = Start-TestTlsServer $serverCert @('-Verify', '1', '-verify_return_error', '-CAfile', $otherRoot.Cert)
        $trustingIntermediate = Start-TestTlsServer $serverCert @('-Verify', '1', '-verify_return_error', '-CAfile', $pki.ChainFile)
    }

    AfterAll {
        Stop-TestTlsServer $trusting
        Stop-TestTlsServer $foreign
        Stop-TestTlsServer $trustingIntermediate
    }

    Context 'a server that requires a certificate from our root' {
        It 'succeeds with the service key''s bundle and the test root as X509Certificate2: StatusCode 200' {
            $result = Test-MtlsEndpoint -Uri $trusting.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20
            @($result).Count | Should -Be 1
            $result.PSObject.TypeNames | Should -Contain 'CertIntegration.MtlsTestResult'
            $result.Uri | Should -Be $trusting.Url
            $result.Success | Should -BeTrue
            $result.StatusCode | Should -Be 200
            $result.Verdict | Should -Be 'OK 200'
            $result.ServerCertificateValid | Should -BeTrue
            $result.ClientCertificateRequested | Should -BeTrue
            $result.AcceptableIssuers | Should -Be @('CN=Pester Root CA')
            $result.ClientChainMatchesAcceptableIssuers | Should -BeTrue
            $result.ClientCertificateSent | Should -BeTrue
            $result.ClientCertificateSubject | Should -Be 'CN=Pester Client'
            $result.TlsProtocol | Should -BeIn @('Tls12', 'Tls13')
            # s_server's status page shows the client certificate it verified.
            $result.ResponseBody | Should -Match 'Client certificate'
            $result.ResponseBody | Should -Match 'Subject: CN\s?=\s?Pester Client'
        }

        It 'takes -TrustedCertificate as a bundle: <Name>' -ForEach @(
            @{ Name = 'the root read with Import-CertificateBundle'; Trust = { Import-CertificateBundle $pki.RootCert } }
            @{ Name = 'the client''s own bundle (its chain but the leaf)'; Trust = { $bundle } }
        ) {
            $trust = & $Trust
            $trust | Should -BeOfType ([CertIntegration.CertificateBundle])
            $result = Test-MtlsEndpoint -Uri $trusting.Url -Certificate $bundle -TrustedCertificate $trust -TimeoutSec 20
            $result.ServerCertificateValid | Should -BeTrue
            $result.Success | Should -BeTrue
            $result.StatusCode | Should -Be 200
        }

        It 'does not present the certificate to a server it does not trust (no -TrustedCertificate)' {
            $result = Test-MtlsEndpoint -Uri $trusting.Url -Certificate $bundle -TimeoutSec 20
            $result.Success | Should -BeFalse
            $result.ServerCertificateValid | Should -BeFalse
            $result.ClientCertificateSent | Should -BeFalse
            $result.Verdict | Should -BeLike 'FAILED*'
            @($result.ServerCertificateErrors).Count | Should -BeGreaterThan 0
        }

        It 'works as ConvertFrom-ServiceKey key.json | Test-MtlsEndpoint -Uri https://127.0.0.1:<port>/' {
            $result = ConvertFrom-ServiceKey $keyFile | Test-MtlsEndpoint -Uri $trusting.Url -TrustedCertificate $root -TimeoutSec 20
            @($result).Count | Should -Be 1
            $result.Success | Should -BeTrue
            $result.StatusCode | Should -Be 200
            $result.ClientCertificateSent | Should -BeTrue
        }

        It 'tests the service key''s url without -Uri and resolves a relative -Uri against it' {
            $localKey = New-TestServiceKey -Name 'local-key.json' -Pki $pki -Url $trusting.Url.TrimEnd('/')
            $plain = ConvertFrom-ServiceKey $localKey | Test-MtlsEndpoint -TrustedCertificate $root -TimeoutSec 20
            $plain.Success | Should -BeTrue
            $plain.Uri | Should -BeLike "https://127.0.0.1:$($trusting.Port)*"
            $relative = ConvertFrom-ServiceKey $localKey | Test-MtlsEndpoint -Uri '/http/ping' -TrustedCertificate $root -TimeoutSec 20
            $relative.Success | Should -BeTrue
            $relative.Uri | Should -Be "https://127.0.0.1:$($trusting.Port)/http/ping"
        }

        It 'takes a PFX with -PfxPath and -Password' {
            $result = Test-MtlsEndpoint -Uri $trusting.Url -PfxPath $pfx -Password $pw -TrustedCertificate $root -TimeoutSec 20
            $result.Success | Should -BeTrue
            $result.ClientCertificateSubject | Should -Be 'CN=Pester Client'
        }

        It 'sees the request for a certificate with -NoClientCertificate, and fails without one' {
            $result = Test-MtlsEndpoint -Uri $trusting.Url -NoClientCertificate -TrustedCertificate $root -TimeoutSec 20
            $result.ClientCertificateRequested | Should -BeTrue
            $result.AcceptableIssuers | Should -Be @('CN=Pester Root CA')
            $result.ClientCertificateSent | Should -BeFalse
            $result.Success | Should -BeFalse
        }
    }

    Context 'a server that accepts only another CA''s certificates' {
        It 'gives a failure verdict that names the CA list' {
            $result = Test-MtlsEndpoint -Uri $foreign.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20
            $result.Success | Should -BeFalse
            $result.Verdict | Should -BeLike 'FAILED*'
            $result.StatusCode | Should -BeNullOrEmpty
            $result.ServerCertificateValid | Should -BeTrue
            $result.ClientCertificateRequested | Should -BeTrue
            $result.AcceptableIssuers | Should -Be @('CN=Pester Other Root CA')
            $result.ClientChainMatchesAcceptableIssuers | Should -BeFalse
            ($result.Diagnosis -join ' ') | Should -Match 'CN=Pester Other Root CA'
            ($result.Diagnosis -join ' ') | Should -Match 'None of them is in your certificate''s chain'
        }
    }

    Context '-Quiet' {
        It 'returns $true for a server that accepts us' {
            $answer = Test-MtlsEndpoint -Uri $trusting.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20 -Quiet
            $answer | Should -BeOfType ([bool])
            $answer | Should -BeTrue
        }

        It 'returns $false for a server that refuses us' {
            $answer = Test-MtlsEndpoint -Uri $foreign.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20 -Quiet
            $answer | Should -BeOfType ([bool])
            $answer | Should -BeFalse
        }

        It 'returns one boolean per -Uri' {
            $answers = @(Test-MtlsEndpoint -Uri $trusting.Url, $foreign.Url -Certificate $bundle -TrustedCertificate $root -TimeoutSec 20 -Quiet)
            $answers.Count | Should -Be 2
            $answers | ForEach-Object { $_ | Should -BeOfType ([bool]) }
            # Results come as each test finishes, in any order.
            @($answers | Sort-Object) | Should -Be @($false, $true)
        }
    }

    Context 'an X509Certificate2 with its key' {
        # An X509Certificate2 carries no chain: its intermediate would come from the platform's stores, so this server
        # knows our intermediate itself.
        It 'works as -Certificate by parameter (X509Certificate2 from the PFX)' {
            $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, $plainPw, 'Exportable')
            $cert.HasPrivateKey | Should -BeTrue
            $result = Test-MtlsEndpoint -Uri $trustingIntermediate.Url -Certificate $cert -TrustedCertificate $root -TimeoutSec 20
            $result.Success | Should -BeTrue
            $result.StatusCode | Should -Be 200
            $result.ClientCertificateSent | Should -BeTrue
            $result.ClientCertificateSubject | Should -Be 'CN=Pester Client'
        }

        It 'works as -Certificate by pipeline (Get-PfxCertificate)' {
            $cert = if ((Get-Command Get-PfxCertificate).Parameters.ContainsKey('Password')) {
                Get-PfxCertificate -FilePath $pfx -Password $pw
            }
            else {
                [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, $plainPw, 'Exportable')
            }
            $cert.HasPrivateKey | Should -BeTrue
            $result = $cert | Test-MtlsEndpoint -Uri $trustingIntermediate.Url -TrustedCertificate $root -TimeoutSec 20
            @($result).Count | Should -Be 1
            $result.Success | Should -BeTrue
            $result.ClientCertificateSent | Should -BeTrue
            $result.ClientCertificateSubject | Should -Be 'CN=Pester Client'
        }

        It 'refuses an X509Certificate2 without its key (CertificateHasNoPrivateKey)' {
            $out = Test-MtlsEndpoint -Uri $trusting.Url -Certificate $root -TimeoutSec 20 -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'CertificateHasNoPrivateKey,*'
        }
    }

    Context 'bad input' {
        It 'refuses an http:// URL with UriNotHttps' {
            $out = Test-MtlsEndpoint -Uri 'http://x/' -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'UriNotHttps,*'
            $failed[0].TargetObject | Should -Be 'http://x/'
        }

        It 'refuses a bundle without its key with BundleHasNoPrivateKey' {
            $noKey = Import-CertificateBundle $pki.FullChainFile
            $null = Test-MtlsEndpoint -Uri $trusting.Url -Certificate $noKey -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'BundleHasNoPrivateKey,*'
        }

        It 'reports a port nothing listens on as a result with a connect failure, not as an error' {
            $port = Get-FreeTcpPort
            $result = Test-MtlsEndpoint -Uri "https://127.0.0.1:$port/" -Certificate $bundle -TrustedCertificate $root -TimeoutSec 10 -ErrorVariable failed
            $failed.Count | Should -Be 0
            @($result).Count | Should -Be 1
            $result.Success | Should -BeFalse
            $result.StatusCode | Should -BeNullOrEmpty
            $result.Verdict | Should -BeLike 'FAILED*'
            $result.Error | Should -Not -BeNullOrEmpty
            $result.ClientCertificateSent | Should -BeFalse
            ($result.Diagnosis -join ' ') | Should -Match "127\.0\.0\.1:$port"
        }

        It 'says $false with -Quiet for a port nothing listens on' {
            $port = Get-FreeTcpPort
            Test-MtlsEndpoint -Uri "https://127.0.0.1:$port/" -Certificate $bundle -TimeoutSec 10 -Quiet | Should -BeFalse
        }
    }
}
