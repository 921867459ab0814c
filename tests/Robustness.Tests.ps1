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
