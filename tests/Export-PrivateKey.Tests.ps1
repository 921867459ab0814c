#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Export-PrivateKey through the built module: PKCS#8 and PKCS#1 key files that openssl reads and that match the
    certificate, the encrypted PKCS#8 form and its password, owner-only files on Linux and macOS, -WhatIf, -Force and
    the error IDs. The test certificates are made with openssl; without it the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the Export-PrivateKey tests are skipped (they make and read their keys with openssl).'
    }
    # $IsLinux and $IsMacOS do not exist in Windows PowerShell 5.1, where they read as $null.
    $isUnix = [bool]($IsLinux -or $IsMacOS)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $plainPw = 'P3ster-key-pw!'
    $pw = ConvertTo-SecureString $plainPw -AsPlainText -Force
    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki)
        $certModulus = (Invoke-OpenSsl @('x509', '-in', $pki.LeafCert, '-noout', '-modulus')) -replace '^Modulus=', ''
    }

    # The RSA modulus openssl reads from a key file (with the password when one is given).
    function Get-KeyModulus([string] $KeyFile, [string] $Password) {
        $arguments = @('rsa', '-in', $KeyFile, '-noout', '-modulus')
        if ($Password) { $arguments += @('-passin', "pass:$Password") }
        (Invoke-OpenSsl $arguments | Where-Object { $_ -like 'Modulus=*' }) -replace '^Modulus=', ''
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Export-PrivateKey' -Skip:(-not $haveOpenSsl) {
    Context 'formats' {
        It 'writes PKCS#8 by default, which openssl pkey reads and whose modulus is the certificate''s' {
            $keyFile = Join-Path $TestFolder 'pkcs8.key'
            $file = $bundle | Export-PrivateKey -OutFile $keyFile
            $file | Should -BeOfType ([System.IO.FileInfo])
            $file.FullName | Should -Be $keyFile
            $text = [System.IO.File]::ReadAllText($keyFile)
            $text | Should -Match '^-----BEGIN PRIVATE KEY-----\n'
            $text | Should -Match '-----END PRIVATE KEY-----\n$'
            $text | Should -Not -Match "`r"
            $null = Invoke-OpenSsl @('pkey', '-in', $keyFile, '-noout')
            Get-KeyModulus $keyFile | Should -Be $certModulus
        }

        It 'writes -Format Pkcs1 as BEGIN RSA PRIVATE KEY with the same key' {
            $keyFile = Join-Path $TestFolder 'pkcs1.key'
            $null = $bundle | Export-PrivateKey -OutFile $keyFile -Format Pkcs1
            $text = [System.IO.File]::ReadAllText($keyFile)
            $text | Should -Match '^-----BEGIN RSA PRIVATE KEY-----\n'
            $text | Should -Not -Match 'Proc-Type'
            Get-KeyModulus $keyFile | Should -Be $certModulus
        }

        It 'encrypts with -Password (BEGIN ENCRYPTED PRIVATE KEY), and openssl decrypts it with that password only' {
            $keyFile = Join-Path $TestFolder 'encrypted.key'
            $null = $bundle | Export-PrivateKey -OutFile $keyFile -Password $pw
            $text = [System.IO.File]::ReadAllText($keyFile)
            $text | Should -Match '^-----BEGIN ENCRYPTED PRIVATE KEY-----\n'
            $text | Should -Not -Match ([regex]::Escape($plainPw))
            Get-KeyModulus $keyFile $plainPw | Should -Be $certModulus

            $ErrorActionPreference = 'Continue'
            $null = & openssl pkey -in $keyFile -noout -passin 'pass:wrong-password' 2>&1
            $LASTEXITCODE | Should -Not -Be 0
        }

        It 'uses PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA256 for -Password' {
            $keyFile = Join-Path $TestFolder 'encrypted-asn1.key'
            $null = $bundle | Export-PrivateKey -OutFile $keyFile -Password $pw
            $asn1 = (Invoke-OpenSsl @('asn1parse', '-in', $keyFile)) -join "`n"
            $asn1 | Should -Match 'PBES2'
            $asn1 | Should -Match 'PBKDF2'
            $asn1 | Should -Match 'aes-256-cbc'
            $asn1 | Should -Match 'hmacWithSHA256'
        }

        It 'writes a key that Import-CertificateBundle puts back with its certificate' {
            $keyFile = Join-Path $TestFolder 'roundtrip.key'
            $null = $bundle | Export-PrivateKey -OutFile $keyFile
            $pem = Join-Path $TestFolder 'roundtrip.pem'
            Set-Content -LiteralPath $pem -NoNewline -Encoding Ascii -Value ((Get-Content -LiteralPath $pki.FullChainFile -Raw) + [System.IO.File]::ReadAllText($keyFile))
            $back = Import-CertificateBundle -LiteralPath $pem
            $back.HasPrivateKey | Should -BeTrue
            $back.Thumbprint | Should -Be $bundle.Thumbprint
        }

        It 'completes -Format with Pkcs8 and Pkcs1' {
            @(Get-CompletionText 'Export-PrivateKey -Format ' | Sort-Object) | Should -Be @('Pkcs1', 'Pkcs8')
        }
    }

    Context 'file mode' {
        It 'creates the key file owner-only (-rw-------)' -Skip:(-not $isUnix) {
            $keyFile = Join-Path $TestFolder 'mode.key'
            $null = $bundle | Export-PrivateKey -OutFile $keyFile
            (Get-Item -LiteralPath $keyFile).UnixMode | Should -Be '-rw-------'
        }

        It 'keeps the file owner-only when -Force replaces a file anyone could read' -Skip:(-not $isUnix) {
            $keyFile = Join-Path $TestFolder 'mode-force.key'
            Set-Content -LiteralPath $keyFile -Value 'old'
            & chmod 644 $keyFile
            (Get-Item -LiteralPath $keyFile).UnixMode | Should -Be '-rw-r--r--'
            $null = $bundle | Export-PrivateKey -OutFile $keyFile -Force
            (Get-Item -LiteralPath $keyFile).UnixMode | Should -Be '-rw-------'
            [System.IO.File]::ReadAllText($keyFile) | Should -Match '^-----BEGIN PRIVATE KEY-----'
        }
    }

    Context '-WhatIf and -Force' {
        It 'writes nothing with -WhatIf' {
            $keyFile = Join-Path $TestFolder 'whatif.key'
            $out = $bundle | Export-PrivateKey -OutFile $keyFile -WhatIf
            $out | Should -BeNullOrEmpty
            Test-Path -LiteralPath $keyFile | Should -BeFalse
            @(Get-ChildItem -LiteralPath $TestFolder -Filter 'whatif*') | Should -BeNullOrEmpty
        }

        It 'does not overwrite an existing file without -Force (FileExists)' {
            $keyFile = Join-Path $TestFolder 'exists.key'
            Set-Content -LiteralPath $keyFile -Value 'keep me'
            $out = $bundle | Export-PrivateKey -OutFile $keyFile -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
            Get-Content -LiteralPath $keyFile | Should -Be 'keep me'
        }

        It 'overwrites an existing file with -Force' {
            $keyFile = Join-Path $TestFolder 'overwrite.key'
            Set-Content -LiteralPath $keyFile -Value 'replace me'
            $file = $bundle | Export-PrivateKey -OutFile $keyFile -Force
            $file.FullName | Should -Be $keyFile
            Get-KeyModulus $keyFile | Should -Be $certModulus
        }
    }

    Context 'errors' {
        It 'refuses -Password with -Format Pkcs1 (PasswordWithPkcs1) and writes nothing' {
            $keyFile = Join-Path $TestFolder 'pkcs1-pw.key'
            { $bundle | Export-PrivateKey -OutFile $keyFile -Format Pkcs1 -Password $pw } | Should -Throw -ErrorId 'PasswordWithPkcs1,*'
            Test-Path -LiteralPath $keyFile | Should -BeFalse
        }

        It 'refuses an empty -Password (PasswordEmpty)' {
            { $bundle | Export-PrivateKey -OutFile (Join-Path $TestFolder 'empty-pw.key') -Password ([securestring]::new()) } |
                Should -Throw -ErrorId 'PasswordEmpty,*'
        }

        It 'names a bundle without a key BundleHasNoPrivateKey, with the bundle as target' {
            $keyFile = Join-Path $TestFolder 'no-key.key'
            $noKey = Import-CertificateBundle $pki.FullChainFile
            $noKey.HasPrivateKey | Should -BeFalse
            $out = $noKey | Export-PrivateKey -OutFile $keyFile -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'BundleHasNoPrivateKey,*'
            $failed[0].TargetObject.Thumbprint | Should -Be $noKey.Thumbprint
            Test-Path -LiteralPath $keyFile | Should -BeFalse
        }

        It 'names a second bundle for the same -OutFile OutputPathAmbiguous and keeps the first' {
            $keyFile = Join-Path $TestFolder 'ambiguous.key'
            $other = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'cpi-pkcs8-key.json' -Pki $pki -KeyFormat Pkcs8)
            $out = @($bundle, $other | Export-PrivateKey -OutFile $keyFile -ErrorVariable failed -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'OutputPathAmbiguous,*'
            Get-KeyModulus $keyFile | Should -Be $certModulus
        }
    }
}
