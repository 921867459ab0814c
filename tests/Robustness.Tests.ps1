#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    A failure of the host is never reported as a fault of the input: with -Debug, PowerShell turns the warnings of a
    compiled cmdlet into prompts, which a -NonInteractive host refuses.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

AfterAll {
    Remove-TestFolder
}

Describe 'Import-CertificateBundle -Debug in a non-interactive pwsh' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        # A valid chain and an encrypted key read without -Password: the key is left out with a warning.
        $encrypted = Join-Path $TestFolder 'key.enc.pem'
        Invoke-OpenSsl -Arguments @('pkcs8', '-topk8', '-in', $pki.LeafKey, '-v2', 'aes-256-cbc', '-passout', 'pass:debug-pw', '-out', $encrypted) | Out-Null
        $file = Join-Path $TestFolder 'chain-and-encrypted-key.pem'
        Set-Content -LiteralPath $file -Value ((Get-Content -LiteralPath $pki.FullChainFile -Raw) + (Get-Content -LiteralPath $encrypted -Raw)) -NoNewline
    }

    It 'still returns the bundle and blames no input when the host refuses the prompt' {
        $script = {
            param($Manifest, $File)
            Import-Module $Manifest
            $bundles = Import-CertificateBundle -LiteralPath $File -Debug -ErrorVariable e -ErrorAction SilentlyContinue
            'BUNDLES ' + @($bundles).Count
            'IDS ' + (@($e | ForEach-Object { $_.FullyQualifiedErrorId }) -join ';')
        }
        $out = & (Get-Pwsh) -NoProfile -NonInteractive -Command "& { $script } '$ModuleManifest' '$file'" 2>&1 | ForEach-Object { "$_" }
        $out | Should -Contain 'BUNDLES 1'
        ($out | Where-Object { $_ -like 'IDS *' }) | Should -Not -Match 'UnexpectedError|ContainerCorrupt'
    }
}

Describe 'ConvertFrom-ServiceKey and Export-CertificateChain -Debug in a non-interactive pwsh' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $serviceKey = New-TestServiceKey -Name 'debug-key.json' -Pki $pki
        $encrypted = Join-Path $TestFolder 'export-key.enc.pem'
        Invoke-OpenSsl -Arguments @('pkcs8', '-topk8', '-in', $pki.LeafKey, '-v2', 'aes-256-cbc', '-passout', 'pass:debug-pw', '-out', $encrypted) | Out-Null
        $chainAndKey = Join-Path $TestFolder 'export-chain-and-encrypted-key.pem'
        Set-Content -LiteralPath $chainAndKey -Value ((Get-Content -LiteralPath $pki.FullChainFile -Raw) + (Get-Content -LiteralPath $encrypted -Raw)) -NoNewline
        $destination = Join-Path $TestFolder 'debug-export'

        # Runs $Command (with -Debug) in a pwsh -NonInteractive; returns the IDs of its error records and the message of
        # what ended it, if anything did.
        function Invoke-DebugCommand([string] $Command, [string] $File) {
            $script = {
                param($Manifest, $File, $Destination, $Command)
                Import-Module $Manifest
                $e = $null
                try {
                    $null = . ([scriptblock]::Create($Command + ' -ErrorVariable e -ErrorAction SilentlyContinue'))
                    'ENDED none'
                }
                catch { 'ENDED ' + $_.Exception.Message }
                'IDS ' + (@($e | ForEach-Object { $_.FullyQualifiedErrorId }) -join ';')
            }
            $quoted = $Command -replace "'", "''"
            & (Get-Pwsh) -NoProfile -NonInteractive -Command "& { $script } '$ModuleManifest' '$File' '$destination' '$quoted'" 2>&1 | ForEach-Object { "$_" }
        }
    }

    It '<Name> blames no input when the host refuses the prompt' -TestCases @(
        @{ Name = 'ConvertFrom-ServiceKey -LiteralPath'; Command = 'ConvertFrom-ServiceKey -LiteralPath $File -Debug'; Source = 'serviceKey' }
        @{ Name = 'ConvertFrom-ServiceKey from the pipeline'; Command = 'Get-Content -LiteralPath $File -Raw | ConvertFrom-ServiceKey -Debug'; Source = 'serviceKey' }
        @{ Name = 'Export-CertificateChain -Path'; Command = 'Export-CertificateChain -Path $File -Destination $Destination -Force -Debug'; Source = 'chainAndKey' }
    ) {
        $out = Invoke-DebugCommand -Command $Command -File (Get-Variable -Name $Source -ValueOnly)
        $ids = @($out | Where-Object { $_ -like 'IDS *' })
        $ids.Count | Should -Be 1 -Because ($out -join "`n")
        # Before: UnexpectedError (ConvertFrom-ServiceKey) and ContainerCorrupt (Export-CertificateChain) for valid input.
        $ids[0] | Should -Be 'IDS ' -Because ($out -join "`n")
        $ended = @($out | Where-Object { $_ -like 'ENDED *' })
        $ended | Should -Match '^ENDED (none|.*NonInteractive mode.*)$' -Because 'only the host itself may fail'
    }
}
