#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The README's first commands as a new user runs them: examples/new-demo-service-key.sh (it lists every file it
    writes) and examples/Inbound.ps1 in a pwsh of its own (the PFX and the cert.pem/key.key pair it promises). Needs
    bash and openssl; without them the tests are skipped.
#>

BeforeDiscovery {
    $haveTools = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) -and
        [bool](Get-Command bash -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveTools) {
        Write-Warning 'openssl or bash is not on PATH: the example tests are skipped (the demo service key is made with both).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $examples = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../examples'))
}

AfterAll {
    Remove-TestFolder
}

Describe 'The README''s first commands' -Skip:(-not $haveTools) {
    BeforeAll {
        $demo = Join-Path $TestFolder 'demo'
        $printed = @(& bash (Join-Path $examples 'new-demo-service-key.sh') $demo)
        $demoExit = $LASTEXITCODE
        $demo = (Resolve-Path -LiteralPath $demo).ProviderPath
    }

    It 'new-demo-service-key.sh prints every file it writes, and nothing else' {
        $demoExit | Should -Be 0
        $written = @(Get-ChildItem -LiteralPath $demo -File -Recurse | ForEach-Object FullName | Sort-Object)
        $written.Count | Should -Be 2
        @($printed | Sort-Object) | Should -Be $written
        $printed | Should -Contain (Join-Path $demo 'sap_cloudintegrationcertificate.p7b')
    }

    It 'Inbound.ps1 writes the PFX and the cert.pem/key.key pair it promises' {
        $out = Join-Path $TestFolder 'inbound'
        $null = New-Item -ItemType Directory -Path $out
        $text = & (Get-Pwsh) -NoProfile -NonInteractive -File (Join-Path $examples 'Inbound.ps1') (Join-Path $demo 'cpi-cert-key.json') $out 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($text -join "`n")
        @(Get-ChildItem -LiteralPath $out -File | ForEach-Object Name | Sort-Object) | Should -Be @('cert.pem', 'client.pfx', 'key.key')
        ($text -join "`n") | Should -Match 'PFX written: .*client\.pfx'
        ($text -join "`n") | Should -Match 'Certificate chain written: .*cert\.pem'
        ($text -join "`n") | Should -Match 'Private key written: .*key\.key'

        # curl's pair: the chain in one PEM file, leaf first, and the key that belongs to the leaf.
        $source = ConvertFrom-ServiceKey (Join-Path $demo 'cpi-cert-key.json')
        $pem = Get-Content -LiteralPath (Join-Path $out 'cert.pem') -Raw
        ([regex]::Matches($pem, '-----BEGIN CERTIFICATE-----')).Count | Should -Be 3
        $pair = Import-CertificateBundle (Join-Path $out 'cert.pem') -KeyPath (Join-Path $out 'key.key')
        $pair.Thumbprint | Should -Be $source.Thumbprint
        $pair.HasPrivateKey | Should -BeTrue
        @($pair.ChainSubjects) | Should -Be @($source.ChainSubjects)
        Get-Content -LiteralPath (Join-Path $out 'key.key') -TotalCount 1 | Should -Be '-----BEGIN PRIVATE KEY-----'
        if ($IsLinux -or $IsMacOS) {
            (Get-Item -LiteralPath (Join-Path $out 'key.key')).UnixMode | Should -Be '-rw-------'
        }
    }
}
