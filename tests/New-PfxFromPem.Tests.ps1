#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    New-PfxFromPem through the built module: service key -> bundle -> PFX, PEM files -> PFX, what openssl and .NET read
    back, -WhatIf, -Force and the error IDs. The test certificates are made with openssl; without it the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the New-PfxFromPem tests are skipped (they make their test certificates with openssl).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $pw = ConvertTo-SecureString 'P3ster-pfx-pw!' -AsPlainText -Force
    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $goodKey = New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'New-PfxFromPem' -Skip:(-not $haveOpenSsl) {
    It 'writes a PFX from a service key in one pipeline' {
        $pfxPath = Join-Path $TestFolder 'client.pfx'
        $file = ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw
        $file | Should -BeOfType ([System.IO.FileInfo])
        $file.FullName | Should -Be $pfxPath
        $plain = [System.Net.NetworkCredential]::new('', $pw).Password
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfxPath, $plain)
        $cert.HasPrivateKey | Should -BeTrue
        $cert.Subject | Should -Be 'CN=Pester Client'
    }

    It 'writes a PFX that openssl reads, with the whole chain' {
        $pfxPath = Join-Path $TestFolder 'chain.pfx'
        $null = ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw
        $plain = [System.Net.NetworkCredential]::new('', $pw).Password
        $ErrorActionPreference = 'Continue'
        $pem = & openssl pkcs12 -in $pfxPath -nokeys -passin "pass:$plain" 2>$null
        $LASTEXITCODE | Should -Be 0
        @($pem | Where-Object { $_ -eq '-----BEGIN CERTIFICATE-----' }).Count | Should -Be 3
    }

    It 'writes a PFX from PEM files with -CertificatePath, -KeyPath and -ChainPath' {
        $pfxPath = Join-Path $TestFolder 'files.pfx'
        $file = New-PfxFromPem -CertificatePath $pki.LeafCert -KeyPath $pki.LeafKey -ChainPath $pki.ChainFile -OutFile $pfxPath -Password $pw -Encryption Aes256Sha256
        $file.Exists | Should -BeTrue
        $ErrorActionPreference = 'Continue'
        $plain = [System.Net.NetworkCredential]::new('', $pw).Password
        $info = & openssl pkcs12 -in $pfxPath -info -noout -passin "pass:$plain" 2>&1
        $LASTEXITCODE | Should -Be 0
        ($info -join "`n") | Should -Match 'AES-256-CBC'
    }

    It 'writes one PFX per service key into -Destination' {
        $dest = Join-Path $TestFolder 'pfx'
        $null = New-Item -ItemType Directory -Path $dest
        $files = Get-ChildItem -LiteralPath $TestFolder -Filter 'cpi-cert-key.json' | ConvertFrom-ServiceKey | New-PfxFromPem -Destination $dest -Password $pw
        @($files).Count | Should -Be 1
        $files.Name | Should -Be 'cpi-cert-key.pfx'
    }

    It 'writes nothing with -WhatIf' {
        $pfxPath = Join-Path $TestFolder 'whatif.pfx'
        ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw -WhatIf
        Test-Path -LiteralPath $pfxPath | Should -BeFalse
    }

    It 'does not overwrite an existing file without -Force' {
        $pfxPath = Join-Path $TestFolder 'exists.pfx'
        Set-Content -LiteralPath $pfxPath -Value 'keep me'
        $null = ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content -LiteralPath $pfxPath | Should -Be 'keep me'
    }

    It 'stops with PasswordEmpty before reading any input' {
        $caught = $null
        try {
            ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile (Join-Path $TestFolder 'empty.pfx') -Password ([securestring]::new())
        }
        catch {
            $caught = $_
        }

        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'PasswordEmpty,*'
        Test-Path -LiteralPath (Join-Path $TestFolder 'empty.pfx') | Should -BeFalse
    }
}
