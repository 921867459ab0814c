#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The mutation fuzzer (build/fuzz.ps1) in the default run, tagged 'Fuzz' (leave it out with -ExcludeTag Fuzz):
    - a short seeded run (seed 20261201, 300 inputs over every seed format: PFX with AES, 3DES, RC2 and none, PEM chain
      with plain, EC and encrypted keys, P7B in DER and PEM, a DER certificate, JKS key and trust stores, service keys)
      finds no failing input: every error has one of the IDs of ErrorIds.cs other than UnexpectedError and no crash-type
      exception in its chain, nothing terminates, and no input takes 2 s of CPU time in each of three runs (the
      fuzzer's clock: a loaded machine stretches wall-clock time, which is reported but does not fail);
    - each file of ../shared/fuzz-finds (next to the repository; password fuzzpw1 for the encrypted ones) passes the
      same checks, plainly and with -Verbose -Debug.
    The fuzzer runs in a pwsh of its own; its summaries and failing inputs (with a -Replay line each) stay in
    TestResults/fuzz-*. The long run with any seed and count is `pwsh build/fuzz.ps1 -Seed 1 -Count 3000`.
#>

BeforeDiscovery {
    $fuzzFinds = Join-Path $PSScriptRoot '../../shared/fuzz-finds'
    $haveFuzzFinds = Test-Path -LiteralPath $fuzzFinds -PathType Container
    $findCases = if ($haveFuzzFinds) {
        @(Get-ChildItem -LiteralPath $fuzzFinds -File | Where-Object Name -NE 'README.md' | Sort-Object Name | ForEach-Object { @{ File = $_.Name } })
    }
    else { @(@{ File = '(../shared/fuzz-finds is absent)' }) }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $fuzzFinds = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../shared/fuzz-finds'))
}

AfterAll {
    Remove-TestFolder
}

Describe 'Mutation fuzzing of Import-CertificateBundle and ConvertFrom-ServiceKey' -Tag 'Fuzz' {
    BeforeAll {
        $script:haveTools = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) -and
            [bool](Get-Command keytool -CommandType Application -ErrorAction SilentlyContinue)
        if ($haveTools) { $script:seeded = Invoke-Fuzzer -Name 'seed-20261201' -Arguments @('-Seed', '20261201', '-Count', '300', '-TimeLimitSec', '2') }
    }

    It 'runs 300 inputs of seed 20261201 over every seed format, each seed read as made' {
        if (-not $haveTools) { Set-ItResult -Skipped -Because 'openssl or keytool is missing: the fuzzer cannot make its seed inputs'; return }
        $seeded.Summary.Count | Should -Be 300
        $formats = @($seeded.Summary.SeedChecks | ForEach-Object Format)
        $formats | Should -Contain 'pfx-aes'
        $formats | Should -Contain 'pfx-3des'
        $formats | Should -Contain 'pem-enc-pk8'
        $formats | Should -Contain 'p7b-der'
        $formats | Should -Contain 'jks-key'
        $formats | Should -Contain 'service-key'
        @($seeded.Summary.Counts | ForEach-Object Format | Select-Object -Unique).Count | Should -Be $formats.Count
        @($seeded.Summary.Failures | Where-Object Index -LT 0) | Should -BeNullOrEmpty -Because (Format-FuzzFailure $seeded.Summary)
    }

    It 'finds no failing input (categorised IDs only, no crash types, no terminating error, each under 2 s of CPU time)' {
        if (-not $haveTools) { Set-ItResult -Skipped -Because 'openssl or keytool is missing: the fuzzer cannot make its seed inputs'; return }
        $seeded.Summary.FailureCount | Should -Be 0 -Because (Format-FuzzFailure $seeded.Summary)
        $seeded.ExitCode | Should -Be 0 -Because ($seeded.Output -join "`n")
    }
}

Describe 'The fuzz finds in ../shared/fuzz-finds' -Tag 'Fuzz' {
    BeforeAll {
        $script:haveFuzzFinds = Test-Path -LiteralPath $fuzzFinds -PathType Container
        if ($haveFuzzFinds) { $script:replay = Invoke-Fuzzer -Name 'fuzz-finds' -Arguments @('-Replay', $fuzzFinds, '-TimeLimitSec', '2') }
    }

    It '<File>: a read or a categorised error within 2 s, plainly and with -Verbose -Debug' -TestCases $findCases {
        if (-not $haveFuzzFinds) { Set-ItResult -Skipped -Because "$fuzzFinds is absent (the repository's ../shared)"; return }
        $runs = @($replay.Summary.Counts | Where-Object { $_.Format -eq $File -and $_.Cmdlet -in 'Import-CertificateBundle', '-' } | ForEach-Object Count | Measure-Object -Sum).Sum
        $runs | Should -Be 2 -Because 'the file runs once plainly and once with -Verbose -Debug'
        @($replay.Summary.Failures | Where-Object Format -EQ $File) | Should -BeNullOrEmpty -Because (Format-FuzzFailure $replay.Summary -Format $File)
    }
}
