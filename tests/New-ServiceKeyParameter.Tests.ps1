#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    New-ServiceKeyParameter: the JSON SAP documents for certificate service keys (one compact line, names in SAP's
    order), -AsHashtable, certificates as files, X509Certificate2 objects, bundles and pipeline input, and every
    check with its error ID or warning code.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the certificate tests of New-ServiceKeyParameter are skipped.'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # The leaf's DER as the one line SAP takes: -----BEGIN CERTIFICATE-----<base64>-----END CERTIFICATE-----.
    function Get-SingleLine {
        param([Parameter(Mandatory)] [string] $Path)
        $c = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($Path)
        '-----BEGIN CERTIFICATE-----' + [Convert]::ToBase64String($c.RawData) + '-----END CERTIFICATE-----'
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'New-ServiceKeyParameter for key-type certificate' {
    It 'writes SAP documented JSON with the defaults: key-type and key-length always, validity when given' {
        New-ServiceKeyParameter | Should -BeExactly '{"key-type":"certificate","key-length":2048}'
        New-ServiceKeyParameter -Validity 365 | Should -BeExactly '{"key-type":"certificate","validity":365,"key-length":2048}'
        New-ServiceKeyParameter -KeyType Certificate -Validity 365 -KeyLength 2048 | Should -BeExactly '{"key-type":"certificate","validity":365,"key-length":2048}'
        New-ServiceKeyParameter -Validity 1 -KeyLength 4096 | Should -BeExactly '{"key-type":"certificate","validity":1,"key-length":4096}'
    }

    It 'writes one line that cf and ConvertFrom-Json read back with numbers as numbers' {
        $json = New-ServiceKeyParameter -Validity 30
        @($json).Count | Should -Be 1
        $json | Should -BeOfType ([string])
        $json | Should -Not -Match "`n"
        $o = $json | ConvertFrom-Json
        $o.validity | Should -BeOfType ([long])
        $o.'key-length' | Should -Be 2048
    }

    It 'gives an ordered dictionary with -AsHashtable' {
        $h = New-ServiceKeyParameter -Validity 90 -AsHashtable
        $h | Should -BeOfType ([System.Collections.Specialized.OrderedDictionary])
        @($h.Keys) | Should -Be @('key-type', 'validity', 'key-length')
        $h['key-type'] | Should -BeExactly 'certificate'
        $h['validity'] | Should -Be 90
        $h['VALIDITY'] | Should -Be 90 -Because 'like [ordered]@{}, the keys are case-insensitive'
        ($h | ConvertTo-Json -Compress) | Should -BeExactly '{"key-type":"certificate","validity":90,"key-length":2048}'
    }

    It 'stops with ServiceKeyValidityOutOfRange for <Validity> days' -ForEach @(@{ Validity = 0 }, @{ Validity = 366 }, @{ Validity = -5 }) {
        { New-ServiceKeyParameter -Validity $Validity } | Should -Throw -ErrorId 'ServiceKeyValidityOutOfRange,CertIntegration.Commands.NewServiceKeyParameterCommand'
        try { New-ServiceKeyParameter -Validity $Validity } catch { $_.Exception.Message | Should -Match '1 to 365 days'; $_.CategoryInfo.Category | Should -Be 'InvalidArgument' }
    }

    It 'stops with ServiceKeyKeyLengthInvalid below 2048 bits' {
        { New-ServiceKeyParameter -KeyLength 1024 } | Should -Throw -ErrorId 'ServiceKeyKeyLengthInvalid,CertIntegration.Commands.NewServiceKeyParameterCommand'
    }

    It 'stops with ServiceKeyCertificateMissing for -KeyType CertificateExternal without a certificate' {
        { New-ServiceKeyParameter -KeyType CertificateExternal } | Should -Throw -ErrorId 'ServiceKeyCertificateMissing,CertIntegration.Commands.NewServiceKeyParameterCommand'
    }
}

Describe 'New-ServiceKeyParameter for key-type certificate_external' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $leafLine = Get-SingleLine -Path $pki.LeafCert
        $leafObject = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.LeafCert)

        # A certificate without the Client Authentication EKU (serverAuth only).
        $server = New-TestServerCertificate -Pki $pki
        # An expired certificate (clientAuth, valid from two days ago until yesterday), made by .NET.
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=Pester Expired', $rsa,
            [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $eku = [System.Security.Cryptography.OidCollection]::new(); $null = $eku.Add([System.Security.Cryptography.Oid]::new('1.3.6.1.5.5.7.3.2'))
        $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]::new($eku, $false))
        $expired = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-2), [DateTimeOffset]::UtcNow.AddDays(-1))
        $expiredCrt = Join-Path $TestFolder 'expired.cer'
        [System.IO.File]::WriteAllBytes($expiredCrt, $expired.RawData)
        # Two unrelated certificates in one file.
        $other = New-TestRootCertificate -CommonName 'Pester Unrelated Root'
        $twoFile = Join-Path $TestFolder 'two.pem'
        Set-Content -LiteralPath $twoFile -Encoding Ascii -NoNewline -Value ((Get-Content -Raw -LiteralPath $pki.LeafCert) + (Get-Content -Raw -LiteralPath $other.Cert))
    }

    It 'puts the leaf into X.509 as one line, from a file' {
        $json = New-ServiceKeyParameter -Certificate $pki.LeafCert
        $json | Should -BeExactly ('{"key-type":"certificate_external","X.509":"' + $leafLine + '"}')
        $json | Should -Not -Match '\\n'
    }

    It 'takes -Validity there too, and -KeyLength only when given, in SAP''s order' {
        New-ServiceKeyParameter -Certificate $pki.LeafCert -Validity 365 | Should -BeExactly ('{"key-type":"certificate_external","X.509":"' + $leafLine + '","validity":365}')
        New-ServiceKeyParameter -Certificate $pki.LeafCert -Validity 365 -KeyLength 2048 -KeyType CertificateExternal |
            Should -BeExactly ('{"key-type":"certificate_external","X.509":"' + $leafLine + '","validity":365,"key-length":2048}')
    }

    It 'takes an X509Certificate2, a bundle, a FileInfo and piped input, one JSON per input in order' {
        New-ServiceKeyParameter -Certificate $leafObject | ConvertFrom-Json | ForEach-Object 'X.509' | Should -BeExactly $leafLine
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'param-key.json' -Pki $pki)
        $out = @($leafObject, (Get-Item -LiteralPath $server.Cert), $bundle) | New-ServiceKeyParameter -WarningAction SilentlyContinue
        @($out).Count | Should -Be 3
        ($out[0] | ConvertFrom-Json).'X.509' | Should -BeExactly $leafLine
        ($out[1] | ConvertFrom-Json).'X.509' | Should -BeExactly (Get-SingleLine -Path $server.Cert)
        ($out[2] | ConvertFrom-Json).'X.509' | Should -BeExactly $leafLine
    }

    It 'takes the leaf of a chain and warns with ServiceKeyChainReduced' {
        $json = New-ServiceKeyParameter -Certificate $pki.FullChainFile -WarningVariable w -WarningAction SilentlyContinue
        ($json | ConvertFrom-Json).'X.509' | Should -BeExactly $leafLine
        @($w).Count | Should -Be 1
        "$($w[0])" | Should -Match '^ServiceKeyChainReduced: '
        "$($w[0])" | Should -Match 'chain of 3 certificates'
        "$($w[0])" | Should -Match 'CN=Pester Client'
    }

    It 'warns with ServiceKeyNoClientAuthEku for a certificate without Client Authentication, and still writes it' {
        $json = New-ServiceKeyParameter -Certificate $server.Cert -WarningVariable w -WarningAction SilentlyContinue
        ($json | ConvertFrom-Json).'key-type' | Should -Be 'certificate_external'
        @($w | Where-Object { "$_" -like 'ServiceKeyNoClientAuthEku: *' }).Count | Should -Be 1
        "$w" | Should -Match '1\.3\.6\.1\.5\.5\.7\.3\.2'
    }

    It 'does not warn for the client certificate itself' {
        $null = New-ServiceKeyParameter -Certificate $pki.LeafCert -WarningVariable w
        @($w).Count | Should -Be 0
    }

    It 'refuses an expired certificate with ServiceKeyCertificateExpired and goes on with the next input' {
        $out = @($expiredCrt, $pki.LeafCert) | New-ServiceKeyParameter -ErrorVariable err -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 1
        ($out | ConvertFrom-Json).'X.509' | Should -BeExactly $leafLine
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'ServiceKeyCertificateExpired,CertIntegration.Commands.NewServiceKeyParameterCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -Match 'CN=Pester Expired'
        "$($err[0].TargetObject)" | Should -Be $expiredCrt
    }

    It 'refuses a file with two unrelated certificates (MultipleLeafCertificates)' {
        $null = New-ServiceKeyParameter -Certificate $twoFile -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'MultipleLeafCertificates,*'
        $err[0].Exception.Message | Should -Match '2 unrelated certificates'
    }

    It 'says FileNotFound for a missing file and CertificateInputInvalid for a file that holds no certificate' {
        $null = New-ServiceKeyParameter -Certificate (Join-Path $TestFolder 'missing.cer') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        $junk = Join-Path $TestFolder 'junk.txt'
        Set-Content -LiteralPath $junk -Value 'no certificate here'
        $null = New-ServiceKeyParameter -Certificate $junk -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'CertificateInputInvalid,*'
    }

    It 'stops with ParameterConflict for -KeyType Certificate with a certificate' {
        { New-ServiceKeyParameter -KeyType Certificate -Certificate $pki.LeafCert } | Should -Throw -ErrorId 'ParameterConflict,CertIntegration.Commands.NewServiceKeyParameterCommand'
    }

    It 'has examples that parse' {
        $help = Get-Help New-ServiceKeyParameter -Full
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
        foreach ($example in $help.examples.example) {
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput("$($example.code)", [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty
        }
    }

    It 'runs the help examples that need no network' {
        Push-Location $TestFolder
        try {
            $folder = Join-Path $TestFolder 'partners'
            $null = New-Item -ItemType Directory -Path $folder -Force
            Copy-Item -LiteralPath $pki.LeafCert -Destination (Join-Path $TestFolder 'partner-client.cer')
            Copy-Item -LiteralPath $server.Cert -Destination (Join-Path $folder 'server.cer')
            Copy-Item -LiteralPath $pki.LeafCert -Destination (Join-Path $folder 'client.cer')
            foreach ($example in (Get-Help New-ServiceKeyParameter -Full).examples.example) {
                $out = & ([scriptblock]::Create("$($example.code)")) 3>$null
                $out | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' writes something"
            }
            Get-Content -LiteralPath (Join-Path $TestFolder 'params.json') | Should -BeExactly '{"key-type":"certificate","validity":365,"key-length":2048}'
        }
        finally {
            Pop-Location
        }
    }
}
