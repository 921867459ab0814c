#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Export-CertificateChain through the built module: one file per role or per chain in every -Format, each read back
    by openssl, -Include, -WhatIf, -Force, no private key in any file, and tab completion of -Format and -Include.
    The test certificates are made with openssl; without it the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the Export-CertificateChain tests are skipped (they make and read their certificates with openssl).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # The thumbprint (SHA-1, upper-case hex) openssl computes for a certificate; -InForm DER for binary files.
    function Get-OpenSslThumbprint([string] $CertFile, [string] $InForm = 'PEM') {
        ((Invoke-OpenSsl @('x509', '-in', $CertFile, '-inform', $InForm, '-noout', '-fingerprint', '-sha1')) -replace '^.*=', '' -replace ':', '').ToUpperInvariant()
    }

    # Where in $Bytes the byte sequence $Part starts, or -1.
    function Find-Bytes([byte[]] $Bytes, [byte[]] $Part) {
        $first = $Part[0]
        for ($i = [Array]::IndexOf($Bytes, $first); $i -ge 0 -and $i -le $Bytes.Length - $Part.Length; $i = [Array]::IndexOf($Bytes, $first, $i + 1)) {
            $match = $true
            for ($j = 1; $j -lt $Part.Length; $j++) {
                if ($Bytes[$i + $j] -ne $Part[$j]) { $match = $false; break }
            }
            if ($match) { return $i }
        }
        -1
    }

    $formats = @('Base64', 'Der', 'Pem', 'PemBundle', 'SingleLine', 'P7b')
    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki)
        $thumbprints = @{
            Leaf = Get-OpenSslThumbprint $pki.LeafCert
            Intermediate = Get-OpenSslThumbprint $pki.IntermediateCert
            Root = Get-OpenSslThumbprint $pki.RootCert
        }
        $subjects = @('CN=Pester Client', 'CN=Pester Intermediate CA', 'CN=Pester Root CA')

        # Every format once, into a folder of its own; the tests below read these files.
        $exported = @{}
        foreach ($format in $formats) {
            $exported[$format] = @($bundle | Export-CertificateChain -Destination (Join-Path $TestFolder $format) -Format $format)
        }

        $keyLines = @(Get-Content -LiteralPath $pki.LeafKey | Where-Object { $_ -notmatch '^-----' })
        $keyDer = [Convert]::FromBase64String(-join $keyLines)
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Export-CertificateChain' -Skip:(-not $haveOpenSsl) {
    Context 'files per role' {
        It 'writes a Base64 .cer per role into -Destination, named by role and common name' {
            $files = $exported['Base64']
            $files.Count | Should -Be 3
            $files | ForEach-Object { $_ | Should -BeOfType ([System.IO.FileInfo]) }
            $files[0].PSObject.TypeNames | Should -Contain 'CertIntegration.ExportedCertificate'
            @(Get-ChildItem -LiteralPath (Join-Path $TestFolder 'Base64') -File | ForEach-Object Name | Sort-Object) |
                Should -Be @($files | ForEach-Object Name | Sort-Object)
            $files[0].Name | Should -BeLike 'leaf-Pester?Client.cer'
            $files[1].Name | Should -BeLike 'intermediate-Pester?Intermediate?CA.cer'
            $files[2].Name | Should -BeLike 'root-Pester?Root?CA.cer'
            @($files | ForEach-Object { "$($_.Role)" }) | Should -Be @('Leaf', 'Intermediate', 'Root')
            @($files | ForEach-Object Subject) | Should -Be $subjects
        }

        It 'writes Base64 as 64-character lines with CRLF that openssl x509 reads' {
            foreach ($file in $exported['Base64']) {
                $text = [System.IO.File]::ReadAllText($file.FullName)
                $text | Should -Match '^-----BEGIN CERTIFICATE-----\r\n'
                ($text -replace '\r\n', '') | Should -Not -Match '[\r\n]'
                @($text -split "`r`n" | Where-Object { $_.Length -gt 64 }) | Should -BeNullOrEmpty
                Get-OpenSslThumbprint $file.FullName | Should -Be $thumbprints["$($file.Role)"]
                $file.Thumbprint | Should -Be $thumbprints["$($file.Role)"]
            }
        }

        It 'writes -Format Der as binary certificates that openssl x509 -inform DER reads' {
            $files = $exported['Der']
            $files.Count | Should -Be 3
            foreach ($file in $files) {
                $file.Extension | Should -Be '.cer'
                [System.IO.File]::ReadAllBytes($file.FullName)[0] | Should -Be 0x30
                Get-OpenSslThumbprint $file.FullName -InForm DER | Should -Be $thumbprints["$($file.Role)"]
            }
        }

        It 'writes -Format Pem as one .pem per certificate with LF line ends that openssl x509 reads' {
            $files = $exported['Pem']
            $files.Count | Should -Be 3
            foreach ($file in $files) {
                $file.Extension | Should -Be '.pem'
                [System.IO.File]::ReadAllText($file.FullName) | Should -Not -Match "`r"
                Get-OpenSslThumbprint $file.FullName | Should -Be $thumbprints["$($file.Role)"]
            }
        }

        It 'writes -Format SingleLine as one line without line break, in the file and in Text, that openssl decodes' {
            $files = $exported['SingleLine']
            $files.Count | Should -Be 3
            foreach ($file in $files) {
                $file.Extension | Should -Be '.txt'
                $text = [System.IO.File]::ReadAllText($file.FullName)
                $text | Should -Match '^-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=]+-----END CERTIFICATE-----$'
                $file.Text | Should -BeExactly $text
                # openssl has no reader for the single-line form: decode the Base64 and read the DER.
                $b64 = Join-Path $TestFolder "$($file.BaseName).b64"
                $der = Join-Path $TestFolder "$($file.BaseName).der"
                Set-Content -LiteralPath $b64 -Value ($text -replace '-----(BEGIN|END) CERTIFICATE-----', '') -NoNewline -Encoding Ascii
                $null = Invoke-OpenSsl @('base64', '-d', '-A', '-in', $b64, '-out', $der)
                Get-OpenSslThumbprint $der -InForm DER | Should -Be $thumbprints["$($file.Role)"]
            }
        }
    }

    Context 'files per chain' {
        It 'writes -Format PemBundle as one file, leaf first, that openssl reads whole' {
            $files = $exported['PemBundle']
            $files.Count | Should -Be 1
            $files[0].Name | Should -BeLike 'chain-Pester?Client.pem'
            "$($files[0].Role)" | Should -Be 'Leaf, Intermediate, Root'
            $files[0].Thumbprint | Should -Be $thumbprints.Leaf
            [System.IO.File]::ReadAllText($files[0].FullName) | Should -Not -Match "`r"
            Get-OpenSslThumbprint $files[0].FullName | Should -Be $thumbprints.Leaf
            $p7 = Join-Path $TestFolder 'bundle-check.p7b'
            $null = Invoke-OpenSsl @('crl2pkcs7', '-nocrl', '-certfile', $files[0].FullName, '-out', $p7)
            $listed = Invoke-OpenSsl @('pkcs7', '-in', $p7, '-print_certs', '-noout')
            @($listed | Where-Object { $_ -match '^subject=' } | ForEach-Object { $_ -replace '^subject=\s*', '' -replace ' = ', '=' }) |
                Should -Be $subjects
        }

        It 'writes -Format P7b as a PKCS#7 that openssl pkcs7 -print_certs lists, leaf first' {
            $files = $exported['P7b']
            $files.Count | Should -Be 1
            $files[0].Name | Should -BeLike 'chain-Pester?Client.p7b'
            $listed = Invoke-OpenSsl @('pkcs7', '-in', $files[0].FullName, '-inform', 'DER', '-print_certs', '-noout')
            @($listed | Where-Object { $_ -match '^subject=' } | ForEach-Object { $_ -replace '^subject=\s*', '' -replace ' = ', '=' }) |
                Should -Be $subjects
        }

        It 'reads the P7b it wrote back as the same chain' {
            $back = Import-CertificateBundle -LiteralPath $exported['P7b'][0].FullName
            $back.Thumbprint | Should -Be $thumbprints.Leaf
            @($back.Chain | ForEach-Object Thumbprint) | Should -Be @($thumbprints.Leaf, $thumbprints.Intermediate, $thumbprints.Root)
        }
    }

    Context 'no private key' {
        It 'writes no private key into any file of any format (<_>)' -ForEach $formats {
            $files = $exported[$_]
            $files.Count | Should -BeGreaterThan 0
            $bundle.HasPrivateKey | Should -BeTrue
            # The probes do find the key where it is.
            Find-Bytes $keyDer ($keyDer[600..647]) | Should -Be 600
            $keyLines.Count | Should -BeGreaterThan 10
            foreach ($file in $files) {
                $bytes = [System.IO.File]::ReadAllBytes($file.FullName)
                $text = [System.Text.Encoding]::ASCII.GetString($bytes)
                $text | Should -Not -Match 'PRIVATE KEY'
                foreach ($line in $keyLines) { $text.Contains($line) | Should -BeFalse }
                # 48 bytes from the middle of the key's PKCS#8 DER (inside the private exponent and primes).
                Find-Bytes $bytes ($keyDer[600..647]) | Should -Be -1
            }
        }

        It 'writes no key from a PEM file given with -Path' {
            $withKey = Join-Path $TestFolder 'with-key.pem'
            Set-Content -LiteralPath $withKey -NoNewline -Encoding Ascii -Value (
                (Get-Content -LiteralPath $pki.FullChainFile -Raw) + (Get-Content -LiteralPath $pki.LeafKey -Raw))
            $files = Export-CertificateChain -Path $withKey -Format PemBundle -Destination (Join-Path $TestFolder 'from-path')
            @($files).Count | Should -Be 1
            $text = [System.IO.File]::ReadAllText($files[0].FullName)
            ([regex]::Matches($text, '-----BEGIN CERTIFICATE-----')).Count | Should -Be 3
            $text | Should -Not -Match 'PRIVATE KEY'
        }
    }

    Context '-Include' {
        It 'writes only the leaf with -Include Leaf' {
            $files = @($bundle | Export-CertificateChain -Include Leaf -Destination (Join-Path $TestFolder 'only-leaf'))
            $files.Count | Should -Be 1
            "$($files[0].Role)" | Should -Be 'Leaf'
            $files[0].Thumbprint | Should -Be $thumbprints.Leaf
            @(Get-ChildItem -LiteralPath (Join-Path $TestFolder 'only-leaf')).Count | Should -Be 1
        }

        It 'writes only the root with -Include Root' {
            $files = @($bundle | Export-CertificateChain -Include Root -Format Der -Destination (Join-Path $TestFolder 'only-root'))
            $files.Count | Should -Be 1
            "$($files[0].Role)" | Should -Be 'Root'
            Get-OpenSslThumbprint $files[0].FullName -InForm DER | Should -Be $thumbprints.Root
        }

        It 'puts only the selected roles into a PemBundle' {
            $files = @($bundle | Export-CertificateChain -Include Intermediate, Root -Format PemBundle -Destination (Join-Path $TestFolder 'ca-bundle'))
            $files.Count | Should -Be 1
            "$($files[0].Role)" | Should -Be 'Intermediate, Root'
            $text = [System.IO.File]::ReadAllText($files[0].FullName)
            ([regex]::Matches($text, '-----BEGIN CERTIFICATE-----')).Count | Should -Be 2
            Get-OpenSslThumbprint $files[0].FullName | Should -Be $thumbprints.Intermediate
        }
    }

    Context '-WhatIf and -Force' {
        It 'writes nothing and creates no folder with -WhatIf' {
            $dest = Join-Path $TestFolder 'whatif'
            $out = $bundle | Export-CertificateChain -Destination $dest -WhatIf
            $out | Should -BeNullOrEmpty
            Test-Path -LiteralPath $dest | Should -BeFalse
        }

        It 'refuses to overwrite an existing file without -Force (FileExists) and leaves it as it was' {
            $dest = Join-Path $TestFolder 'exists'
            $first = @($bundle | Export-CertificateChain -Destination $dest -Include Leaf)
            Set-Content -LiteralPath $first[0].FullName -Value 'keep me'
            $out = $bundle | Export-CertificateChain -Destination $dest -Include Leaf -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
            Get-Content -LiteralPath $first[0].FullName | Should -Be 'keep me'
        }

        It 'writes the other files of the call when one exists' {
            $dest = Join-Path $TestFolder 'partly'
            $null = New-Item -ItemType Directory -Path $dest
            $leafName = $exported['Base64'][0].Name
            Set-Content -LiteralPath (Join-Path $dest $leafName) -Value 'keep me'
            $out = @($bundle | Export-CertificateChain -Destination $dest -ErrorVariable failed -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 2
            @($out | ForEach-Object { "$($_.Role)" }) | Should -Be @('Intermediate', 'Root')
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
            Get-Content -LiteralPath (Join-Path $dest $leafName) | Should -Be 'keep me'
        }

        It 'reports an existing file as FileExists with -WhatIf too' {
            $dest = Join-Path $TestFolder 'exists'
            $null = $bundle | Export-CertificateChain -Destination $dest -Include Leaf -WhatIf -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        }

        It 'overwrites with -Force' {
            $dest = Join-Path $TestFolder 'exists'
            $out = @($bundle | Export-CertificateChain -Destination $dest -Include Leaf -Force)
            $out.Count | Should -Be 1
            Get-OpenSslThumbprint $out[0].FullName | Should -Be $thumbprints.Leaf
        }
    }

    Context 'completion' {
        It 'completes -Format with every format' {
            $offered = Get-CompletionText 'Export-CertificateChain -Format '
            foreach ($format in $formats) { $offered | Should -Contain $format }
        }

        It 'completes -Format from a prefix' {
            @(Get-CompletionText 'Export-CertificateChain -Format Pe' | Sort-Object) | Should -Be @('Pem', 'PemBundle')
        }

        It 'completes -Include with the roles, also after a comma' {
            foreach ($line in 'Export-CertificateChain -Include ', 'Export-CertificateChain -Include Leaf,') {
                $offered = Get-CompletionText $line
                foreach ($role in 'Leaf', 'Intermediate', 'Root') { $offered | Should -Contain $role }
            }
            Get-CompletionText 'Export-CertificateChain -Include R' | Should -Be 'Root'
        }

        # The CertificateRole flags enum's zero value None names no certificate: completion offers the help's values only.
        It 'does not offer None for -Include' {
            Get-CompletionText 'Export-CertificateChain -Include ' | Should -Not -Contain 'None'
        }
    }
}
