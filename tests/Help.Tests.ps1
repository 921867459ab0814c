#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The help the built module ships: cmdlet examples and about_CertIntegration. (That every exported command has
    help with an example is checked in Module.Tests.ps1.)
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

AfterAll {
    Remove-TestFolder
}

Describe 'Help' {
    It 'shows the examples of ConvertFrom-ServiceKey' {
        $examples = Get-Help ConvertFrom-ServiceKey -Examples | Out-String
        $examples | Should -Match ([regex]::Escape('cf service-key cpi cert-key | ConvertFrom-ServiceKey'))
    }

    It 'has Test-CertificateBundle examples that parse, and lists every finding code in its help' {
        $examples = @((Get-Help Test-CertificateBundle -Full).examples.example)
        $examples.Count | Should -BeGreaterOrEqual 5
        foreach ($example in $examples) {
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput(($example.code -join "`n"), [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because $example.title
        }
        $help = Get-Help Test-CertificateBundle -Full | Out-String -Width 200
        foreach ($code in 'Expired', 'NotYetValid', 'ExpiresSoon', 'ClientAuthenticationMissing', 'ServerAuthenticationMissing', 'KeyCertificateMismatch',
            'ChainIncomplete', 'ChainOutOfOrder', 'IntermediateExpiresFirst', 'RootNotTrusted', 'WeakRsaKey', 'Sha1Signature', 'ServiceKeyDetailsMismatch') {
            $help | Should -Match "\b$code\b"
        }
    }

    It 'finds about_CertIntegration' {
        Get-Help about_CertIntegration | Out-String | Should -Match 'TripleDesSha1'
    }

    # Get-Help -Online opens the help's "Online Version" link, else the cmdlet's HelpUri, and fails with "no URI"
    # when neither is there; both are checked here, as -Online itself would start a browser.
    It 'has an online address for <Name>: its README section on the project site' -ForEach @(
        (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../CertIntegration.psd1')).CmdletsToExport | ForEach-Object { @{ Name = $_ } }
    ) {
        $project = (Import-PowerShellDataFile $ModuleManifest).PrivateData.PSData.ProjectUri
        $expected = $project + '#' + $Name.ToLowerInvariant()
        $command = Get-Command $Name -Module CertIntegration
        $command.HelpUri | Should -Be $expected
        $links = @((Get-Help $Name -Full).relatedLinks.navigationLink | Where-Object { $_.uri })
        $links[0].uri | Should -Be $expected
        # The anchor is the README's heading of that cmdlet.
        Get-Content -LiteralPath (Join-Path $PSScriptRoot '../README.md') | Should -Contain "### $Name"
    }
}
