#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    New-CfServiceKey and Remove-CfServiceKey against the fake Cloud Foundry API (tests/fakes/FakeCloudFoundry): the
    exact requests sent, the 202 + Location jobs that take a few polls (slow, failed, timed out), progress while
    waiting, ShouldProcess (-WhatIf sends nothing), and the errors of each step.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'support/FakeCloudFoundry.ps1')
    $pki = Get-TestPki
    $fake = Start-FakeCloudFoundry -Pki $pki
    $savedCfHome = $env:CF_HOME
    $cfHome = Join-Path $TestFolder 'cfhome'
    $env:CF_HOME = $cfHome
    $PSDefaultParameterValues['*-CfServiceKey:TrustedCertificate'] = $pki.RootCert
    $instanceGuid = '1c1c1c1c-0000-4000-8000-000000000001'

    # Runs a script in a runspace of its own and returns its output and progress records.
    function Invoke-WithProgress([string] $Script) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$ModuleManifest'; `$ProgressPreference = 'Continue'; $Script")
            $output = $ps.Invoke()
            [pscustomobject]@{ Output = $output; Progress = @($ps.Streams.Progress); Errors = @($ps.Streams.Error) }
        }
        finally {
            $ps.Dispose()
        }
    }
}

AfterAll {
    $env:CF_HOME = $savedCfHome
    Stop-TestTlsServer $fake
    Remove-TestFolder
}

Describe 'New-CfServiceKey' {
    BeforeEach {
        Reset-FakeCf $fake
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
    }

    It 'posts exactly the documented request with New-ServiceKeyParameter''s JSON, waits for the job and returns the new key''s bundle' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ jobPolls = 3 }
        $key = New-CfServiceKey -ServiceInstance cpi-inbound -Name cert-2027 -Parameter (New-ServiceKeyParameter -Validity 20)
        $key | Should -BeOfType ([CertIntegration.CfServiceKey])
        $key.Name | Should -Be 'cert-2027'
        $key.ServiceInstance | Should -Be 'cpi-inbound'
        $key.HasPrivateKey | Should -BeTrue
        $key.DaysRemaining | Should -BeIn 19, 20
        $key.CertificateDetails.Validity | Should -Be 20

        $requests = Get-FakeCfRequest $fake
        $post = @($requests | Where-Object method -EQ 'POST')
        $post.Count | Should -Be 1
        $post[0].path | Should -Be '/v3/service_credential_bindings'
        $post[0].contentType | Should -Match '^application/json'
        $post[0].body | Should -BeExactly ('{"type":"key","name":"cert-2027","relationships":{"service_instance":{"data":{"guid":"' + $instanceGuid + '"}}},"parameters":{"key-type":"certificate","validity":20,"key-length":2048}}')
        $polls = @($requests | Where-Object path -Like '/v3/jobs/*')
        $polls.Count | Should -Be 4
        ($requests | Where-Object path -Like '*/details').path | Should -Be "/v3/service_credential_bindings/$($key.Guid)/details"
    }

    It 'takes New-ServiceKeyParameter -AsHashtable and a ConvertFrom-Json object the same way' {
        $null = New-CfServiceKey cpi-inbound k1 -Parameter (New-ServiceKeyParameter -Validity 10 -AsHashtable)
        $null = New-CfServiceKey cpi-inbound k2 -Parameter ('{"key-type":"certificate","validity":10,"key-length":2048}' | ConvertFrom-Json)
        $bodies = @(Get-FakeCfRequest $fake | Where-Object method -EQ 'POST' | ForEach-Object { ($_.body | ConvertFrom-Json).parameters | ConvertTo-Json -Compress })
        $bodies | Should -Be @('{"key-type":"certificate","validity":10,"key-length":2048}', '{"key-type":"certificate","validity":10,"key-length":2048}')
    }

    It 'pipes the new key into New-PfxFromPem' {
        $pfx = Join-Path $TestFolder 'cert-2027.pfx'
        $pw = ConvertTo-SecureString 'Pester-pfx-1' -AsPlainText -Force
        $file = New-CfServiceKey cpi-inbound cert-2027 -Parameter (New-ServiceKeyParameter -Validity 20) | New-PfxFromPem -OutFile $pfx -Password $pw
        $file.FullName | Should -Be $pfx
        $back = Import-CertificateBundle $pfx -Password $pw
        $back.HasPrivateKey | Should -BeTrue
        $back.ChainLength | Should -Be 3
    }

    It 'accepts a Location header that is a path' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ relativeLocation = $true }
        (New-CfServiceKey cpi-inbound rel-key).Name | Should -Be 'rel-key'
    }

    It 'does not follow a Location on another host (the token goes only to the API)' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ locationBase = "https://localhost:$($fake.Port)" }
        $errors = Get-ErrorRecord { New-CfServiceKey cpi-inbound elsewhere-key }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfAnswerInvalid,CertIntegration.Commands.NewCfServiceKeyCommand'
        $errors[0].Exception.Message | Should -Match "https://localhost:$($fake.Port)' is not on the Cloud Foundry API's host"
        @(Get-FakeCfRequest $fake | Where-Object path -Like '/v3/jobs/*').Count | Should -Be 0
    }

    It 'refreshes an expired token while it polls the job' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ jobPolls = 4; failures = @(@{ method = 'GET'; path = '/v3/jobs/'; status = 401; title = 'CF-InvalidAuthToken'; detail = 'Invalid Auth Token' }) }
        (New-CfServiceKey cpi-inbound refresh-key).Name | Should -Be 'refresh-key'
        @(Get-FakeCfRequest $fake | Where-Object path -EQ '/uaa/oauth/token').Count | Should -Be 1
    }

    It 'shows progress while it waits for the job' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ jobPolls = 3 }
        $r = Invoke-WithProgress "New-CfServiceKey cpi-inbound progress-key -TrustedCertificate '$($pki.RootCert)'"
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.Count | Should -Be 1
        $states = $r.Progress | Where-Object Activity -Match "Creating the service key 'progress-key'"
        @($states).Count | Should -BeGreaterOrEqual 3
        ($states.StatusDescription -join "`n") | Should -Match 'Job (PROCESSING|POLLING), poll 1'
        $states[-1].RecordType | Should -Be 'Completed'
    }

    It 'reports a FAILED job as CfJobFailed with its errors and returns nothing' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failNextJob = 'Service broker error: the certificate service is not available' }
        $all = & { $ErrorActionPreference = 'Continue'; New-CfServiceKey cpi-inbound failing-key 2>&1 }
        @($all | Where-Object { $_ -is [CertIntegration.CfServiceKey] }).Count | Should -Be 0
        $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfJobFailed,CertIntegration.Commands.NewCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $errors[0].Exception.Message | Should -Match 'CF-ServiceBrokerRequestRejected: Service broker error: the certificate service is not available'
        @(Get-CfServiceKey cpi-inbound).Name | Should -Not -Contain 'failing-key'
    }

    It 'gives up after -JobTimeoutSec with CfJobTimedOut' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ jobNeverCompletes = $true }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $errors = Get-ErrorRecord { New-CfServiceKey cpi-inbound slow-key -JobTimeoutSec 2 }
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 8
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfJobTimedOut,CertIntegration.Commands.NewCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $errors[0].Exception.Message | Should -Match 'still (PROCESSING|POLLING)'
    }

    It 'refuses a name the instance has already, before any POST' {
        $errors = Get-ErrorRecord { New-CfServiceKey cpi-inbound cert-2026 }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfServiceKeyExists,CertIntegration.Commands.NewCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        @(Get-FakeCfRequest $fake | Where-Object method -EQ 'POST').Count | Should -Be 0
    }

    It 'quotes the API''s message when it rejects the POST' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failures = @(@{ method = 'POST'; path = '/v3/service_credential_bindings'; status = 422; title = 'CF-UnprocessableEntity'; detail = 'Service plan does not allow bindings.' }) }
        $errors = Get-ErrorRecord { New-CfServiceKey cpi-inbound new-key }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfRequestRejected,CertIntegration.Commands.NewCfServiceKeyCommand'
        $errors[0].Exception.Message | Should -Match 'CF-UnprocessableEntity: Service plan does not allow bindings'
    }

    It 'refuses -Parameter that is not a JSON object before any request' {
        $errors = Get-ErrorRecord { New-CfServiceKey cpi-inbound bad -Parameter '[1,2]' }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfParameterInvalid,CertIntegration.Commands.NewCfServiceKeyCommand'
        $errors = Get-ErrorRecord { New-CfServiceKey cpi-inbound bad -Parameter '{"validity":' }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfParameterInvalid,CertIntegration.Commands.NewCfServiceKeyCommand'
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
    }

    It 'sends nothing with -WhatIf' {
        $out = New-CfServiceKey cpi-inbound whatif-key -Parameter (New-ServiceKeyParameter -Validity 20) -WhatIf
        $out | Should -BeNullOrEmpty
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
    }

    It 'has ConfirmImpact Medium' {
        $attr = [CertIntegration.Commands.NewCfServiceKeyCommand].GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be 'Medium'
        $attr.SupportsShouldProcess | Should -BeTrue
    }
}

Describe 'Remove-CfServiceKey' {
    BeforeEach {
        Reset-FakeCf $fake
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
    }

    It 'deletes the key by its binding guid and waits for the job' {
        $guid = (Get-CfServiceKey cpi-inbound -Name cert-2026).Guid
        Remove-CfServiceKey -ServiceInstance cpi-inbound -Name cert-2026 -Confirm:$false | Should -BeNullOrEmpty
        $requests = Get-FakeCfRequest $fake
        $delete = @($requests | Where-Object method -EQ 'DELETE')
        $delete.Count | Should -Be 1
        $delete[0].path | Should -Be "/v3/service_credential_bindings/$guid"
        @($requests | Where-Object path -Like '/v3/jobs/*').Count | Should -BeGreaterOrEqual 3
        @(Get-CfServiceKey cpi-inbound).Name | Should -Be @('cert-2026b', 'cert-2026c')
    }

    It 'takes the keys of Get-CfServiceKey from the pipeline' {
        Get-CfServiceKey cpi-inbound -Name 'cert-2026?' | Remove-CfServiceKey -Confirm:$false
        @(Get-CfServiceKey cpi-inbound).Name | Should -Be @('cert-2026')
    }

    It 'sends nothing with -WhatIf' {
        Remove-CfServiceKey cpi-inbound cert-2026 -WhatIf
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
    }

    It 'has ConfirmImpact High' {
        $attr = [CertIntegration.Commands.RemoveCfServiceKeyCommand].GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be 'High'
    }

    It 'reports a key that does not exist as CfServiceKeyNotFound and deletes nothing' {
        $errors = Get-ErrorRecord { Remove-CfServiceKey cpi-inbound no-such-key -Confirm:$false }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfServiceKeyNotFound,CertIntegration.Commands.RemoveCfServiceKeyCommand'
        @(Get-FakeCfRequest $fake | Where-Object method -EQ 'DELETE').Count | Should -Be 0
    }

    It 'reports a FAILED deletion job as CfJobFailed' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failNextJob = 'Service broker error: unbind failed' }
        $errors = Get-ErrorRecord { Remove-CfServiceKey cpi-inbound cert-2026 -Confirm:$false }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfJobFailed,CertIntegration.Commands.RemoveCfServiceKeyCommand'
        $errors[0].Exception.Message | Should -Match 'unbind failed'
    }
}
