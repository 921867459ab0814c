#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Test-MtlsEndpoint over many endpoints: results stay in input order when there are more endpoints than the window
    of probes held at a time (4 x -ThrottleLimit), endpoints that start together share one observing handshake per
    server, and a stop (Ctrl+C) ends the call promptly. Against openssl s_server; skipped without openssl.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert)
        $bundle = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki)
        $serverCert = New-TestServerCertificate -Pki $pki
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Test-MtlsEndpoint with many endpoints' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $trusting = Start-TestTlsServer $serverCert @('-Verify', '1', '-verify_return_error', '-CAfile', $pki.RootCert)
        $refusedPort = Get-FreeTcpPort
    }

    AfterAll {
        Stop-TestTlsServer $trusting
    }

    It 'writes the results in input order beyond the window of probes held at a time' {
        # -ThrottleLimit 2 holds at most 16 probes; 48 endpoints where the refused ones finish first.
        $uris = [System.Collections.Generic.List[string]]::new()
        $expected = [System.Collections.Generic.List[bool]]::new()
        foreach ($i in 1..48) {
            if ($i % 3 -eq 0) { $uris.Add("$($trusting.Url)ok/$i"); $expected.Add($true) }
            else { $uris.Add("https://127.0.0.1:$refusedPort/refused/$i"); $expected.Add($false) }
        }
        $results = @(Test-MtlsEndpoint -Uri $uris -Certificate $bundle -TrustedCertificate $root -ThrottleLimit 2 -TimeoutSec 30)
        @($results | ForEach-Object { [string]$_.Uri }) | Should -Be @($uris)
        @($results | ForEach-Object Success) | Should -Be $expected.ToArray()
    }

    It 'makes one observing handshake for endpoints of one server that start together' {
        # The observing handshake sends no certificate, which this server logs as an error; the real ones send ours.
        $server = Start-TestTlsServer $serverCert @('-Verify', '1', '-verify_return_error', '-CAfile', $pki.RootCert)
        try {
            $uris = foreach ($i in 1..12) { "$($server.Url)shared/$i" }
            $ok = @(Test-MtlsEndpoint -Uri $uris -Certificate $bundle -TrustedCertificate $root -ThrottleLimit 12 -TimeoutSec 30 -Quiet)
            $ok | Should -Be (@($true) * 12)
        }
        finally {
            Stop-TestTlsServer $server
        }
        $log = (@($server.LogFile, "$($server.LogFile).err") | Where-Object { Test-Path -LiteralPath $_ } | ForEach-Object { Get-Content -LiteralPath $_ -Raw }) -join "`n"
        $noCertificate = [regex]::Matches($log, 'did not return a certificate|certificate required').Count
        $noCertificate | Should -BeGreaterThan 0
        # One observation (a TLS 1.2 attempt and its TLS 1.3 retry at most), not one per endpoint.
        $noCertificate | Should -BeLessOrEqual 2
    }

    It 'stops promptly on Ctrl+C (StopProcessing) with many endpoints waiting' {
        # A server that accepts connections and never answers: every probe would wait for its timeout.
        $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $silent.Start(200)
        try {
            $port = $silent.LocalEndpoint.Port
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                    param($module, $port, $bundle)
                    Import-Module $module
                    Test-MtlsEndpoint -Uri (1..300 | ForEach-Object { "https://127.0.0.1:$port/wait/$_" }) -Certificate $bundle -ThrottleLimit 32 -TimeoutSec 120
                }).AddArgument($ModuleManifest).AddArgument($port).AddArgument($bundle)
            $async = $ps.BeginInvoke()
            Start-Sleep -Seconds 3
            $ps.InvocationStateInfo.State | Should -Be 'Running'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $ps.Dispose()
        }
        finally {
            $silent.Stop()
        }
    }
}
