#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Bundles from Java keystores and PKCS#12 files keep the names the container gave them (Alias), and a keystore
    read without its password says that its integrity was not checked.
#>

BeforeDiscovery {
    $haveTools = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) -and
        [bool](Get-Command keytool -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

AfterAll {
    Remove-TestFolder
}

Describe 'Alias of bundles from keystores' -Skip:(-not $haveTools) {
    BeforeAll {
        $pki = Get-TestPki
        $pfx = Join-Path $TestFolder 'named.pfx'
        Invoke-OpenSsl -Arguments @('pkcs12', '-export', '-in', $pki.LeafCert, '-inkey', $pki.LeafKey, '-certfile', $pki.ChainFile, '-name', 'partner-client', '-passout', 'pass:alias-pw', '-out', $pfx) | Out-Null
        $jks = Join-Path $TestFolder 'trust.jks'
        $partnerRoot = New-TestRootCertificate -CommonName 'Alias Partner Root'
        $null = & keytool -importcert -noprompt -alias 'partner_root' -file $partnerRoot.Cert -keystore $jks -storetype JKS -storepass 'store-pw' 2>&1
        $LASTEXITCODE | Should -Be 0
        $null = & keytool -importkeystore -noprompt -srckeystore $pfx -srcstoretype PKCS12 -srcstorepass 'alias-pw' -destkeystore $jks -deststoretype JKS -deststorepass 'store-pw' -destkeypass 'store-pw' 2>&1
        $LASTEXITCODE | Should -Be 0
        $pw = ConvertTo-SecureString 'alias-pw' -AsPlainText -Force
        $storePw = ConvertTo-SecureString 'store-pw' -AsPlainText -Force
    }

    It 'keeps the friendlyName of a PKCS#12 file as Alias' {
        $b = Import-CertificateBundle -LiteralPath $pfx -Password $pw
        $b.Alias | Should -Be 'partner-client'
        $b.HasPrivateKey | Should -BeTrue
    }

    It 'keeps the aliases of a Java keystore, key entry and trusted certificate entry' {
        $bundles = @(Import-CertificateBundle -LiteralPath $jks -Password $storePw)
        $bundles.Count | Should -Be 2
        $bundles.Alias | Should -Contain 'partner-client'
        $bundles.Alias | Should -Contain 'partner_root'
        ($bundles | Where-Object Alias -eq 'partner-client').HasPrivateKey | Should -BeTrue
    }

    It 'warns that a keystore read without its password was not checked' {
        $trustOnly = Join-Path $TestFolder 'trust-only.jks'
        $null = & keytool -importcert -noprompt -alias 'root_only' -file $pki.RootCert -keystore $trustOnly -storetype JKS -storepass 'store-pw' 2>&1
        $b = Import-CertificateBundle -LiteralPath $trustOnly -WarningVariable w -WarningAction SilentlyContinue
        $b.Alias | Should -Be 'root_only'
        ($w -join ' ') | Should -Match 'integrity was not checked'
        $null = Import-CertificateBundle -LiteralPath $trustOnly -Password $storePw -WarningVariable w2 -WarningAction SilentlyContinue
        $w2 | Should -BeNullOrEmpty
    }
}
