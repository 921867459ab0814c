#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The README's promise, through the built module in a real pwsh: each input mutation fuzzing found
    (../shared/fuzz-finds next to the repository, password fuzzpw1) gives its categorised error within milliseconds,
    with a short message, or is read, in less than 2 s of CPU time. Every file there has a case; the -Debug find is also
    run in a pwsh -NonInteractive. Without ../shared/fuzz-finds the tests are skipped.
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
    It '<File>: <Id> within 2 s of CPU time' -TestCases $cases {
        $path = Join-Path $fuzzFinds $File
        $errs = $null
        # CPU time of this process, which does nothing else meanwhile: a loaded machine stretches wall-clock time, not work.
        $process = [System.Diagnostics.Process]::GetCurrentProcess()
        $cpu = $process.TotalProcessorTime
        $script:bundles = Import-CertificateBundle -LiteralPath $path -Password $password -ErrorVariable errs -ErrorAction SilentlyContinue
        $process.Refresh()
        $time = $process.TotalProcessorTime - $cpu
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

Describe 'The fuzz-find set' -Skip:(-not $haveFuzzFinds) {
    It 'has a case above for every file of ../shared/fuzz-finds' -TestCases @(@{ Covered = @($cases | ForEach-Object { $_.File } | Sort-Object) }) {
        $files = @(Get-ChildItem -LiteralPath $fuzzFinds -File | Where-Object Name -NE 'README.md' | ForEach-Object Name | Sort-Object)
        $files | Should -Be $Covered
    }

    It 'debug-prompt-chain+encpk8.pem with -Verbose -Debug in pwsh -NonInteractive: not reported as a fault of the file' {
        # The host refuses the prompt -Debug asks for; that failure is the host's, not ContainerCorrupt for a valid file.
        $script = {
            param($Manifest, $File)
            Import-Module $Manifest
            $pw = ConvertTo-SecureString 'fuzzpw1' -AsPlainText -Force
            $e = $null
            try { $null = Import-CertificateBundle -LiteralPath $File -Password $pw -Verbose -Debug -ErrorVariable e -ErrorAction SilentlyContinue }
            catch { 'ENDED ' + $_.Exception.Message }
            'IDS ' + (@($e | ForEach-Object { $_.FullyQualifiedErrorId }) -join ';')
        }
        $file = Join-Path $fuzzFinds 'debug-prompt-chain+encpk8.pem'
        $out = & (Get-Pwsh) -NoProfile -NonInteractive -Command "& { $script } '$ModuleManifest' '$file'" 2>&1 | ForEach-Object { "$_" }
        @($out | Where-Object { $_ -like 'IDS *' }) | Should -Be @('IDS ') -Because ($out -join "`n")
        @($out | Where-Object { $_ -like 'ENDED *' }) | Should -Not -Match 'ContainerCorrupt|UnexpectedError'
    }
}
