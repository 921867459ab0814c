#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    What users hand the cmdlets, as a new user types it: tab completion of -Include.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

AfterAll {
    Remove-TestFolder
}

Describe 'Export-CertificateChain -Include completion' {
    It 'offers the roles it takes, and not None' {
        $offered = Get-CompletionText 'Export-CertificateChain -Include '
        $offered | Should -Contain 'Leaf'
        $offered | Should -Contain 'Intermediate'
        $offered | Should -Contain 'Root'
        $offered | Should -Not -Contain 'None'
        Get-CompletionText 'Export-CertificateChain -Include Leaf, R' | Should -Be @('Root')
        Get-CompletionText 'Export-CertificateChain -Include N' | Should -BeNullOrEmpty
    }
}
