#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    ConvertFrom-ServiceKey through the built module: service key files, cf CLI output and Get-ChildItem piped in,
    and the error IDs of keys it refuses. The test certificates are made with openssl; without it the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the ConvertFrom-ServiceKey tests are skipped (they make their test certificates with openssl).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $goodKey = New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki
        $pkcs8Key = New-TestServiceKey -Name 'cpi-pkcs8-key.json' -Pki $pki -KeyFormat Pkcs8
        $secretKey = New-ServiceKeyFile 'cpi-oauth-key.json' @{
            clientid = 'sb-pester-client'; clientsecret = 'not-a-real-secret'
            url = 'https://pester.it-cpi001-rt.cfapps.eu10.hana.ondemand.com'
        }
        $badPemKey = New-ServiceKeyFile 'cpi-bad-pem.json' @{
            clientid = 'sb-pester-client'; key = (Get-Content -LiteralPath $pki.LeafRsaKey -Raw)
            certificate = "-----BEGIN CERTIFICATE-----`nnot base64 at all!`n-----END CERTIFICATE-----`n"
        }
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'ConvertFrom-ServiceKey' -Skip:(-not $haveOpenSsl) {
    It 'reads a certificate service key into a bundle with the key and the chain' {
        $bundle = ConvertFrom-ServiceKey $goodKey
        @($bundle).Count | Should -Be 1
        $bundle | Should -BeOfType ([CertIntegration.CertificateBundle])
        $bundle.HasPrivateKey | Should -BeTrue
        $bundle.CommonName | Should -Be 'Pester Client'
        $bundle.ChainLength | Should -Be 3
        $bundle.Chain[1].Subject | Should -Be 'CN=Pester Intermediate CA'
        $bundle.Chain[2].Subject | Should -Be 'CN=Pester Root CA'
        $bundle.ClientId | Should -Be 'sb-pester-client!b1|it-rt-pester!b2'
        $bundle.KeyType | Should -Be 'certificate'
        $bundle.DaysRemaining | Should -BeGreaterThan 25
    }

    It 'reads a service key whose key is PKCS#8 (BEGIN PRIVATE KEY)' {
        $bundle = ConvertFrom-ServiceKey $pkcs8Key
        $bundle.HasPrivateKey | Should -BeTrue
        $bundle.CommonName | Should -Be 'Pester Client'
    }

    It 'reads cf service-key output piped line by line' {
        $lines = @('Getting key cert-key for service instance cpi as admin@example.com...', '') + (Get-Content -LiteralPath $goodKey)
        $bundle = $lines | ConvertFrom-ServiceKey
        $bundle.CommonName | Should -Be 'Pester Client'
        $bundle.HasPrivateKey | Should -BeTrue
    }

    It 'reads the files Get-ChildItem pipes in' {
        $bundles = Get-ChildItem -LiteralPath $TestFolder -Filter 'cpi-cert-key.json' | ConvertFrom-ServiceKey
        @($bundles).Count | Should -Be 1
        $bundles.Source | Should -Be (Get-Item -LiteralPath $goodKey).FullName
    }

    It 'refuses a client-secret service key with ServiceKeyIsClientSecret' {
        $out = ConvertFrom-ServiceKey $secretKey -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'ServiceKeyIsClientSecret,*'
        $failed[0].TargetObject | Should -Be (Get-Item -LiteralPath $secretKey).FullName
        "$($failed[0])" | Should -Not -Match 'not-a-real-secret'
    }

    It 'refuses a malformed certificate PEM with PemMalformed and goes on with the next key' {
        $out = ConvertFrom-ServiceKey $badPemKey, $goodKey -ErrorVariable failed -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 1
        $out.CommonName | Should -Be 'Pester Client'
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'PemMalformed,*'
    }

    # build/test.sh runs this tag a second time under TZ=Pacific/Auckland, far from the machine's UTC.
    Context 'in the local time zone' -Tag 'TimeZone' {
        It 'the run really uses the zone in TZ' -Skip:(-not $env:TZ) {
            [System.TimeZoneInfo]::Local.Id | Should -Be $env:TZ
        }

        It 'gives NotAfter in local time at the certificate''s instant and DaysRemaining in whole days' {
            $enddate = (Invoke-OpenSsl @('x509', '-in', $pki.LeafCert, '-noout', '-enddate')) -replace '^notAfter=', ''
            $notAfterUtc = [datetime]::ParseExact(($enddate -replace '\s+', ' ').Trim(), 'MMM d HH:mm:ss yyyy \G\M\T',
                [System.Globalization.CultureInfo]::InvariantCulture,
                [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal)
            $bundle = ConvertFrom-ServiceKey $goodKey
            $bundle.NotAfter.Kind | Should -Be 'Local'
            $bundle.NotAfter.ToUniversalTime() | Should -Be $notAfterUtc
            $bundle.DaysRemaining | Should -Be ([math]::Floor(($notAfterUtc - [datetime]::UtcNow).TotalDays))
        }
    }
}
