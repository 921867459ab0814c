#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Test-MtlsEndpoint's verdicts as a new user meets them: results come back in input order, and progress shows from
    the start. (Verdicts against real TLS servers are in Test-MtlsEndpoint.Tests.ps1 and the xunit TLS tests.)
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

AfterAll {
    Remove-TestFolder
}

Describe 'Test-MtlsEndpoint result order' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'order.json' -Pki $pki)
        # A server that accepts the connection and never answers: its probe ends only at -TimeoutSec.
        $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $silent.Start()
        $silentPort = $silent.LocalEndpoint.Port
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $refusedPort = $probe.LocalEndpoint.Port; $probe.Stop()
    }

    AfterAll {
        $silent.Stop()
    }

    It 'returns results in input order even when a later endpoint finishes first' {
        $uris = "https://127.0.0.1:$silentPort/slow", "https://127.0.0.1:$refusedPort/fast", "https://127.0.0.1:$refusedPort/fast2"
        $results = @($uris | Test-MtlsEndpoint -Certificate $bundle -TimeoutSec 2)
        $results.Count | Should -Be 3
        $results[0].Uri.AbsolutePath | Should -Be '/slow'
        $results[0].Verdict | Should -Be 'FAILED timeout'
        $results[1].Uri.AbsolutePath | Should -Be '/fast'
        $results[2].Uri.AbsolutePath | Should -Be '/fast2'
    }

    It 'lines up -Quiet booleans with the input' {
        $uris = "https://127.0.0.1:$silentPort/a", "https://127.0.0.1:$refusedPort/b"
        $quiet = @($uris | Test-MtlsEndpoint -Certificate $bundle -TimeoutSec 2 -Quiet)
        $quiet.Count | Should -Be 2
        $quiet | ForEach-Object { $_ | Should -BeOfType ([bool]) }
    }

    It 'shows progress before the first endpoint has finished' {
        $uris = 1..3 | ForEach-Object { "https://127.0.0.1:$silentPort/p$_" }
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($Manifest, $Bundle, $Uris)
                Import-Module $Manifest
                $Uris | Test-MtlsEndpoint -Certificate $Bundle -TimeoutSec 2
            }).AddArgument($ModuleManifest).AddArgument($bundle).AddArgument($uris)
        $null = $ps.Invoke()
        $records = @($ps.Streams.Progress)
        $ps.Dispose()
        $records.Count | Should -BeGreaterThan 0
        $records[0].StatusDescription | Should -Match '^0 of [23] done$'
    }
}

Describe 'Test-MtlsEndpoint URLs as users type them' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'urls.json' -Pki $pki)
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
    }

    It 'takes host:port/path without a scheme as https' {
        $r = Test-MtlsEndpoint -Uri "127.0.0.1:$port/http/x" -Certificate $bundle -TimeoutSec 5 -ErrorVariable e -ErrorAction SilentlyContinue
        $e | Should -BeNullOrEmpty
        $r.Uri.Scheme | Should -Be 'https'
        $r.Uri.Port | Should -Be $port
        $r.Uri.AbsolutePath | Should -Be '/http/x'
    }

    It 'never shows a password given in the URL (result, table, verbose, errors)' {
        $all = Test-MtlsEndpoint -Uri "https://admin:S3CRET-in-url@127.0.0.1:$port/x" -Certificate $bundle -TimeoutSec 5 -Verbose 4>&1
        $result = $all | Where-Object { $_ -is [CertIntegration.MtlsTestResult] }
        $result.Uri.UserInfo | Should -BeNullOrEmpty
        (($all | Out-String) + ($result | Format-List | Out-String)) | Should -Not -Match 'S3CRET-in-url'
        $null = Test-MtlsEndpoint -Uri 'ftp://admin:S3CRET-in-url@host/x' -Certificate $bundle -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'UriNotHttps,*'
        $e[0].Exception.Message | Should -Not -Match 'S3CRET-in-url'
        "$($e[0].TargetObject)" | Should -Not -Match 'S3CRET-in-url'
    }
}
