#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Get-ServerCertificateChain through the built module against openssl s_server on 127.0.0.1 (one server that asks
    for a client certificate from our root, one that asks for none): the ServerCertificateChain it returns, trust with
    and without -TrustedCertificate, -IncludeRoot, -HostName/-Port, its default table, the pipe into
    Export-CertificateChain and the error IDs. Without openssl the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the Get-ServerCertificateChain tests are skipped (their TLS servers are openssl s_server).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert)
        $intermediate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.IntermediateCert)
    }

    # Out-String at 80 columns without colour sequences, as lines that are not blank.
    function Get-TableLine($InputObject) {
        $text = ($InputObject | Out-String -Width 80) -replace "$([char]27)\[[0-9;]*m", ''
        @($text -split "`r?`n" | Where-Object { $_.Trim() })
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Get-ServerCertificateChain' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $serverCert = New-TestServerCertificate -Pki $pki
        $serverThumbprint = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($serverCert.Cert).Thumbprint
        $asking = Start-TestTlsServer $serverCert @('-Verify', '1', '-CAfile', $pki.RootCert)
        $plain = Start-TestTlsServer $serverCert
    }

    AfterAll {
        Stop-TestTlsServer $asking
        Stop-TestTlsServer $plain
    }

    Context 'the chain' {
        It 'returns a CertIntegration.ServerCertificateChain with the server''s chain, leaf first, without key' {
            $chain = Get-ServerCertificateChain $asking.Url -TimeoutSec 20
            @($chain).Count | Should -Be 1
            $chain | Should -BeOfType ([CertIntegration.ServerCertificateChain])
            $chain | Should -BeOfType ([CertIntegration.CertificateBundle])
            $chain.PSObject.TypeNames[0] | Should -Be 'CertIntegration.ServerCertificateChain'
            $chain.HostName | Should -Be '127.0.0.1'
            $chain.Port | Should -Be $asking.Port
            $chain.Thumbprint | Should -Be $serverThumbprint
            $chain.CommonName | Should -Be 'localhost'
            $chain.ChainLength | Should -Be 2
            $chain.Chain[1].Thumbprint | Should -Be $intermediate.Thumbprint
            $chain.HasPrivateKey | Should -BeFalse
            $chain.TlsProtocol | Should -BeIn @('Tls12', 'Tls13')
        }

        It 'is not trusted without -TrustedCertificate, and says why' {
            $chain = Get-ServerCertificateChain $asking.Url -TimeoutSec 20
            $chain.IsTrusted | Should -BeFalse
            @($chain.ValidationErrors).Count | Should -BeGreaterThan 0
            ($chain.ValidationErrors -join ' ') | Should -Match 'PartialChain|UntrustedRoot'
        }

        It 'is trusted with the test root as -TrustedCertificate: <Name>' -ForEach @(
            @{ Name = 'an X509Certificate2'; Trust = { $root } }
            @{ Name = 'a bundle'; Trust = { Import-CertificateBundle $pki.RootCert } }
        ) {
            $chain = Get-ServerCertificateChain $asking.Url -TrustedCertificate (& $Trust) -TimeoutSec 20
            $chain.IsTrusted | Should -BeTrue
            @($chain.ValidationErrors) | Should -BeNullOrEmpty
            # The chain is what the server sent: trust does not change it.
            $chain.ChainLength | Should -Be 2
        }

        It 'is not trusted when only another root is given' {
            $other = New-TestRootCertificate -CommonName 'Pester Unrelated Root CA'
            $chain = Get-ServerCertificateChain $asking.Url -TrustedCertificate ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($other.Cert)) -TimeoutSec 20
            $chain.IsTrusted | Should -BeFalse
        }

        It 'appends the root the server did not send with -IncludeRoot' {
            $chain = Get-ServerCertificateChain $asking.Url -TrustedCertificate $root -IncludeRoot -TimeoutSec 20
            $chain.ChainLength | Should -Be 3
            $chain.Chain[2].Thumbprint | Should -Be $root.Thumbprint
            $chain.RootAddedFromLocalStore | Should -BeTrue
        }

        It 'reads the same chain with -HostName and -Port' {
            $chain = Get-ServerCertificateChain -HostName 127.0.0.1 -Port $asking.Port -TimeoutSec 20
            $chain.Thumbprint | Should -Be $serverThumbprint
            $chain.Port | Should -Be $asking.Port
        }

        It 'takes URLs from the pipeline, one result each' {
            $chains = @($asking.Url, $plain.Url | Get-ServerCertificateChain -TimeoutSec 20)
            $chains.Count | Should -Be 2
            @($chains | ForEach-Object Port | Sort-Object) | Should -Be @(@($asking.Port, $plain.Port) | Sort-Object)
        }
    }

    Context 'the request for a client certificate' {
        It 'reports ClientCertificateRequested and AcceptableIssuers of a server that asks' {
            $chain = Get-ServerCertificateChain $asking.Url -TimeoutSec 20
            $chain.ClientCertificateRequested | Should -BeTrue
            @($chain.AcceptableIssuers) | Should -Be @('CN=Pester Root CA')
        }

        It 'reports a server that does not ask' {
            $chain = Get-ServerCertificateChain $plain.Url -TimeoutSec 20
            $chain.ClientCertificateRequested | Should -BeFalse
            @($chain.AcceptableIssuers) | Should -BeNullOrEmpty
            $chain.Thumbprint | Should -Be $serverThumbprint
        }
    }

    Context 'formatting' {
        It 'shows server, trust, certificate request, days and name in the default table at 80 columns' {
            $chain = Get-ServerCertificateChain $asking.Url -TimeoutSec 20
            $lines = Get-TableLine $chain
            $lines[0] | Should -Match '^Server\s+Trusted\s+AsksCert\s+Days\s+Subject\s*$'
            $row = @($lines | Where-Object { $_ -like "127.0.0.1:$($asking.Port) *" })
            $row.Count | Should -Be 1
            $row[0] | Should -Match ('^127\.0\.0\.1:{0}\s+NO\s+yes\s+{1}\s+localhost\s*$' -f $asking.Port, $chain.DaysRemaining)
            @($lines | Where-Object { $_.Length -gt 80 }) | Should -BeNullOrEmpty
        }

        It 'shows yes under Trusted for a trusted chain and no under AsksCert for a server that does not ask' {
            $lines = Get-TableLine (Get-ServerCertificateChain $plain.Url -TrustedCertificate $root -TimeoutSec 20)
            @($lines | Where-Object { $_ -match ('^127\.0\.0\.1:{0}\s+yes\s+no\s' -f $plain.Port) }).Count | Should -Be 1
        }

        It 'shows HostName, IsTrusted and AcceptableIssuers in Format-List' {
            $text = (Get-ServerCertificateChain $asking.Url -TimeoutSec 20 | Format-List | Out-String -Width 120) -replace "$([char]27)\[[0-9;]*m", ''
            $text | Should -Match 'HostName\s+: 127\.0\.0\.1'
            $text | Should -Match 'IsTrusted\s+: False'
            $text | Should -Match 'AcceptableIssuers\s+: CN=Pester Root CA'
        }
    }

    Context 'into Export-CertificateChain' {
        It 'pipes into Export-CertificateChain -Destination: one file per certificate the server sent' {
            $dest = Join-Path $TestFolder 'server-chain'
            $files = @(Get-ServerCertificateChain $asking.Url -TimeoutSec 20 | Export-CertificateChain -Destination $dest)
            $files.Count | Should -Be 2
            @($files | ForEach-Object { "$($_.Role)" }) | Should -Be @('Leaf', 'Intermediate')
            @(Get-ChildItem -LiteralPath $dest -File).Count | Should -Be 2
            $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new(($files | Where-Object { "$($_.Role)" -eq 'Leaf' }).FullName)
            $leaf.Thumbprint | Should -Be $serverThumbprint
            $subject = Invoke-OpenSsl @('x509', '-in', $files[1].FullName, '-noout', '-subject')
            $subject | Should -Match 'CN\s?=\s?Pester Intermediate CA'
        }

        It 'exports the root too with -IncludeRoot' {
            $dest = Join-Path $TestFolder 'server-chain-root'
            $files = @(Get-ServerCertificateChain $asking.Url -TrustedCertificate $root -IncludeRoot -TimeoutSec 20 | Export-CertificateChain -Destination $dest)
            @($files | ForEach-Object { "$($_.Role)" }) | Should -Be @('Leaf', 'Intermediate', 'Root')
        }
    }

    Context 'errors' {
        It 'names a port nothing listens on ServerUnreachable, with the URL as target' {
            $url = "https://127.0.0.1:$(Get-FreeTcpPort)/"
            $out = Get-ServerCertificateChain $url -TimeoutSec 10 -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'ServerUnreachable,*'
            $failed[0].TargetObject | Should -Be $url
        }

        It 'goes on with the next URL after an unreachable one' {
            $url = "https://127.0.0.1:$(Get-FreeTcpPort)/"
            $out = @(Get-ServerCertificateChain $url, $plain.Url -TimeoutSec 10 -ErrorVariable failed -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 1
            $out[0].Port | Should -Be $plain.Port
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'ServerUnreachable,*'
        }

        It 'names an http:// URL UriInvalid' {
            $null = Get-ServerCertificateChain "http://127.0.0.1:$($plain.Port)/" -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'UriInvalid,*'
        }
    }
}
