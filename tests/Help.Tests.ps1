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
}
