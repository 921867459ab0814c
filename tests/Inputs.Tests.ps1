#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    What users hand the cmdlets, as a new user types it: paths as piped strings and Resolve-Path results, certificate
    files for -TrustedCertificate, a curl-style certificate + key pair, tab completion of -Include, and the texts of
    the errors they then see. The test certificates are made with openssl; without it the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the input tests are skipped (they make their test certificates with openssl).'
    }

}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $keys = Join-Path $TestFolder 'keys'
        $null = New-Item -ItemType Directory -Path $keys
        $cockpit = New-TestServiceKey -Name 'cockpit.json' -Pki $pki
        Move-Item -LiteralPath $cockpit -Destination $keys
        $cockpit = Join-Path $keys 'cockpit.json'
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'ConvertFrom-ServiceKey takes piped paths' -Skip:(-not $haveOpenSsl) {
    BeforeAll { Push-Location -LiteralPath $TestFolder }
    AfterAll { Pop-Location }

    It 'reads the file a piped relative path names' {
        $bundle = './keys/cockpit.json' | ConvertFrom-ServiceKey -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $bundle.CommonName | Should -Be 'Pester Client'
        $bundle.Source | Should -Be $cockpit
    }

    It 'reads the files a piped wildcard names, and a bare file name in the current folder' {
        @('./keys/*.json' | ConvertFrom-ServiceKey).Count | Should -Be 1
        Push-Location -LiteralPath $keys
        try { ('cockpit.json' | ConvertFrom-ServiceKey).HasPrivateKey | Should -BeTrue } finally { Pop-Location }
    }

    It 'reads a Resolve-Path result (PathInfo) as its file' {
        $bundle = Resolve-Path ./keys/cockpit.json | ConvertFrom-ServiceKey -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $bundle.Source | Should -Be $cockpit
        (ConvertFrom-ServiceKey -InputObject (Resolve-Path ./keys/cockpit.json)).CommonName | Should -Be 'Pester Client'
    }

    It 'says FileNotFound for a piped path that does not exist' {
        $out = './keys/missing.json' | ConvertFrom-ServiceKey -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        $failed[0].TargetObject | Should -Be './keys/missing.json'
    }

    It 'still reads piped JSON text, and cf service-key output with its preamble, as text' {
        $json = Get-Content -LiteralPath $cockpit -Raw
        ($json | ConvertFrom-ServiceKey).CommonName | Should -Be 'Pester Client'
        $lines = @('Getting key cert-key for service instance cpi as admin@example.com...', '') + (Get-Content -LiteralPath $cockpit)
        $bundle = $lines | ConvertFrom-ServiceKey -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $bundle.HasPrivateKey | Should -BeTrue
    }

    It 'reads a path piped after a preamble line on its own' {
        $out = 'Getting key cert-key for service instance cpi as admin@example.com...', './keys/cockpit.json' | ConvertFrom-ServiceKey -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        @($out).Count | Should -Be 1
    }
}

Describe 'Import-CertificateBundle takes piped paths' -Skip:(-not $haveOpenSsl) {
    # It did before: its -Path takes pipeline input by value. Kept here so that it stays so.
    It 'reads a piped relative path and a Resolve-Path result' {
        Push-Location -LiteralPath (Split-Path -Parent $pki.LeafCert)
        try {
            ('./client.crt' | Import-CertificateBundle).CommonName | Should -Be 'Pester Client'
            (Resolve-Path ./client.crt | Import-CertificateBundle).CommonName | Should -Be 'Pester Client'
        }
        finally { Pop-Location }
    }
}

Describe 'Import-CertificateBundle -KeyPath: a certificate and its key in two files' -Skip:(-not $haveOpenSsl) {
    It 'reads cert.pem + key.key (curl''s --cert/--key) as one bundle with its key' {
        $bundle = Import-CertificateBundle $pki.LeafCert -KeyPath $pki.LeafKey -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        @($bundle).Count | Should -Be 1
        $bundle.HasPrivateKey | Should -BeTrue
        $bundle.CommonName | Should -Be 'Pester Client'
    }

    It 'builds the chain from every -Path file, piped ones too' {
        $bundle = $pki.LeafCert, $pki.ChainFile | Import-CertificateBundle -KeyPath $pki.LeafRsaKey
        @($bundle).Count | Should -Be 1
        $bundle.ChainLength | Should -Be 3
        $bundle.HasPrivateKey | Should -BeTrue
    }

    It 'opens an encrypted key with -KeyPassword, and says PrivateKeyPasswordRequired without it' {
        $encrypted = Join-Path $TestFolder 'client.enc.key'
        $null = Invoke-OpenSsl @('pkcs8', '-topk8', '-in', $pki.LeafKey, '-out', $encrypted, '-passout', 'pass:k3y-pw', '-v2', 'aes-256-cbc')
        $kpw = ConvertTo-SecureString 'k3y-pw' -AsPlainText -Force
        (Import-CertificateBundle $pki.LeafCert -KeyPath $encrypted -KeyPassword $kpw).HasPrivateKey | Should -BeTrue

        $out = Import-CertificateBundle $pki.LeafCert -KeyPath $encrypted -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'PrivateKeyPasswordRequired,*'
        # The message names the parameters to use, and Import-CertificateBundle has both.
        "$($failed[0])" | Should -Match '-KeyPassword or -Password'
        (Get-Command Import-CertificateBundle).Parameters.Keys | Should -Contain 'KeyPassword'
    }

    It 'says what the warning about an encrypted key block says: -KeyPassword works for it' {
        $combined = Join-Path $TestFolder 'cert-and-encrypted-key.pem'
        $encrypted = Join-Path $TestFolder 'client.enc2.key'
        $null = Invoke-OpenSsl @('pkcs8', '-topk8', '-in', $pki.LeafKey, '-out', $encrypted, '-passout', 'pass:k3y-pw', '-v2', 'aes-256-cbc')
        Set-Content -LiteralPath $combined -NoNewline -Value ((Get-Content -LiteralPath $pki.LeafCert -Raw) + (Get-Content -LiteralPath $encrypted -Raw))
        $bundle = Import-CertificateBundle $combined -WarningVariable warned -WarningAction SilentlyContinue
        $bundle.HasPrivateKey | Should -BeFalse
        "$warned" | Should -Match '-KeyPassword or -Password'
        $kpw = ConvertTo-SecureString 'k3y-pw' -AsPlainText -Force
        (Import-CertificateBundle $combined -KeyPassword $kpw).HasPrivateKey | Should -BeTrue
    }

    It 'refuses a key that belongs to none of the certificates with KeyCertificateMismatch' {
        $out = Import-CertificateBundle $pki.LeafCert -KeyPath $pki.RootKey -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'KeyCertificateMismatch,*'
    }

    It 'says FileNotFound for a -KeyPath that does not exist' {
        $null = Import-CertificateBundle $pki.LeafCert -KeyPath (Join-Path $TestFolder 'nope.key') -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
    }
}

Describe '-TrustedCertificate takes certificate files' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        # openssl s_server with a certificate for 127.0.0.1 that chains to the test root, and the root in every form.
        $tls = Start-TestTlsServer -ServerCertificate (New-TestServerCertificate -Pki $pki)
        $port = $tls.Port
        $roots = Join-Path $TestFolder 'roots'
        $null = New-Item -ItemType Directory -Path $roots
        Copy-Item -LiteralPath $pki.RootCert -Destination (Join-Path $roots 'root.cer')
        $null = Invoke-OpenSsl @('x509', '-in', $pki.RootCert, '-outform', 'DER', '-out', (Join-Path $roots 'root.der'))
        $null = Invoke-OpenSsl @('crl2pkcs7', '-nocrl', '-certfile', $pki.RootCert, '-out', (Join-Path $roots 'root.p7b'), '-outform', 'DER')
        $null = Invoke-OpenSsl @('pkcs12', '-export', '-nokeys', '-in', $pki.RootCert, '-out', (Join-Path $roots 'root.pfx'), '-passout', 'pass:')
        Push-Location -LiteralPath $TestFolder
    }

    AfterAll {
        Pop-Location
        Stop-TestTlsServer $tls
    }

    It 'Get-ServerCertificateChain does not trust the server without the root' {
        (Get-ServerCertificateChain -HostName 127.0.0.1 -Port $port -TimeoutSec 20).IsTrusted | Should -BeFalse
    }

    It 'Get-ServerCertificateChain trusts it with -TrustedCertificate as <Form>' -TestCases @(
        @{ Form = 'relative path'; Value = { './roots/root.cer' } }
        @{ Form = 'DER'; Value = { './roots/root.der' } }
        @{ Form = 'PKCS#7'; Value = { './roots/root.p7b' } }
        @{ Form = 'PFX without password'; Value = { './roots/root.pfx' } }
        @{ Form = 'wildcard'; Value = { './roots/*.cer' } }
        @{ Form = 'FileInfo'; Value = { Get-Item ./roots/root.cer } }
        @{ Form = 'PathInfo'; Value = { Resolve-Path ./roots/root.der } }
    ) {
        param($Form, $Value)
        $result = Get-ServerCertificateChain -HostName 127.0.0.1 -Port $port -TimeoutSec 20 -TrustedCertificate (& $Value) -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $result.IsTrusted | Should -BeTrue -Because "$($result.ValidationErrors)"
    }

    It 'Test-MtlsEndpoint validates the server against -TrustedCertificate ./root.cer' {
        $result = Test-MtlsEndpoint -Uri "https://127.0.0.1:$port/" -NoClientCertificate -TrustedCertificate ./roots/root.cer -TimeoutSec 20
        $result.StatusCode | Should -Be 200 -Because "$($result.Diagnosis)"
    }

    It 'says FileNotFound for a file that does not exist and CertificateInputInvalid for one that holds no certificate' {
        Set-Content -LiteralPath ./roots/notes.txt -Value 'not a certificate'
        foreach ($call in @(
                { param($t) Get-ServerCertificateChain -HostName 127.0.0.1 -Port $port -TrustedCertificate $t },
                { param($t) Test-MtlsEndpoint -Uri "https://127.0.0.1:$port/" -NoClientCertificate -TrustedCertificate $t })) {
            { & $call './roots/missing.cer' } | Should -Throw -ErrorId 'FileNotFound*'
            { & $call './roots/nothing*.cer' } | Should -Throw -ErrorId 'FileNotFound*'
            { & $call './roots/notes.txt' } | Should -Throw -ErrorId 'CertificateInputInvalid*'
            { & $call (Get-Date) } | Should -Throw -ErrorId 'CertificateInputInvalid*'
        }
    }
}

Describe 'Export-CertificateChain -Include completion' {
    It 'offers the roles it takes, and not None' {
        $offered = Get-CompletionText 'Export-CertificateChain -Include '
        $offered | Should -Contain 'Leaf'
        $offered | Should -Contain 'Intermediate'
        $offered | Should -Contain 'Root'
        $offered | Should -Not -Contain 'None'
        Get-CompletionText 'Export-CertificateChain -Include Leaf, R' | Should -Be @('Root')
        Get-CompletionText 'Export-CertificateChain -Include N' | Should -BeNullOrEmpty
    }
}

Describe 'Message texts' -Skip:(-not $haveOpenSsl) {
    It 'ends a message built from a JSON parser message in one period' {
        $null = '{"oauth": ' | ConvertFrom-ServiceKey -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'ServiceKeyNotJson,*'
        "$($failed[0])" | Should -Match 'line \d+, position \d+\.$'
        "$($failed[0])" | Should -Not -Match '\.\.'
    }
}

Describe '-Path with a wildcard that matches nothing' -Skip:(-not $haveOpenSsl) {
    It '<Name> gives a non-terminating FileNotFound error and goes on with the next path' -ForEach @(
        @{ Name = 'ConvertFrom-ServiceKey -Path'; Run = { [CmdletBinding()] param($paths) ConvertFrom-ServiceKey -Path $paths } }
        @{ Name = 'Import-CertificateBundle -Path'; Run = { [CmdletBinding()] param($paths) Import-CertificateBundle -Path $paths } }
        @{ Name = 'Export-CertificateChain -Path'; Run = { [CmdletBinding()] param($paths) Export-CertificateChain -Path $paths -Destination (Join-Path $TestFolder 'wildcard-out') -Force } }
        @{ Name = 'a piped string for ConvertFrom-ServiceKey'; Run = { [CmdletBinding()] param($paths) $paths | ConvertFrom-ServiceKey } }
    ) {
        $nothing = Join-Path $keys '*.nothing-matches'
        $out = & $Run @($nothing, $cockpit) -ErrorVariable failed -ErrorAction SilentlyContinue
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failed[0].TargetObject | Should -Be $nothing
        $failed[0].Exception.Message | Should -BeLike "*No file matches*nothing-matches*"
        # The next path is still read.
        @($out).Count | Should -BeGreaterThan 0
    }

    It 'stops with -ErrorAction Stop' {
        { Import-CertificateBundle -Path (Join-Path $keys '*.nothing-matches') -ErrorAction Stop } | Should -Throw -ErrorId 'FileNotFound,*'
    }
}
