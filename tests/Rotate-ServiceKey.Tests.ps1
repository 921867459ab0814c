#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    examples/Rotate-ServiceKey.ps1 end to end: against the fake Cloud Foundry API (the cf session in $env:CF_HOME) and
    a local mTLS server (openssl s_server that requires a client certificate from the test PKI's root). The new key
    the fake issues really authenticates there; a server that trusts another root fails the test step, and then the
    old key must stay. -WhatIf shows the plan and sends nothing.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'support/FakeCloudFoundry.ps1')
    $pki = Get-TestPki
    $fake = Start-FakeCloudFoundry -Pki $pki
    $savedCfHome = $env:CF_HOME
    $cfHome = Join-Path $TestFolder 'cfhome'
    $env:CF_HOME = $cfHome
    $rotate = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../examples/Rotate-ServiceKey.ps1'))
    $serverCert = New-TestServerCertificate -Pki $pki
    $otherRoot = New-TestRootCertificate -CommonName 'Pester Rotation Other Root'
    $trusting = Start-TestTlsServer $serverCert @('-Verify', '2', '-verify_return_error', '-CAfile', $pki.RootCert)
    $foreign = Start-TestTlsServer $serverCert @('-Verify', '2', '-verify_return_error', '-CAfile', $otherRoot.Cert)
    $pw = ConvertTo-SecureString 'Pester-rotation-1' -AsPlainText -Force
}

AfterAll {
    $env:CF_HOME = $savedCfHome
    Stop-TestTlsServer $trusting
    Stop-TestTlsServer $foreign
    Stop-TestTlsServer $fake
    Remove-TestFolder
}

Describe 'examples/Rotate-ServiceKey.ps1' {
    BeforeEach {
        Reset-FakeCf $fake
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
    }

    It 'creates the new key, writes its PFX, tests the endpoint with it and only then removes the old key' {
        $pfx = Join-Path $TestFolder 'cert-2027.pfx'
        $result = & $rotate -ServiceInstance cpi-inbound -OldName cert-2026 -NewName cert-2027 -Validity 20 -PfxPath $pfx -Password $pw `
            -Endpoint $trusting.Url -TrustedCertificate $pki.RootCert
        $result.NewKey | Should -Be 'cert-2027'
        $result.Verdict | Should -Match '^OK'
        $result.OldKeyRemoved | Should -BeTrue
        Test-Path -LiteralPath $pfx | Should -BeTrue
        (Import-CertificateBundle $pfx -Password $pw).Thumbprint | Should -Be (Get-CfServiceKey cpi-inbound -Name cert-2027 -TrustedCertificate $pki.RootCert).Thumbprint
        @(Get-CfServiceKey cpi-inbound -TrustedCertificate $pki.RootCert).Name | Should -Be @('cert-2026b', 'cert-2026c', 'cert-2027')

        # The order SAP documents: the POST's job completes before the PFX and the test, the DELETE comes last.
        $requests = Get-FakeCfRequest $fake
        $post = [array]::IndexOf(@($requests.method), 'POST')
        $delete = [array]::IndexOf(@($requests.method), 'DELETE')
        $post | Should -BeGreaterOrEqual 0
        $delete | Should -BeGreaterThan $post
        $details = [array]::IndexOf(@($requests.path), ($requests | Where-Object path -Like '*/details' | Select-Object -First 1).path)
        $delete | Should -BeGreaterThan $details
    }

    It 'keeps the old key when the endpoint test with the new key fails' {
        $pfx = Join-Path $TestFolder 'cert-fail.pfx'
        $thrown = $null
        try {
            $null = & $rotate -ServiceInstance cpi-inbound -OldName cert-2026 -NewName cert-fail -Validity 20 -PfxPath $pfx -Password $pw `
                -Endpoint $foreign.Url -TrustedCertificate $pki.RootCert
        }
        catch {
            $thrown = $_
        }
        $thrown | Should -Not -BeNullOrEmpty
        "$thrown" | Should -Match "The old key 'cert-2026' is kept"
        @(Get-FakeCfRequest $fake | Where-Object method -EQ 'DELETE').Count | Should -Be 0
        @(Get-CfServiceKey cpi-inbound -TrustedCertificate $pki.RootCert).Name | Should -Contain 'cert-2026'
    }

    It 'shows the plan with -WhatIf and sends nothing' {
        $pfx = Join-Path $TestFolder 'whatif.pfx'
        $command = "& '$rotate' -ServiceInstance cpi-inbound -OldName cert-2026 -NewName cert-2027 -PfxPath '$pfx' " +
            "-Password (ConvertTo-SecureString 'x' -AsPlainText -Force) -Endpoint '$($trusting.Url)' -TrustedCertificate '$($pki.RootCert)' -WhatIf"
        $output = & (Get-Pwsh) -NoProfile -NonInteractive -Command $command 2>&1 | Out-String
        $output | Should -Match "What if: .*Step 1: create it"
        $output | Should -Match "What if: .*Step 2: write the PFX"
        $output | Should -Match "What if: .*Step 3: test it"
        $output | Should -Match "What if: .*Step 4: remove it"
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
        Test-Path -LiteralPath $pfx | Should -BeFalse
    }
}
