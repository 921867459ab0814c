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

    It 'finds about_CertIntegration' {
        Get-Help about_CertIntegration | Out-String | Should -Match 'TripleDesSha1'
    }
}
