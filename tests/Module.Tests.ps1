#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The built module as a whole (out/CertIntegration): its manifest as PowerShell's tools read it, help for every
    exported command, tab completion of enum parameters, and the format views of its objects.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    $manifest = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../out/CertIntegration/CertIntegration.psd1'))
    if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
        throw "The module is not built: $manifest does not exist. Run ./build/build.sh (or ./build/build.ps1) first."
    }
    # One help test per command the manifest exports; the run checks that this is what the module exports.
    $commands = @((Test-ModuleManifest -Path $manifest -ErrorAction Stop).ExportedCmdlets.Keys | Sort-Object | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $module = Get-Module CertIntegration | Select-Object -First 1
}

AfterAll {
    Remove-TestFolder
}

Describe 'The module manifest' {
    It 'is read by Test-ModuleManifest and matches what the module exports' {
        $m = Test-ModuleManifest -Path $ModuleManifest -ErrorAction Stop
        $m.Name | Should -Be 'CertIntegration'
        $m.Version | Should -Be $module.Version
        $m.CompatiblePSEditions | Should -Contain 'Desktop'
        $m.CompatiblePSEditions | Should -Contain 'Core'
        @($m.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($module.ExportedCmdlets.Keys | Sort-Object)
        $module.ExportedCmdlets.Count | Should -BeGreaterThan 0
    }

    It 'exports every cmdlet again after Import-Module -Force and after Remove-Module' {
        # A fresh pwsh: this one has the module already, and load contexts cannot be undone in-process.
        $pwsh = Get-Pwsh
        $script = {
            param($Manifest)
            Import-Module $Manifest
            Import-Module $Manifest -Force
            'FORCE ' + (Get-Module CertIntegration).ExportedCmdlets.Count
            Remove-Module CertIntegration
            Import-Module $Manifest
            'AGAIN ' + (Get-Module CertIntegration).ExportedCmdlets.Count
            'HELP ' + @((Get-Help ConvertFrom-ServiceKey -Examples).examples.example).Count
        }
        $out = & $pwsh -NoProfile -NonInteractive -Command "& { $script } '$ModuleManifest'" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $expected = $module.ExportedCmdlets.Count
        $out | Should -Contain "FORCE $expected"
        $out | Should -Contain "AGAIN $expected"
        ($out | Where-Object { "$_" -like 'HELP *' }) | Should -Not -Be 'HELP 1' -Because 'the help of a re-imported cmdlet still has its examples'
    }

    It 'is read by Import-PowerShellDataFile, with a literal RootModule' {
        $data = Import-PowerShellDataFile -LiteralPath $ModuleManifest -ErrorAction Stop
        $data.RootModule | Should -BeOfType ([string])
        $data.RootModule | Should -Be 'CertIntegration.psm1'
        Join-Path (Split-Path -Parent $ModuleManifest) $data.RootModule | Should -Exist
        $data.ModuleVersion | Should -Be $module.Version.ToString()
        $data.CmdletsToExport | Should -Not -Contain '*'
    }
}

Describe 'Help of <Name>' -ForEach $commands {
    It 'has a synopsis and at least one example with code' {
        $help = Get-Help -Name $Name -Full -ErrorAction Stop
        "$($help.Synopsis)".Trim() | Should -Not -BeNullOrEmpty
        "$($help.Synopsis)".Trim() | Should -Not -BeLike "$Name *[[]*"   # the generated syntax line PowerShell shows when there is no help
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterThan 0
        "$($examples[0].code)".Trim() | Should -Not -BeNullOrEmpty
    }
}

Describe 'Tab completion' {
    It 'offers <Expected> after "<Line>"' -ForEach @(
        @{ Line = 'Export-CertificateChain -Format '; Expected = @('Base64', 'Der', 'Pem', 'PemBundle', 'SingleLine', 'P7b') }
        @{ Line = 'Export-CertificateChain -Format Pem'; Expected = @('Pem', 'PemBundle') }
        @{ Line = 'New-PfxFromPem -Encryption '; Expected = @('TripleDesSha1', 'Aes256Sha256') }
    ) {
        @(Get-CompletionText $Line | Sort-Object) | Should -Be @($Expected | Sort-Object)
    }
}

Describe 'Format views of a certificate bundle' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'format-key.json' -Pki $pki)
        $ansi = "$([char]27)\[[0-9;]*m"
    }

    It 'renders the default view at Out-String -Width 80' {
        $text = $bundle | Out-String -Width 80
        $lines = @(($text -replace $ansi, '') -split '\r?\n' | Where-Object { $_.Trim() })
        $lines.Count | Should -Be 3   # header, rule, one row
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $lines[0] | Should -Match '^Name\s.*\bSource\s*$'
        $lines[2] | Should -Match '^Pester'
        $lines[2] | Should -Match '\byes\b'
        $lines[2] | Should -Match ([regex]::Escape($bundle.NotAfter.ToString('yyyy-MM-dd')))
        $lines[2] | Should -Match 'format-key\.json'
    }

    It 'renders the table view without a script-block error' {
        $text = $bundle | Format-Table -DisplayError | Out-String -Width 80
        $text | Should -Not -Match '#ERR'
        $text | Should -Match '\byes\b'
        $text | Should -Match ([regex]::Escape($bundle.NotAfter.ToString('yyyy-MM-dd')))
    }

    It 'renders the list view without a script-block error, with the chain leaf first' {
        $text = $bundle | Format-List -DisplayError | Out-String -Width 80
        $text | Should -Not -Match '#ERR'
        # Long values wrap at 80 columns; compare with the line breaks taken out.
        ($text -replace '\s+', ' ') | Should -Match 'Chain : CN=Pester Client <- CN=Pester Intermediate CA <- CN=Pester Root CA KeyType'
    }
}
