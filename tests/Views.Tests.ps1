#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The default views at the widths people use (80 and 120 columns): the key facts of a bundle and of an mTLS result
    must survive, so that a failure never looks like a success.
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

Describe 'The bundle table' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $keyFile = New-TestServiceKey -Name 'views-key.json' -Pki $pki
        $bundle = ConvertFrom-ServiceKey -LiteralPath $keyFile
    }

    It 'shows name, key, chain, expiry, days and source file at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = $bundle | Out-String -Width $Width
        $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match '^Name\s+Key\s+Chain\s+NotAfter\s+Days\s+Source'
        $lines[2] | Should -Match ([regex]::Escape($bundle.CommonName))
        $lines[2] | Should -Match '\byes\b'
        $lines[2] | Should -Match ("\b{0}\b" -f $bundle.DaysRemaining)
        $lines[2] | Should -Match 'views-key\.json'
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width }
    }
}

Describe 'The mTLS result table' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'views-result.json' -Pki $pki)
        # A port nothing listens on: a refused connection, fast and without a server.
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $result = Test-MtlsEndpoint -Uri "https://127.0.0.1:$port/http/views" -Certificate $bundle -TimeoutSec 5
    }

    It 'keeps the verdict, the endpoint and the cause at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = $result | Out-String -Width $Width
        $text | Should -Match 'FAILED refused'
        $text | Should -Match "127\.0\.0\.1:$port/http/views"
        $text | Should -Match 'Cause'
        $text | Should -Match 'The connection to 127\.0\.0\.1'
        $text -split "`r?`n" | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width }
    }

    It 'labels list items with property names' {
        $list = $result | Format-List | Out-String -Width 120
        $list | Should -Not -Match '(?m)^Tls\s+:'
        $list | Should -Not -Match '(?m)^ServerCertificate\s+:'
        $list | Should -Match '(?m)^TlsProtocol\s+:'
        $list | Should -Match '(?m)^ServerCertificateChain\s+:'
    }
}

Describe 'Files the writers return' -Skip:(-not $haveOpenSsl) {
    It 'are what Get-Item returns, so the default file view is filled in' {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'views-files.json' -Pki $pki)
        $pw = ConvertTo-SecureString 'views-pw' -AsPlainText -Force
        $file = $bundle | New-PfxFromPem -OutFile (Join-Path $TestFolder 'views.pfx') -Password $pw
        $file.PSPath | Should -BeLike 'Microsoft.PowerShell.Core\FileSystem::*'
        $file.PSProvider.Name | Should -Be 'FileSystem'
        if (-not $IsWindows) { $file.UnixMode | Should -Be '-rw-------' }
        $key = $bundle | Export-PrivateKey -OutFile (Join-Path $TestFolder 'views.key')
        $key.PSPath | Should -BeLike 'Microsoft.PowerShell.Core\FileSystem::*'
        $cer = @($bundle | Export-CertificateChain -Destination (Join-Path $TestFolder 'views-cer'))[0]
        $cer.PSPath | Should -BeLike 'Microsoft.PowerShell.Core\FileSystem::*'
        $cer.Role | Should -Not -BeNullOrEmpty
    }
}
