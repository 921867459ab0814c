#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Import-CertificateBundle through the built module: the containers openssl and keytool write (PEM, DER, PKCS#7,
    PKCS#12 in the AES and the -legacy encryption, JKS), Get-ChildItem and wildcards, the error IDs of files it
    refuses and the default table. The files are made with openssl (and keytool for JKS); without them the tests are
    skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    $haveKeytool = [bool](Get-Command keytool -CommandType Application -ErrorAction SilentlyContinue)
    $haveLegacy = $false
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the Import-CertificateBundle tests are skipped (they make their test files with openssl).'
    }
    else {
        # openssl pkcs12 -legacy needs the legacy provider (RC2, 3DES), which not every openssl 3 build ships.
        $null = & openssl list -providers -provider legacy 2>&1
        $haveLegacy = $LASTEXITCODE -eq 0
        if (-not $haveLegacy) { Write-Warning 'openssl has no legacy provider: the Import-CertificateBundle test of a -legacy PFX is skipped.' }
    }
    if (-not $haveKeytool) {
        Write-Warning 'keytool is not on PATH: the Import-CertificateBundle tests of Java keystores are skipped.'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $plainPw = 'P3ster-import-pw!'
    $pw = ConvertTo-SecureString $plainPw -AsPlainText -Force

    function Invoke-Keytool {
        param([Parameter(Mandatory)] [string[]] $Arguments)
        $ErrorActionPreference = 'Continue'
        $output = & keytool @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) {
            throw "keytool $($Arguments -join ' ') failed ($LASTEXITCODE): $($output -join "`n")"
        }
    }

    # The thumbprint (SHA-1, upper-case hex) openssl computes for a certificate file.
    function Get-OpenSslThumbprint([string] $CertFile) {
        ((Invoke-OpenSsl @('x509', '-in', $CertFile, '-noout', '-fingerprint', '-sha1')) -replace '^.*=', '' -replace ':', '').ToUpperInvariant()
    }

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $leafThumbprint = Get-OpenSslThumbprint $pki.LeafCert
        $rootThumbprint = Get-OpenSslThumbprint $pki.RootCert

        $files = Join-Path $TestFolder 'files'
        $null = New-Item -ItemType Directory -Path $files
        $pemChain = Join-Path $files 'fullchain.pem'
        Copy-Item -LiteralPath $pki.FullChainFile -Destination $pemChain
        $pemWithKey = Join-Path $files 'client-with-key.pem'
        Set-Content -LiteralPath $pemWithKey -NoNewline -Encoding Ascii -Value (
            (Get-Content -LiteralPath $pki.FullChainFile -Raw) + (Get-Content -LiteralPath $pki.LeafKey -Raw))
        $derCert = Join-Path $files 'client.cer'
        $null = Invoke-OpenSsl @('x509', '-in', $pki.LeafCert, '-outform', 'DER', '-out', $derCert)
        $p7b = Join-Path $files 'chain.p7b'
        $null = Invoke-OpenSsl @('crl2pkcs7', '-nocrl', '-certfile', $pki.FullChainFile, '-outform', 'DER', '-out', $p7b)
        $pfx = Join-Path $files 'client.pfx'
        $null = Invoke-OpenSsl @('pkcs12', '-export', '-inkey', $pki.LeafKey, '-in', $pki.LeafCert, '-certfile', $pki.ChainFile,
            '-passout', "pass:$plainPw", '-out', $pfx)
        $garbage = Join-Path $TestFolder 'notes.cer'
        Set-Content -LiteralPath $garbage -Value 'This is a note about certificates, not a certificate.' -Encoding Ascii
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Import-CertificateBundle' -Skip:(-not $haveOpenSsl) {
    Context 'formats' {
        It 'reads a PEM chain into one bundle, leaf first, without a key' {
            $bundle = Import-CertificateBundle $pemChain
            @($bundle).Count | Should -Be 1
            $bundle | Should -BeOfType ([CertIntegration.CertificateBundle])
            $bundle.Subject | Should -Be 'CN=Pester Client'
            $bundle.Thumbprint | Should -Be $leafThumbprint
            $bundle.ChainLength | Should -Be 3
            $bundle.Chain[1].Subject | Should -Be 'CN=Pester Intermediate CA'
            $bundle.Chain[2].Thumbprint | Should -Be $rootThumbprint
            $bundle.HasPrivateKey | Should -BeFalse
            $bundle.Source | Should -Be $pemChain
        }

        It 'puts the key of a PEM file with the certificate it belongs to' {
            $bundle = Import-CertificateBundle $pemWithKey
            @($bundle).Count | Should -Be 1
            $bundle.HasPrivateKey | Should -BeTrue
            $bundle.ChainLength | Should -Be 3
        }

        It 'reads a DER .cer' {
            $bundle = Import-CertificateBundle $derCert
            @($bundle).Count | Should -Be 1
            $bundle.Thumbprint | Should -Be $leafThumbprint
            $bundle.ChainLength | Should -Be 1
            $bundle.HasPrivateKey | Should -BeFalse
        }

        It 'reads a PKCS#7 .p7b from openssl crl2pkcs7 as one chain' {
            $bundle = Import-CertificateBundle $p7b
            @($bundle).Count | Should -Be 1
            $bundle.Thumbprint | Should -Be $leafThumbprint
            @($bundle.Chain | ForEach-Object Subject) | Should -Be @('CN=Pester Client', 'CN=Pester Intermediate CA', 'CN=Pester Root CA')
        }

        It 'reads a PEM PKCS#7 in any certificate order' {
            # crl2pkcs7 keeps the order of -certfile: root first here.
            $rootFirst = Join-Path $TestFolder 'root-first.pem'
            Set-Content -LiteralPath $rootFirst -NoNewline -Encoding Ascii -Value (
                (Get-Content -LiteralPath $pki.RootCert -Raw) + (Get-Content -LiteralPath $pki.LeafCert -Raw) + (Get-Content -LiteralPath $pki.IntermediateCert -Raw))
            $p7bPem = Join-Path $TestFolder 'root-first.p7b'
            $null = Invoke-OpenSsl @('crl2pkcs7', '-nocrl', '-certfile', $rootFirst, '-out', $p7bPem)
            $bundle = Import-CertificateBundle $p7bPem
            @($bundle).Count | Should -Be 1
            @($bundle.Chain | ForEach-Object Subject) | Should -Be @('CN=Pester Client', 'CN=Pester Intermediate CA', 'CN=Pester Root CA')
        }

        It 'reads a PFX made by openssl 3 (AES-256) with its key and chain' {
            $info = (Invoke-OpenSsl @('pkcs12', '-in', $pfx, '-info', '-noout', '-passin', "pass:$plainPw")) -join "`n"
            $info | Should -Match 'AES-256-CBC'
            $bundle = Import-CertificateBundle $pfx -Password $pw
            @($bundle).Count | Should -Be 1
            $bundle.HasPrivateKey | Should -BeTrue
            $bundle.Thumbprint | Should -Be $leafThumbprint
            $bundle.ChainLength | Should -Be 3
        }

        It 'reads a PFX made by openssl pkcs12 -legacy (RC2/3DES)' -Skip:(-not $haveLegacy) {
            $legacy = Join-Path $TestFolder 'legacy.pfx'
            $null = Invoke-OpenSsl @('pkcs12', '-export', '-legacy', '-inkey', $pki.LeafKey, '-in', $pki.LeafCert, '-certfile', $pki.ChainFile,
                '-passout', "pass:$plainPw", '-out', $legacy)
            $info = (Invoke-OpenSsl @('pkcs12', '-in', $legacy, '-info', '-noout', '-legacy', '-passin', "pass:$plainPw")) -join "`n"
            $info | Should -Match 'RC2|3DES|TripleDES'
            $bundle = Import-CertificateBundle $legacy -Password $pw
            $bundle.HasPrivateKey | Should -BeTrue
            $bundle.Thumbprint | Should -Be $leafThumbprint
            $bundle.ChainLength | Should -Be 3
        }
    }

    Context 'Java keystores' -Skip:(-not $haveKeytool) {
        BeforeAll {
            # A truststore of three unrelated roots (trusted certificate entries) ...
            $extraRoots = @('Pester Trust Two', 'Pester Trust Three') | ForEach-Object { New-TestRootCertificate -CommonName $_ }
            $truststore = Join-Path $TestFolder 'truststore.jks'
            $i = 0
            foreach ($cert in @($pki.RootCert) + @($extraRoots | ForEach-Object Cert)) {
                $i++
                Invoke-Keytool @('-importcert', '-noprompt', '-alias', "root$i", '-file', $cert, '-keystore', $truststore,
                    '-storetype', 'JKS', '-storepass', $plainPw)
            }
            # ... and a keystore with one key entry, converted from a PKCS#12 by keytool itself.
            $keystore = Join-Path $TestFolder 'client.jks'
            Invoke-Keytool @('-importkeystore', '-noprompt', '-srckeystore', $pfx, '-srcstoretype', 'PKCS12', '-srcstorepass', $plainPw,
                '-destkeystore', $keystore, '-deststoretype', 'JKS', '-deststorepass', $plainPw, '-destkeypass', $plainPw)
        }

        It 'gives one bundle per root of a truststore with three roots' {
            $bundles = Import-CertificateBundle $truststore -Password $pw
            @($bundles).Count | Should -Be 3
            @($bundles | ForEach-Object CommonName | Sort-Object) | Should -Be @('Pester Root CA', 'Pester Trust Three', 'Pester Trust Two')
            @($bundles | Where-Object ChainLength -NE 1) | Should -BeNullOrEmpty
            @($bundles | Where-Object HasPrivateKey) | Should -BeNullOrEmpty
        }

        It 'reads a truststore without -Password too' {
            $bundles = Import-CertificateBundle $truststore -WarningAction SilentlyContinue
            @($bundles).Count | Should -Be 3
        }

        It 'reads a key entry with its key and chain' {
            $bundle = Import-CertificateBundle $keystore -Password $pw
            @($bundle).Count | Should -Be 1
            $bundle.HasPrivateKey | Should -BeTrue
            $bundle.Thumbprint | Should -Be $leafThumbprint
            $bundle.ChainLength | Should -Be 3
            $bundle.Source | Should -Be $keystore
        }
    }

    Context 'errors' {
        It 'names a wrong PFX password Pkcs12PasswordIncorrect, with the file as target' {
            $wrong = ConvertTo-SecureString 'not-the-password' -AsPlainText -Force
            $out = Import-CertificateBundle $pfx -Password $wrong -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'Pkcs12PasswordIncorrect,*'
            $failed[0].TargetObject | Should -Be $pfx
            "$($failed[0])" | Should -Not -Match 'not-the-password'
        }

        It 'names a PFX read without a password Pkcs12PasswordRequired' {
            $null = Import-CertificateBundle $pfx -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'Pkcs12PasswordRequired,*'
        }

        It 'names a file that is no container NotACertificateContainer and goes on with the next file' {
            $out = Import-CertificateBundle $garbage, $derCert -ErrorVariable failed -ErrorAction SilentlyContinue
            @($out).Count | Should -Be 1
            $out.Thumbprint | Should -Be $leafThumbprint
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'NotACertificateContainer,*'
            $failed[0].TargetObject | Should -Be $garbage
        }

        It 'names a missing file FileNotFound' {
            $missing = Join-Path $TestFolder 'no-such-file.pem'
            $out = Import-CertificateBundle $missing -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        }

        It 'names a -Path wildcard that matches nothing FileNotFound' {
            $null = Import-CertificateBundle (Join-Path $TestFolder '*.nothing-matches') -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        }

        It 'stops with -ErrorAction Stop' {
            { Import-CertificateBundle $garbage -ErrorAction Stop } | Should -Throw -ErrorId 'NotACertificateContainer,*'
        }
    }

    Context 'paths and pipelines' {
        It 'reads the files Get-ChildItem pipes in, each bundle naming its file' {
            $bundles = Get-ChildItem -LiteralPath $files -File | Import-CertificateBundle -Password $pw
            # fullchain.pem, client-with-key.pem, client.cer, chain.p7b, client.pfx: one bundle each.
            @($bundles).Count | Should -Be 5
            @($bundles | ForEach-Object Source | Sort-Object) | Should -Be @(Get-ChildItem -LiteralPath $files -File | ForEach-Object FullName | Sort-Object)
            @($bundles | Where-Object Thumbprint -NE $leafThumbprint) | Should -BeNullOrEmpty
        }

        It 'expands -Path wildcards' {
            $bundles = Import-CertificateBundle (Join-Path $files '*.pem')
            @($bundles).Count | Should -Be 2
            @($bundles | ForEach-Object { Split-Path -Leaf $_.Source } | Sort-Object) | Should -Be @('client-with-key.pem', 'fullchain.pem')
        }

        It 'takes -LiteralPath as written' {
            $bracket = Join-Path $TestFolder 'client[1].cer'
            [System.IO.File]::Copy($derCert, $bracket)
            $bundle = Import-CertificateBundle -LiteralPath $bracket
            $bundle.Source | Should -Be $bracket
            $bundle.Thumbprint | Should -Be $leafThumbprint
        }

        It 'takes paths piped as strings' {
            $bundles = $derCert, $p7b | Import-CertificateBundle
            @($bundles).Count | Should -Be 2
        }
    }

    Context 'formatting' {
        It 'shows the leaf''s name and the days left in the default table at 80 columns' {
            $bundle = Import-CertificateBundle $pemWithKey
            $text = ($bundle | Out-String -Width 80) -replace "$([char]27)\[[0-9;]*m", ''
            $lines = @($text -split "`r?`n" | Where-Object { $_.Trim() })
            $lines[0] | Should -Match '\bDays\b'
            $row = @($lines | Where-Object { $_ -match 'Pester Client' })
            $row.Count | Should -Be 1
            # The days left stand under the Days header (right-aligned to its end).
            $daysEnd = $lines[0].IndexOf('Days') + 'Days'.Length
            $row[0].Substring(0, $daysEnd).TrimEnd() | Should -Match ('\b{0}$' -f $bundle.DaysRemaining)
            $row[0] | Should -Match '\byes\b'
            @($lines | Where-Object { $_.Length -gt 80 }) | Should -BeNullOrEmpty
        }

        It 'gives each bundle of a call its own row' {
            $text = (Import-CertificateBundle $derCert, $pki.RootCert | Out-String -Width 80) -replace "$([char]27)\[[0-9;]*m", ''
            @($text -split "`r?`n" | Where-Object { $_ -match 'Pester Client' }).Count | Should -Be 1
            @($text -split "`r?`n" | Where-Object { $_ -match 'Pester Root CA' }).Count | Should -Be 1
        }
    }
}
