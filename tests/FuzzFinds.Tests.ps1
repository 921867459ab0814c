#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The README's promise, through the built module in a real pwsh: each input mutation fuzzing found
    (../shared/fuzz-finds next to the repository, password fuzzpw1) gives its categorised error within milliseconds,
    with a short message, or is read. Without ../shared/fuzz-finds the tests are skipped.
#>

BeforeDiscovery {
    $fuzzFinds = Join-Path $PSScriptRoot '../../shared/fuzz-finds'
    $haveFuzzFinds = Test-Path -LiteralPath $fuzzFinds -PathType Container
    if (-not $haveFuzzFinds) {
        Write-Warning "$fuzzFinds is absent: the fuzz-find tests are skipped."
    }

    $cases = @(
        @{ File = 'crash-nre-emptykey-cert.der'; Id = 'CertificateMalformed' }
        @{ File = 'crash-nre-emptykey-cert.pem'; Id = 'CertificateMalformed' }
        @{ File = 'crash-nre-pkcs12-fuzz.pfx'; Id = 'CertificateMalformed' }
        @{ File = 'hang-bigint-mac-iter-160KB.pfx'; Id = 'LimitExceeded' }
        @{ File = 'slow-bigint-mac-iter-40KB.pfx'; Id = 'LimitExceeded' }
        @{ File = 'slow-bigint-pk8-iter-40KB.pem'; Id = 'LimitExceeded' }
        @{ File = 'hang-pem-100x-enc1m.pem'; Id = 'LimitExceeded' }
        @{ File = 'slow-pem-5x-enc1m.pem'; Id = 'LimitExceeded' }
        @{ File = 'slow-pkcs12-40keybags-1m.pfx'; Id = 'LimitExceeded' }
        @{ File = 'slow-pbes1-md2-1m.pem'; Id = 'LimitExceeded' }
        @{ File = 'wrongid-scrypt-pk8.pem'; Id = 'OK' }
        @{ File = 'debug-prompt-chain+encpk8.pem'; Id = 'OK' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $fuzzFinds = Join-Path $PSScriptRoot '../../shared/fuzz-finds'
    $password = ConvertTo-SecureString 'fuzzpw1' -AsPlainText -Force
}

AfterAll {
    Remove-TestFolder
}

Describe 'Import-CertificateBundle on the fuzz finds' -Skip:(-not $haveFuzzFinds) {
    It '<File>: <Id> within 2 s' -TestCases $cases {
        $path = Join-Path $fuzzFinds $File
        $errs = $null
        $time = Measure-Command {
            $script:bundles = Import-CertificateBundle -LiteralPath $path -Password $password -ErrorVariable errs -ErrorAction SilentlyContinue
        }
        if ($Id -ne 'OK') {
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
            $errs[0].Exception.Message.Length | Should -BeLessThan 300
        }
        else {
            $errs.Count | Should -Be 0
            @($script:bundles).Count | Should -Be 1
            $script:bundles.HasPrivateKey | Should -BeTrue
        }
        $time.TotalSeconds | Should -BeLessThan 2
    }
}
