#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The Cpi cmdlets against the FAKE Cloud Integration tenant (tests/fakes/FakeCpiTenant, written from SAP's API
    description): OAuth client credentials, CSRF fetch and refetch, OData V2 JSON with /Date(ms)/ and __next paging,
    downloads, uploads, deletes and every documented error status. The cmdlets reach the fake through the url of an
    api-plan service key file and trust it through -TrustedCertificate; the fake records what it got.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    $haveCore = $PSVersionTable.PSEdition -eq 'Core'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'support/FakeCpiTenant.ps1')
    $pki = Get-TestPki
    $tenant = Start-FakeCpiTenant -Pki $pki -PageSize 2
    $partnerA = New-TestRootCertificate -CommonName 'Partner A Root'
    $partnerB = New-TestRootCertificate -CommonName 'Partner B Root'
    $partnerC = New-TestRootCertificate -CommonName 'Partner C Root'
    Add-FakeCpiEntry $tenant -Alias 'sap_cloudintegrationcertificate' -PemFile $pki.FullChainFile -Type 'Key Pair' -Owner 'SAP'
    Add-FakeCpiEntry $tenant -Alias 'partner_a' -PemFile $partnerA.Cert
    Add-FakeCpiEntry $tenant -Alias 'partner_b' -PemFile $partnerB.Cert
    Add-FakeCpiEntry $tenant -Alias 'partner_c' -PemFile $partnerC.Cert
    Add-FakeCpiEntry $tenant -Alias 'renewed_pair' -PemFile $pki.FullChainFile -Type 'Key Pair' -Keystore KeyRenewal

    function Connect-Fake { Connect-CpiTenant -ServiceKey $tenant.ServiceKey -TrustedCertificate $tenant.TrustedCertificate }

    # Every record of every stream as text (messages, errors with exceptions and targets, objects as JSON).
    function ConvertTo-AllText {
        param([object[]] $Records)
        foreach ($r in $Records) {
            if ($r -is [System.Management.Automation.ErrorRecord]) {
                $r.ToString(); $r.Exception.ToString(); "$($r.TargetObject)"
            }
            elseif ($r -is [System.Management.Automation.InformationalRecord]) { $r.Message }
            elseif ($null -ne $r) { "$r"; ($r | ConvertTo-Json -Depth 3 -WarningAction SilentlyContinue) }
        }
    }
}

AfterAll {
    Stop-FakeCpiTenant $tenant
    Remove-TestFolder
}

Describe 'Connect-CpiTenant' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    It 'connects with the client secret of an api-plan key, showing the base URL and no secret or token' {
        Clear-FakeCpiRequest $tenant
        $t = Connect-Fake
        $t | Should -BeOfType ([CertIntegration.CpiConnection])
        $t.BaseUrl | Should -Be ([uri]$tenant.Url)
        $t.Authentication | Should -Be 'ClientSecret'
        $t.TokenExpiresOn | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(50))
        $req = Get-FakeCpiRequest $tenant
        $req.Count | Should -Be 1
        $req[0].Path | Should -Be '/oauth/token'
        $req[0].Body | Should -Match 'grant_type=client_credentials'
        $req[0].Body | Should -Match 'client_secret='
        $text = ($t | Format-List * | Out-String) + ($t | ConvertTo-Json -Depth 3 -WarningAction SilentlyContinue)
        $text | Should -Not -Match ([regex]::Escape($tenant.ClientSecret))
        $text | Should -Not -Match 'fake\.[0-9a-f]{32}'
    }

    It 'reads the key as text and as an object too' {
        $text = Get-Content -Raw -LiteralPath $tenant.ServiceKey
        (Connect-CpiTenant -ServiceKey $text -TrustedCertificate $tenant.TrustedCertificate).BaseUrl | Should -Be ([uri]$tenant.Url)
        (Connect-CpiTenant -ServiceKey ($text | ConvertFrom-Json) -TrustedCertificate $tenant.TrustedCertificate).ClientId | Should -Be $tenant.ClientId
    }

    It 'refuses a tenant whose certificate is not trusted, sending nothing' {
        Clear-FakeCpiRequest $tenant
        $err = $null
        $null = Connect-CpiTenant -ServiceKey $tenant.ServiceKey -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiServerCertificateUntrusted,*'
        $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }

    It 'fails with invalid_client for a wrong secret, quoting the server and never the secret' {
        $bad = Join-Path $TestFolder 'bad-key.json'
        @{ oauth = @{ url = $tenant.Url; clientid = $tenant.ClientId; clientsecret = 'wrong-secret-xyz'; tokenurl = "$($tenant.Url)/oauth/token" } } | ConvertTo-Json | Set-Content $bad
        $out = Connect-CpiTenant -ServiceKey $bad -TrustedCertificate $tenant.TrustedCertificate -Verbose -ErrorAction Continue *>&1
        $err = @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TokenInvalidClient,*'
        $err[0].Exception.Message | Should -Match 'Bad credentials'
        (ConvertTo-AllText $out) -join "`n" | Should -Not -Match 'wrong-secret-xyz'
    }

    It 'says what is missing from a key that is not an api-plan key' {
        $bad = Join-Path $TestFolder 'flow-key.json'
        @{ oauth = @{ clientid = 'x'; clientsecret = 'y'; tokenurl = 'https://a.authentication.eu10.hana.ondemand.com/oauth/token' } } | ConvertTo-Json | Set-Content $bad
        $err = $null
        $null = Connect-CpiTenant -ServiceKey $bad -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiServiceKeyInvalid,*'
        $err[0].Exception.Message | Should -Match "no 'url'"
    }

    It 'keeps the last connection in the module session state, not in the caller''s variables' {
        $t = Connect-Fake
        Get-Variable -Name CertIntegrationLastCpiConnection -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        # Dot-sourced into the module's own scope: the variable is private to it.
        $inModule = . (Get-Module CertIntegration) { $CertIntegrationLastCpiConnection }
        [object]::ReferenceEquals($inModule, $t) | Should -BeTrue
    }

    It 'shares no connection with another runspace' {
        $null = Connect-Fake
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$ModuleManifest'; Get-CpiKeystoreEntry -ErrorAction Stop").Invoke()
            $ps.HadErrors | Should -BeTrue
            $ps.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'CpiNotConnected,*'
        }
        catch {
            $_.Exception.InnerException.ErrorRecord.FullyQualifiedErrorId | Should -BeLike 'CpiNotConnected,*'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Get-CpiKeystoreEntry' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll { $t = Connect-Fake }

    It 'lists every entry through the __next pages, with Accept: application/json and typed dates' {
        Clear-FakeCpiRequest $tenant
        $entries = @(Get-CpiKeystoreEntry -Connection $t)
        $entries.Alias | Should -Be @('partner_a', 'partner_b', 'partner_c', 'sap_cloudintegrationcertificate')
        $entries[0] | Should -BeOfType ([CertIntegration.CpiKeystoreEntry])
        $sap = $entries | Where-Object Alias -EQ 'sap_cloudintegrationcertificate'
        $sap.Type | Should -Be 'Key Pair'
        $sap.Owner | Should -Be 'SAP'
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.LeafCert)
        $sap.NotAfter | Should -Be $leaf.NotAfter.ToUniversalTime().AddTicks(-($leaf.NotAfter.Ticks % 10000000))
        $sap.NotAfter.Kind | Should -Be 'Utc'
        $sap.DaysRemaining | Should -Be ([int][Math]::Floor(($leaf.NotAfter.ToUniversalTime() - [DateTime]::UtcNow).TotalDays))
        $sap.Hexalias | Should -Be (-join ([Text.Encoding]::UTF8.GetBytes('sap_cloudintegrationcertificate') | ForEach-Object { $_.ToString('x2') }))
        $sap.LastModifiedTime | Should -BeOfType ([DateTimeOffset])
        $sap.Subject | Should -Be $leaf.Subject
        $req = @(Get-FakeCpiRequest $tenant | Where-Object Path -Like '/api/v1/KeystoreEntries*')
        $req.Count | Should -Be 2
        $req[1].Query | Should -Match 'skiptoken=2'
        $req | ForEach-Object { $_.Accept | Should -Match 'application/json' }
    }

    It 'reuses one token for all requests of a connection' {
        Clear-FakeCpiRequest $tenant
        $null = Get-CpiKeystoreEntry -Connection $t
        $null = Get-CpiKeystoreEntry -Connection $t -Alias partner_a
        @(Get-FakeCpiRequest $tenant | Where-Object Path -EQ '/oauth/token').Count | Should -Be 0
    }

    It 'fetches a new token shortly before the old one expires' {
        Set-FakeCpiConfig $tenant @{ tokenLifetime = 60 }
        try {
            $short = Connect-Fake
            Clear-FakeCpiRequest $tenant
            $null = Get-CpiKeystoreEntry -Connection $short -Alias partner_a
            $null = Get-CpiKeystoreEntry -Connection $short -Alias partner_b
            # A 60 s token is inside the 60 s margin at once: each request fetches a new one.
            @(Get-FakeCpiRequest $tenant | Where-Object Path -EQ '/oauth/token').Count | Should -Be 2
        }
        finally { Set-FakeCpiConfig $tenant @{ tokenLifetime = 3600 } }
    }

    It 'fetches a new token once when the tenant no longer takes the old one' {
        $c = Connect-Fake
        Invoke-FakeCpi $tenant POST expire-tokens | Out-Null
        Clear-FakeCpiRequest $tenant
        (Get-CpiKeystoreEntry -Connection $c -Alias partner_a).Alias | Should -Be 'partner_a'
        (Get-FakeCpiRequest $tenant).Status | Should -Be @(401, 200, 200)
    }

    It 'filters by wildcard and reads a single alias by its hex key' {
        (Get-CpiKeystoreEntry -Connection $t -Alias 'partner_[ab]').Alias | Should -Be @('partner_a', 'partner_b')
        Clear-FakeCpiRequest $tenant
        (Get-CpiKeystoreEntry -Connection $t -Alias 'partner_c').Subject | Should -Be 'CN=Partner C Root'
        (Get-FakeCpiRequest $tenant)[0].Path | Should -Be "/api/v1/KeystoreEntries('706172746e65725f63')"
    }

    It 'uses the last connection when -Connection is left out, and reads KeyRenewal' {
        $null = Connect-Fake
        (Get-CpiKeystoreEntry -Keystore KeyRenewal).Alias | Should -Be 'renewed_pair'
        (Get-CpiKeystoreEntry -Keystore KeyRenewal).Keystore | Should -Be 'KeyRenewal'
    }

    It 'reports a missing alias as CpiEntryNotFound and goes on with the next' {
        $err = $null
        $got = Get-CpiKeystoreEntry -Connection $t -Alias 'nope', 'partner_a' -ErrorVariable err -ErrorAction SilentlyContinue
        $got.Alias | Should -Be 'partner_a'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiEntryNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 'nope'
    }

    It 'retries 429 and 503 answers that carry Retry-After, and stops after three' {
        Set-FakeCpiConfig $tenant @{ throttle = 1; unavailable = 1 }
        Clear-FakeCpiRequest $tenant
        (Get-CpiKeystoreEntry -Connection $t -Alias partner_a).Alias | Should -Be 'partner_a'
        (Get-FakeCpiRequest $tenant).Status | Should -Be @(429, 503, 200)
        Set-FakeCpiConfig $tenant @{ throttle = 5 }
        try {
            $err = $null
            $null = Get-CpiKeystoreEntry -Connection $t -Alias partner_a -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiThrottled,*'
            $err[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        }
        finally { Set-FakeCpiConfig $tenant @{ throttle = 0 } }
    }

    It 'renders the table view at 80 columns' {
        $text = Get-CpiKeystoreEntry -Connection $t | Format-Table | Out-String -Width 80
        $text | Should -Match 'Alias'
        $text | Should -Match 'DaysRemaining'
        $text | Should -Match 'partner_a +Certificate +Tenant +\d{4}-\d\d-\d\d +\d+'
        ($text -split "`n" | Where-Object { $_.TrimEnd().Length -gt 80 }) | Should -BeNullOrEmpty
    }
}
