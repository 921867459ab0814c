#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Get-CfServiceKey against the fake Cloud Foundry API and UAA (tests/fakes/FakeCloudFoundry), reached through a cf
    CLI config.json in $env:CF_HOME as in real use, with TLS validation on (the fake's root through
    -TrustedCertificate). Also the session and its errors shared by the three Cf cmdlets.
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

}

AfterAll {
    $env:CF_HOME = $savedCfHome
    Stop-TestTlsServer $fake
    Remove-TestFolder
}

Describe 'Get-CfServiceKey' {
    BeforeEach {
        Reset-FakeCf $fake
        $session = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
    }

    It 'returns every key of the instance as a bundle with its binding name and guid, following pagination.next' {
        $keys = @(Get-CfServiceKey -ServiceInstance cpi-inbound)
        $keys.Count | Should -Be 3
        $keys.Name | Should -Be @('cert-2026', 'cert-2026b', 'cert-2026c')
        foreach ($key in $keys) {
            $key | Should -BeOfType ([CertIntegration.CfServiceKey])
            $key | Should -BeOfType ([CertIntegration.CertificateBundle])
            $key.Guid | Should -Match '^[0-9a-f-]{36}$'
            $key.ServiceInstance | Should -Be 'cpi-inbound'
            $key.Space | Should -Be 'dev'
            $key.HasPrivateKey | Should -BeTrue
            $key.ChainLength | Should -Be 3
            $key.ClientId | Should -Be "sb-$($key.Guid)!b1|it-rt-pester!b2"
            $key.CertificateDetails.SerialNumber | Should -Be $key.Certificate.SerialNumber.ToLowerInvariant()
        }
        $lists = @(Get-FakeCfRequest $fake | Where-Object path -EQ '/v3/service_credential_bindings')
        $lists.Count | Should -Be 2
        $lists[1].query | Should -Match 'page=2'
        $lists[0].query | Should -Match 'type=key'
        $lists[0].query | Should -Match 'service_instance_guids=1c1c1c1c-0000-4000-8000-000000000001'
    }

    It 'has a table view that fits 80 columns and a list view without the certificates'' dumps' {
        $keys = @(Get-CfServiceKey cpi-inbound)
        $table = ($keys | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() }
        $table[0] | Should -Match '^ServiceInstance\s+Name\s+Key\s+NotAfter\s+Days\s+Created'
        $table | Where-Object { $_ -match 'cpi-inbound\s+cert-2026b\s+yes\s+\d{4}-\d\d-\d\d\s+\d+\s+\d{4}-' } | Should -Not -BeNullOrEmpty
        $table | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        $list = $keys[0] | Format-List | Out-String -Width 80
        $list | Should -Match "Guid\s+: $($keys[0].Guid)"
        $list | Should -Not -Match '\[Serial Number\]'
    }

    It 'looks the instance up in the session''s target space and sends the session''s token' {
        $null = Get-CfServiceKey cpi-inbound
        $requests = Get-FakeCfRequest $fake
        ($requests | Where-Object path -EQ '/v3/service_instances').query | Should -Be '?names=cpi-inbound&space_guids=5b5f2a9c-0000-4000-8000-000000000001'
        $requests.authorization | Select-Object -Unique | Should -Be "bearer $($session.AccessToken)"
    }

    It 'takes -Name exactly (names= in the query) and with wildcards' {
        (Get-CfServiceKey cpi-inbound -Name cert-2026b).Name | Should -Be 'cert-2026b'
        (Get-FakeCfRequest $fake | Where-Object path -EQ '/v3/service_credential_bindings').query | Should -Match 'names=cert-2026b'
        @(Get-CfServiceKey cpi-inbound -Name 'cert-2026?').Name | Should -Be @('cert-2026b', 'cert-2026c')
    }

    It 'reports a missing key name as CfServiceKeyNotFound' {
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound -Name no-such-key }
        $errors.FullyQualifiedErrorId | Should -Be 'CfServiceKeyNotFound,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].Exception.Message | Should -Match "no service key 'no-such-key'"
    }

    It 'finds an instance of another space with -Space (by name, in the session''s org)' {
        (Get-CfServiceKey cpi-prod -Space prod).Name | Should -Be 'prod-key'
        (Get-FakeCfRequest $fake | Where-Object path -EQ '/v3/spaces').query | Should -Be '?names=prod&organization_guids=0a0a0a0a-0000-4000-8000-00000000000a'
        (Get-CfServiceKey cpi-prod -Space prod).Space | Should -Be 'prod'
    }

    It 'reports an instance that is not in the space as CfServiceInstanceNotFound, and an unknown space as CfSpaceNotFound' {
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-prod }
        $errors.FullyQualifiedErrorId | Should -Be 'CfServiceInstanceNotFound,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].Exception.Message | Should -Match "no service instance 'cpi-prod' in the space 'dev'"
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-prod -Space staging }
        $errors.FullyQualifiedErrorId | Should -Be 'CfSpaceNotFound,CertIntegration.Commands.GetCfServiceKeyCommand'
    }

    It 'reports an instance name found in two spaces as CfServiceInstanceAmbiguous when no space is targeted' {
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome -NoSpace
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-shared }
        $errors.FullyQualifiedErrorId | Should -Be 'CfServiceInstanceAmbiguous,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errors[0].Exception.Message | Should -Match '-Space'
        $errors[0].Exception.Message | Should -Match '\(spaces: dev, prod\)'
        (Get-FakeCfRequest $fake | Where-Object path -EQ '/v3/service_instances').query | Should -Be '?names=cpi-shared'
        @(Get-CfServiceKey cpi-shared -Space prod).Count | Should -Be 0
    }

    It 'reports a client-secret key of the instance as an error of its own and still returns the others' {
        $null = Invoke-FakeCf $fake '/fake/keys' -Body @{ instance = 'cpi-inbound'; name = 'secret-key'; clientSecret = $true }
        $errors = @()
        $keys = @(Get-CfServiceKey cpi-inbound -ErrorVariable errors -ErrorAction SilentlyContinue)
        $keys.Count | Should -Be 3
        $errors.FullyQualifiedErrorId | Should -Be 'ServiceKeyIsClientSecret,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].TargetObject | Should -Be 'secret-key'
    }

    It 'quotes the API''s errors[].title and detail: <Status> is <Id> (<Category>)' -ForEach @(
        @{ Status = 403; Id = 'CfForbidden'; Category = 'PermissionDenied'; Title = 'CF-NotAuthorized'; Detail = 'You are not authorized to perform the requested action'; Also = 'SpaceDeveloper' }
        @{ Status = 404; Id = 'CfNotFound'; Category = 'ObjectNotFound'; Title = 'CF-ResourceNotFound'; Detail = 'Service instance not found'; Also = 'HTTP 404' }
        @{ Status = 422; Id = 'CfRequestRejected'; Category = 'InvalidArgument'; Title = 'CF-UnprocessableEntity'; Detail = 'Invalid query parameter'; Also = 'HTTP 422' }
        @{ Status = 500; Id = 'CfServerError'; Category = 'ProtocolError'; Title = 'UnknownError'; Detail = 'An unknown error occurred.'; Also = 'HTTP 500' }
    ) {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failures = @(@{ path = '/v3/service_instances'; status = $Status; title = $Title; detail = $Detail }) }
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be "$Id,CertIntegration.Commands.GetCfServiceKeyCommand"
        $errors[0].CategoryInfo.Category | Should -Be $Category
        $errors[0].Exception.Message | Should -Match ([regex]::Escape("${Title}: $Detail"))
        $errors[0].Exception.Message | Should -Match ([regex]::Escape($Also))
    }

    It 'bounds the length of a quoted server message' {
        $long = 'x' * 5000
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failures = @(@{ path = '/v3/service_instances'; status = 500; title = 'UnknownError'; detail = $long }) }
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
        $errors[0].Exception.Message.Length | Should -BeLessThan 700
    }

    It 'tries again after Retry-After on 429 and 503, a bounded number of times' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failures = @(
                @{ path = '/v3/service_instances'; status = 429; retryAfter = '1'; title = 'CF-RateLimitExceeded'; detail = 'Rate Limit Exceeded' }
                @{ path = '/v3/service_credential_bindings'; status = 503; retryAfter = '0'; count = 1 }
            ) }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        @(Get-CfServiceKey cpi-inbound).Count | Should -Be 3
        $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
        @(Get-FakeCfRequest $fake | Where-Object path -EQ '/v3/service_instances').Count | Should -Be 2

        Reset-FakeCf $fake
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failures = @(@{ path = '/v3/service_instances'; status = 503; retryAfter = '0'; count = 10; title = 'CF-ServiceUnavailable'; detail = 'Down for maintenance' }) }
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfServiceUnavailable,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].Exception.Message | Should -Match 'Down for maintenance'
        @(Get-FakeCfRequest $fake | Where-Object path -EQ '/v3/service_instances').Count | Should -Be 4
    }

    It 'does not wait for a Retry-After beyond its bound' {
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failures = @(@{ path = '/v3/service_instances'; status = 429; retryAfter = '3600'; title = 'CF-RateLimitExceeded'; detail = 'Rate Limit Exceeded' }) }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfServiceUnavailable,CertIntegration.Commands.GetCfServiceKeyCommand'
    }

    It 'refuses a server whose certificate it does not trust, and sends it nothing' {
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound -TrustedCertificate @() }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfServerCertificateUntrusted,CertIntegration.Commands.GetCfServiceKeyCommand'
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
    }
}

Describe 'The cf session' {
    BeforeEach {
        Reset-FakeCf $fake
    }

    It 'refreshes an expired token once with the refresh token at UAA (client cf, empty secret)' {
        $session = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
        $null = Invoke-FakeCf $fake '/fake/expire-tokens'
        @(Get-CfServiceKey cpi-inbound).Count | Should -Be 3
        $requests = Get-FakeCfRequest $fake
        $token = @($requests | Where-Object path -EQ '/uaa/oauth/token')
        $token.Count | Should -Be 1
        $token[0].authorization | Should -Be ('Basic ' + [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes('cf:')))
        $token[0].body | Should -Match 'grant_type=refresh_token'
        $token[0].body | Should -Match ([regex]::Escape("refresh_token=$($session.RefreshToken)"))
        $requests[0].authorization | Should -Be "bearer $($session.AccessToken)"
        $requests[-1].authorization | Should -Not -Be "bearer $($session.AccessToken)"
        $requests[-1].authorization | Should -Match '^bearer fake-access-'
    }

    It 'reports a session whose refresh token is refused as CfTokenRequestFailed with UAA''s error' {
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome -AccessToken 'fake-access-expired' -RefreshToken 'fake-refresh-revoked'
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfTokenRequestFailed,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $errors[0].Exception.Message | Should -Match 'invalid_token'
        $errors[0].Exception.Message | Should -Match "cf login"
    }

    It 'reports a missing cf session as CfApiEndpointMissing, and a logged-out one as CfNotLoggedIn' {
        $env:CF_HOME = Join-Path $TestFolder 'nothing-here'
        try {
            $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
            $errors[0].FullyQualifiedErrorId | Should -Be 'CfApiEndpointMissing,CertIntegration.Commands.GetCfServiceKeyCommand'
            $errors[0].Exception.Message | Should -Match 'cf login'
        }
        finally {
            $env:CF_HOME = $cfHome
        }
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome -NoTokens
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfNotLoggedIn,CertIntegration.Commands.GetCfServiceKeyCommand'
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
    }

    It 'reads ~/.cf/config.json when CF_HOME is not set' -Skip:($IsWindows) {
        $home2 = Join-Path $TestFolder 'home2'
        $session = Set-FakeCfConfig -Fake $fake -CfHome $home2
        $script = "Import-Module '$ModuleManifest'; (Get-CfServiceKey cpi-inbound -TrustedCertificate '$($pki.RootCert)' | Measure-Object).Count"
        $savedHome = $env:HOME
        try {
            $env:CF_HOME = $null
            $env:HOME = $home2
            $out = & (Get-Pwsh) -NoProfile -NonInteractive -Command $script 2>&1
        }
        finally {
            $env:HOME = $savedHome
            $env:CF_HOME = $cfHome
        }
        "$out".Trim() | Should -Be '3'
        (Get-FakeCfRequest $fake).authorization | Select-Object -Unique | Should -Be "bearer $($session.AccessToken)"
    }

    It 'writes no token, refresh token or password to any stream' {
        $session = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
        $null = Invoke-FakeCf $fake '/fake/expire-tokens'
        $null = Invoke-FakeCf $fake '/fake/config' -Body @{ failures = @(@{ path = '/v3/service_credential_bindings'; status = 500; body = "{`"errors`":[{`"title`":`"X`",`"detail`":`"echo access_token=$($session.AccessToken)`"}]}" }) }
        $output = & { Get-CfServiceKey cpi-inbound -Verbose -Debug -ErrorAction Continue } *>&1 | Out-String -Width 300
        $output | Should -Match 'GET /v3/service_instances'
        $output | Should -Match 'refresh_token'
        $output | Should -Not -Match ([regex]::Escape($session.AccessToken))
        $output | Should -Not -Match ([regex]::Escape($session.RefreshToken))
        $output | Should -Not -Match 'fake-access-[0-9a-f]{8}'
        $output | Should -Not -Match 'fake-refresh-[0-9a-f]{8}'
    }

    It 'never sends the session''s token to another -ApiEndpoint' {
        $null = Set-FakeCfConfig -Fake $fake -CfHome $cfHome
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound -ApiEndpoint "https://localhost:$($fake.Port)" }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfNotLoggedIn,CertIntegration.Commands.GetCfServiceKeyCommand'
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
    }
}

Describe 'Authentication without the cf session' {
    BeforeEach {
        Reset-FakeCf $fake
        $env:CF_HOME = Join-Path $TestFolder 'no-session'
        $user = [pscredential]::new('pester@example.com', (ConvertTo-SecureString 'pester-Passw0rd!' -AsPlainText -Force))
    }

    AfterEach {
        $env:CF_HOME = $cfHome
    }

    It '-Credential: finds UAA through GET / (links.uaa), gets a token with the password grant (client cf) and uses it' {
        $keys = @(Get-CfServiceKey cpi-inbound -Space dev -ApiEndpoint $fake.Url -Credential $user)
        $keys.Count | Should -Be 3
        $requests = Get-FakeCfRequest $fake
        $requests[0].method | Should -Be 'GET'
        $requests[0].path | Should -Be '/'
        $requests[0].authorization | Should -BeNullOrEmpty
        $requests[1].path | Should -Be '/uaa/oauth/token'
        $requests[1].authorization | Should -Be ('Basic ' + [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes('cf:')))
        $form = @{}
        foreach ($pair in $requests[1].body -split '&') { $k, $v = $pair -split '=', 2; $form[$k] = [uri]::UnescapeDataString($v.Replace('+', ' ')) }
        $form.grant_type | Should -Be 'password'
        $form.username | Should -Be 'pester@example.com'
        $form.password | Should -Be 'pester-Passw0rd!'
        ($requests | Where-Object path -EQ '/v3/spaces').query | Should -Be '?names=dev'
        $api = @($requests | Where-Object path -Like '/v3/*')
        $api.authorization | Select-Object -Unique | Should -Match '^bearer fake-access-[0-9a-f]{32}$'
    }

    It '-Credential: a wrong password is CfTokenRequestFailed with UAA''s error, and the password is in no stream' {
        $bad = [pscredential]::new('pester@example.com', (ConvertTo-SecureString 'Wrong-Secret-9' -AsPlainText -Force))
        $output = & { $ErrorActionPreference = 'Continue'; Get-CfServiceKey cpi-inbound -Space dev -ApiEndpoint $fake.Url -Credential $bad -Verbose -Debug *>&1 }
        $errors = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfTokenRequestFailed,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].Exception.Message | Should -Match 'Bad credentials'
        ($output | Out-String -Width 300) | Should -Not -Match 'Wrong-Secret-9'
        @(Get-FakeCfRequest $fake | Where-Object path -Like '/v3/*').Count | Should -Be 0
    }

    It '-Token: sends the given token (with or without "bearer ") and asks UAA for nothing' {
        $issued = Invoke-FakeCf $fake '/fake/tokens' -Method Get
        @(Get-CfServiceKey cpi-inbound -Space dev -ApiEndpoint $fake.Url -Token (ConvertTo-SecureString $issued.access_token -AsPlainText -Force)).Count | Should -Be 3
        @(Get-CfServiceKey cpi-inbound -Space dev -ApiEndpoint $fake.Url -Token (ConvertTo-SecureString "bearer $($issued.access_token)" -AsPlainText -Force)).Count | Should -Be 3
        $requests = Get-FakeCfRequest $fake
        $requests.authorization | Select-Object -Unique | Should -Be "bearer $($issued.access_token)"
        @($requests | Where-Object path -Like '/uaa/*').Count | Should -Be 0
    }

    It '-Token: a token the API refuses is CfNotAuthenticated (it cannot be refreshed)' {
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound -Space dev -ApiEndpoint $fake.Url -Token (ConvertTo-SecureString 'fake-access-old' -AsPlainText -Force) }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfNotAuthenticated,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $errors[0].Exception.Message | Should -Match 'no refresh token'
        $errors[0].Exception.Message | Should -Not -Match 'fake-access-old'
        @(Get-FakeCfRequest $fake | Where-Object path -Like '/uaa/*').Count | Should -Be 0
    }

    It 'refuses an -ApiEndpoint that is not https before any request' {
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound -ApiEndpoint "http://127.0.0.1:$($fake.Port)" -Credential $user }
        $errors[0].FullyQualifiedErrorId | Should -Be 'UriInvalid,CertIntegration.Commands.GetCfServiceKeyCommand'
        @(Get-FakeCfRequest $fake).Count | Should -Be 0
    }

    It 'reports a config.json that is not JSON as CfConfigInvalid' {
        $broken = Join-Path $TestFolder 'broken-home'
        $null = New-Item -ItemType Directory -Path (Join-Path $broken '.cf') -Force
        Set-Content -LiteralPath (Join-Path $broken '.cf/config.json') -Value '{"Target": "https://api.example' -Encoding UTF8
        $env:CF_HOME = $broken
        $errors = Get-ErrorRecord { Get-CfServiceKey cpi-inbound }
        $errors[0].FullyQualifiedErrorId | Should -Be 'CfConfigInvalid,CertIntegration.Commands.GetCfServiceKeyCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
    }
}
