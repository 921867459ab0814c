#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    New-PfxFromPem through the built module: service key -> bundle -> PFX, PEM files -> PFX, what openssl and .NET read
    back, -WhatIf, -Force, the error IDs and the warnings for certificates servers reject as client certificates. The
    test certificates are made with openssl; without it the tests are skipped.
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

    Context 'certificates servers reject as client certificates' {
        BeforeAll {
            # Leaves issued by the test intermediate with openssl: one for servers only, one with no EKU extension.
            function New-OpenSslLeaf([string] $Name, [string] $Extensions) {
                $key = Join-Path $TestFolder "$Name.key"
                $csr = Join-Path $TestFolder "$Name.csr"
                $crt = Join-Path $TestFolder "$Name.crt"
                $ext = Join-Path $TestFolder "$Name.ext"
                Set-Content -LiteralPath $ext -Value "basicConstraints = CA:FALSE`nkeyUsage = critical,digitalSignature,keyEncipherment`n$Extensions" -Encoding Ascii
                $null = Invoke-OpenSsl @('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $key, '-out', $csr, '-subj', "/CN=$Name")
                $null = Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-CA', $pki.IntermediateCert, '-CAkey', $pki.IntermediateKey,
                    '-set_serial', [string](Get-Random -Minimum 1000 -Maximum 1000000), '-out', $crt, '-days', '30', '-extfile', $ext)
                [pscustomobject]@{ Cert = $crt; Key = $key }
            }
        }

        It 'warns about a certificate without the Client Authentication EKU, and still writes the PFX' {
            $server = New-OpenSslLeaf 'Pester Server Only' 'extendedKeyUsage = serverAuth'
            $pfxPath = Join-Path $TestFolder 'server-only.pfx'
            $file = New-PfxFromPem -CertificatePath $server.Cert -KeyPath $server.Key -ChainPath $pki.ChainFile -OutFile $pfxPath -Password $pw -WarningVariable warned -WarningAction SilentlyContinue
            $file.FullName | Should -Be $pfxPath
            @($warned).Count | Should -Be 1
            "$warned" | Should -Match 'Client Authentication'
            "$warned" | Should -Match '1\.3\.6\.1\.5\.5\.7\.3\.2'
        }

        It 'says nothing for a certificate without an EKU extension (unrestricted) or with Client Authentication' {
            $plain = New-OpenSslLeaf 'Pester No EKU' 'subjectKeyIdentifier = hash'
            $null = New-PfxFromPem -CertificatePath $plain.Cert -KeyPath $plain.Key -OutFile (Join-Path $TestFolder 'no-eku.pfx') -Password $pw -WarningVariable warned
            $warned | Should -BeNullOrEmpty
            $null = ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile (Join-Path $TestFolder 'client-auth.pfx') -Password $pw -WarningVariable warned2
            $warned2 | Should -BeNullOrEmpty
        }

        It 'warns about an expired certificate, and still writes the PFX' {
            # openssl 3.0 cannot date a certificate in the past; .NET can. Through a PFX, which Windows PowerShell writes too.
            $rsa = [System.Security.Cryptography.RSA]::Create(2048)
            $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Pester Expired', $rsa,
                [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
            $eku = [System.Security.Cryptography.OidCollection]::new()
            $null = $eku.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.2'))
            $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($eku, $false))
            $expired = $request.CreateSelfSigned([datetimeoffset]::UtcNow.AddDays(-400), [datetimeoffset]::UtcNow.AddDays(-30))
            $source = Join-Path $TestFolder 'expired-source.pfx'
            [System.IO.File]::WriteAllBytes($source, $expired.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, 'src-pw'))
            $bundle = Import-CertificateBundle $source -Password (ConvertTo-SecureString 'src-pw' -AsPlainText -Force)
            $bundle.DaysRemaining | Should -BeLessThan 0

            $pfxPath = Join-Path $TestFolder 'expired.pfx'
            $file = $bundle | New-PfxFromPem -OutFile $pfxPath -Password $pw -WarningVariable warned -WarningAction SilentlyContinue
            $file.FullName | Should -Be $pfxPath
            @($warned).Count | Should -Be 1
            "$warned" | Should -Match 'expired on \d{4}-\d\d-\d\d'
            "$warned" | Should -Match 'written anyway'
        }

        It 'warns nothing with -WhatIf, where nothing is written' {
            $server = New-OpenSslLeaf 'Pester Server WhatIf' 'extendedKeyUsage = serverAuth'
            New-PfxFromPem -CertificatePath $server.Cert -KeyPath $server.Key -OutFile (Join-Path $TestFolder 'whatif-server.pfx') -Password $pw -WhatIf -WarningVariable warned
            $warned | Should -BeNullOrEmpty
            Test-Path -LiteralPath (Join-Path $TestFolder 'whatif-server.pfx') | Should -BeFalse
        }
    }
}
