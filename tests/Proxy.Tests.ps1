#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    -Proxy and -ProxyCredential of Test-MtlsEndpoint and Get-ServerCertificateChain, through a CONNECT proxy the
    tests start on 127.0.0.1 (tests/support/ConnectProxy.cs) in front of an openssl s_server that requires a client
    certificate: the tunnels the proxy opened, proxy authentication (407) and a proxy that refuses.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if (-not ('CertIntegrationTests.ConnectProxy' -as [type])) {
        Add-Type -Path (Join-Path $PSScriptRoot 'support/ConnectProxy.cs') -WarningAction SilentlyContinue
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Through an HTTP proxy' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'proxy-key.json' -Pki $pki)
        $root = Import-CertificateBundle -LiteralPath $pki.RootCert

        # openssl s_server on 127.0.0.1 with a server certificate of the test PKI, asking for and verifying a client certificate.
        $server = Start-TestTlsServer -ServerCertificate (New-TestServerCertificate -Pki $pki) -ArgumentList @('-quiet', '-CAfile', $pki.RootCert, '-Verify', '2')
        $port = $server.Port
        $target = $server.Url
    }

    AfterAll {
        Stop-TestTlsServer $server
    }

    It 'tests the endpoint through the tunnel, end to end' {
        $proxy = [CertIntegrationTests.ConnectProxy]::new()
        try {
            $r = Test-MtlsEndpoint -Uri $target -Certificate $bundle -TrustedCertificate $root -Proxy $proxy.Url -TimeoutSec 20
            $r.Success | Should -BeTrue -Because "$($r.Verdict) $($r.Diagnosis -join ' ')"
            $r.StatusCode | Should -Be 200
            $r.ClientCertificateSent | Should -BeTrue
            $requests = $proxy.RequestList()
            $requests.Count | Should -BeGreaterOrEqual 2   # the observing and the real connection
            $requests | ForEach-Object { $_.Target | Should -Be "127.0.0.1:$port"; $_.Status | Should -Be 200 }
        }
        finally { $proxy.Dispose() }
    }

    It 'names the missing credentials of a proxy that asks for them (407)' {
        $proxy = [CertIntegrationTests.ConnectProxy]::new('proxyuser:S3cret-proxy-pw')
        try {
            $r = Test-MtlsEndpoint -Uri $target -Certificate $bundle -TrustedCertificate $root -Proxy $proxy.Url -TimeoutSec 20
            $r.Success | Should -BeFalse
            $r.Verdict | Should -Be 'FAILED proxy'
            ($r.Diagnosis -join ' ') | Should -Match '-ProxyCredential'
            $proxy.RequestList()[0].Status | Should -Be 407
        }
        finally { $proxy.Dispose() }
    }

    It 'authenticates with -ProxyCredential and never shows the password' {
        $proxy = [CertIntegrationTests.ConnectProxy]::new('proxyuser:S3cret-proxy-pw')
        try {
            $cred = [pscredential]::new('proxyuser', (ConvertTo-SecureString 'S3cret-proxy-pw' -AsPlainText -Force))
            $r = Test-MtlsEndpoint -Uri $target -Certificate $bundle -TrustedCertificate $root -Proxy $proxy.Url -ProxyCredential $cred -TimeoutSec 20 -Verbose 4>&1
            $result = $r | Where-Object { $_ -is [CertIntegration.MtlsTestResult] }
            $result.Success | Should -BeTrue -Because "$($result.Verdict) $($result.Diagnosis -join ' ')"
            ($r | Out-String) | Should -Not -Match 'S3cret-proxy-pw'
            $proxy.RequestList() | ForEach-Object { $_.Authorization | Should -Be ('Basic ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('proxyuser:S3cret-proxy-pw'))) }

            $wrong = [pscredential]::new('proxyuser', (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
            $bad = Test-MtlsEndpoint -Uri $target -Certificate $bundle -TrustedCertificate $root -Proxy $proxy.Url -ProxyCredential $wrong -TimeoutSec 20
            $bad.Verdict | Should -Be 'FAILED proxy'
            ($bad.Diagnosis -join ' ') | Should -Match 'did not accept'
        }
        finally { $proxy.Dispose() }
    }

    It 'reports a proxy that refuses the tunnel' {
        $proxy = [CertIntegrationTests.ConnectProxy]::new($null, $true)
        try {
            $r = Test-MtlsEndpoint -Uri $target -Certificate $bundle -TrustedCertificate $root -Proxy $proxy.Url -TimeoutSec 20
            $r.Verdict | Should -Be 'FAILED proxy'
            ($r.Diagnosis -join ' ') | Should -Match 'refused the tunnel'
            $r.ClientCertificateSent | Should -BeFalse

            $chain = Get-ServerCertificateChain -Uri $target -Proxy $proxy.Url -ErrorVariable e -ErrorAction SilentlyContinue
            $chain | Should -BeNullOrEmpty
            $e[0].FullyQualifiedErrorId | Should -BeLike 'ProxyRefused,*'
        }
        finally { $proxy.Dispose() }
    }

    It 'reads the server chain through the proxy with Get-ServerCertificateChain' {
        $proxy = [CertIntegrationTests.ConnectProxy]::new()
        try {
            $chain = Get-ServerCertificateChain -Uri $target -TrustedCertificate $root -Proxy $proxy.Url
            $chain.IsTrusted | Should -BeTrue
            $chain.ClientCertificateRequested | Should -BeTrue
            $chain.CommonName | Should -Be 'localhost'
            $proxy.RequestList().Count | Should -BeGreaterOrEqual 1
        }
        finally { $proxy.Dispose() }
    }

    It 'refuses -ProxyCredential without -Proxy and a proxy URL that is not http://' {
        $cred = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
        { Test-MtlsEndpoint -Uri $target -Certificate $bundle -ProxyCredential $cred -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterConflict*'
        { Test-MtlsEndpoint -Uri $target -Certificate $bundle -Proxy 'https://proxy.example:8443' -ErrorAction Stop } | Should -Throw -ErrorId 'UriInvalid*'
        { Get-ServerCertificateChain -Uri $target -Proxy 'http://user:pw@proxy.example:8080' -ErrorAction Stop } | Should -Throw -ErrorId 'UriInvalid*'
    }
}
