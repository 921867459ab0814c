#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Pester 5 tests of the built module (out/CertIntegration), for users with pwsh or Windows PowerShell:
    the pipelines an administrator types, service key -> bundle -> PFX, and the error IDs of bad input.
    Build first (./build/build.sh or ./build/build.ps1), then: Invoke-Pester ./tests
    The test certificates are made with openssl at run time; without openssl on PATH the tests are skipped.
#>

BeforeDiscovery {
    $script:haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $script:haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the CertIntegration pipeline tests are skipped (they make their test certificates with openssl).'
    }
}

BeforeAll {
    $manifest = Join-Path $PSScriptRoot '../out/CertIntegration/CertIntegration.psd1'
    if (-not (Test-Path -LiteralPath $manifest)) {
        throw "The module is not built at $manifest. Run ./build/build.sh (or ./build/build.ps1) first."
    }

    Import-Module $manifest -Force -ErrorAction Stop

    $script:work = Join-Path ([System.IO.Path]::GetTempPath()) ('ci-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
    $null = New-Item -ItemType Directory -Path $script:work
    $script:pw = ConvertTo-SecureString 'P3ster-pfx-pw!' -AsPlainText -Force

    function Invoke-OpenSsl {
        param([Parameter(Mandatory)] [string[]] $Arguments)
        $ErrorActionPreference = 'Continue'
        $output = & openssl @Arguments 2>&1
        if ($LASTEXITCODE -ne 0) {
            throw "openssl $($Arguments -join ' ') failed ($LASTEXITCODE): $($output -join "`n")"
        }
    }

    function New-ServiceKeyFile {
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [hashtable] $Credentials)
        $path = Join-Path $script:work $Name
        @{ oauth = $Credentials } | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $path -Encoding UTF8
        $path
    }

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        # A small PKI like SAP's: root CA -> client certificate with the clientAuth EKU.
        $cnf = Join-Path $script:work 'pki.cnf'
        @'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
'@ | Set-Content -LiteralPath $cnf -Encoding Ascii

        $script:rootCrt = Join-Path $script:work 'root.crt'
        $script:leafCrt = Join-Path $script:work 'client.crt'
        $script:leafKey = Join-Path $script:work 'client.key'
        $rootKey = Join-Path $script:work 'root.key'
        $csr = Join-Path $script:work 'client.csr'
        Invoke-OpenSsl @('req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $rootKey, '-out', $script:rootCrt, '-days', '30', '-config', $cnf, '-extensions', 'v3_ca', '-subj', '/CN=Pester Root CA')
        Invoke-OpenSsl @('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $script:leafKey, '-out', $csr, '-config', $cnf, '-subj', '/CN=Pester Client')
        Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-CA', $script:rootCrt, '-CAkey', $rootKey, '-CAcreateserial', '-out', $script:leafCrt, '-days', '30', '-extfile', $cnf, '-extensions', 'v3_leaf')

        $certificatePem = (Get-Content -LiteralPath $script:leafCrt -Raw) + (Get-Content -LiteralPath $script:rootCrt -Raw)
        $keyPem = Get-Content -LiteralPath $script:leafKey -Raw
        $script:goodKey = New-ServiceKeyFile 'cpi-cert-key.json' @{
            clientid = 'sb-pester-client'; certificate = $certificatePem; key = $keyPem
            url = 'https://pester.it-cpi000-rt.cfapps.eu10.hana.ondemand.com'
            tokenurl = 'https://pester.authentication.eu10.hana.ondemand.com/oauth/token'
        }
        $script:secretKey = New-ServiceKeyFile 'cpi-oauth-key.json' @{
            clientid = 'sb-pester-client'; clientsecret = 'not-a-real-secret'
            url = 'https://pester.it-cpi000-rt.cfapps.eu10.hana.ondemand.com'
        }
        $script:badPemKey = New-ServiceKeyFile 'cpi-bad-pem.json' @{
            clientid = 'sb-pester-client'; key = $keyPem
            certificate = "-----BEGIN CERTIFICATE-----`nnot base64 at all!`n-----END CERTIFICATE-----`n"
        }
    }
}

AfterAll {
    if ($script:work -and (Test-Path -LiteralPath $script:work)) {
        Remove-Item -LiteralPath $script:work -Recurse -Force
    }
}

Describe 'ConvertFrom-ServiceKey' -Skip:(-not $haveOpenSsl) {
    It 'reads a certificate service key into a bundle with the key and the chain' {
        $bundle = ConvertFrom-ServiceKey $goodKey
        @($bundle).Count | Should -Be 1
        $bundle | Should -BeOfType ([CertIntegration.CertificateBundle])
        $bundle.HasPrivateKey | Should -BeTrue
        $bundle.CommonName | Should -Be 'Pester Client'
        $bundle.ChainLength | Should -Be 2
        $bundle.Chain[1].Subject | Should -Be 'CN=Pester Root CA'
        $bundle.ClientId | Should -Be 'sb-pester-client'
        $bundle.KeyType | Should -Be 'certificate'
        $bundle.DaysRemaining | Should -BeGreaterThan 25
    }

    It 'reads cf service-key output piped line by line' {
        $lines = @('Getting key cert-key for service instance cpi as admin@example.com...', '') + (Get-Content -LiteralPath $goodKey)
        $bundle = $lines | ConvertFrom-ServiceKey
        $bundle.CommonName | Should -Be 'Pester Client'
        $bundle.HasPrivateKey | Should -BeTrue
    }

    It 'reads the files Get-ChildItem pipes in' {
        $bundles = Get-ChildItem -LiteralPath $work -Filter 'cpi-cert-key.json' | ConvertFrom-ServiceKey
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
}

Describe 'New-PfxFromPem' -Skip:(-not $haveOpenSsl) {
    It 'writes a PFX from a service key in one pipeline' {
        $pfxPath = Join-Path $work 'client.pfx'
        $file = ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw
        $file | Should -BeOfType ([System.IO.FileInfo])
        $file.FullName | Should -Be $pfxPath
        $plain = [System.Net.NetworkCredential]::new('', $pw).Password
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfxPath, $plain)
        $cert.HasPrivateKey | Should -BeTrue
        $cert.Subject | Should -Be 'CN=Pester Client'
    }

    It 'writes a PFX that openssl reads, with the whole chain' {
        $pfxPath = Join-Path $work 'chain.pfx'
        $null = ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw
        $plain = [System.Net.NetworkCredential]::new('', $pw).Password
        $ErrorActionPreference = 'Continue'
        $pem = & openssl pkcs12 -in $pfxPath -nokeys -passin "pass:$plain" 2>$null
        $LASTEXITCODE | Should -Be 0
        @($pem | Where-Object { $_ -eq '-----BEGIN CERTIFICATE-----' }).Count | Should -Be 2
    }

    It 'writes a PFX from PEM files with -CertificatePath, -KeyPath and -ChainPath' {
        $pfxPath = Join-Path $work 'files.pfx'
        $file = New-PfxFromPem -CertificatePath $leafCrt -KeyPath $leafKey -ChainPath $rootCrt -OutFile $pfxPath -Password $pw -Encryption Aes256Sha256
        $file.Exists | Should -BeTrue
        $ErrorActionPreference = 'Continue'
        $plain = [System.Net.NetworkCredential]::new('', $pw).Password
        $info = & openssl pkcs12 -in $pfxPath -info -noout -passin "pass:$plain" 2>&1
        $LASTEXITCODE | Should -Be 0
        ($info -join "`n") | Should -Match 'AES-256-CBC'
    }

    It 'writes one PFX per service key into -Destination' {
        $dest = Join-Path $work 'pfx'
        $null = New-Item -ItemType Directory -Path $dest
        $files = Get-ChildItem -LiteralPath $work -Filter 'cpi-cert-key.json' | ConvertFrom-ServiceKey | New-PfxFromPem -Destination $dest -Password $pw
        @($files).Count | Should -Be 1
        $files.Name | Should -Be 'cpi-cert-key.pfx'
    }

    It 'writes nothing with -WhatIf' {
        $pfxPath = Join-Path $work 'whatif.pfx'
        ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw -WhatIf
        Test-Path -LiteralPath $pfxPath | Should -BeFalse
    }

    It 'does not overwrite an existing file without -Force' {
        $pfxPath = Join-Path $work 'exists.pfx'
        Set-Content -LiteralPath $pfxPath -Value 'keep me'
        $null = ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile $pfxPath -Password $pw -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content -LiteralPath $pfxPath | Should -Be 'keep me'
    }

    It 'stops with PasswordEmpty before reading any input' {
        $caught = $null
        try {
            ConvertFrom-ServiceKey $goodKey | New-PfxFromPem -OutFile (Join-Path $work 'empty.pfx') -Password ([securestring]::new())
        }
        catch {
            $caught = $_
        }

        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'PasswordEmpty,*'
        Test-Path -LiteralPath (Join-Path $work 'empty.pfx') | Should -BeFalse
    }
}

Describe 'Help' {
    It 'shows the examples of ConvertFrom-ServiceKey' {
        $examples = Get-Help ConvertFrom-ServiceKey -Examples | Out-String
        $examples | Should -Match ([regex]::Escape('cf service-key cpi cert-key | ConvertFrom-ServiceKey'))
    }

    It 'finds about_CertIntegration' {
        Get-Help about_CertIntegration | Out-String | Should -Match 'TripleDesSha1'
    }
}
