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

Describe 'Get-CpiKeystoreCertificate' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll { $t = Connect-Fake }

    It 'downloads the chain of a key pair (PKCS#7) as a bundle, leaf first, without a key' {
        Clear-FakeCpiRequest $tenant
        $b = Get-CpiKeystoreCertificate -Connection $t -Alias sap_cloudintegrationcertificate
        $b | Should -BeOfType ([CertIntegration.CertificateBundle])
        $b.ChainLength | Should -Be 3
        $b.HasPrivateKey | Should -BeFalse
        $b.Alias | Should -Be 'sap_cloudintegrationcertificate'
        $b.Thumbprint | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.LeafCert).Thumbprint)
        $b.Chain[2].Thumbprint | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert).Thumbprint)
        $req = Get-FakeCpiRequest $tenant
        $req.Path | Should -Contain "/api/v1/KeystoreEntries('7361705f636c6f7564696e746567726174696f6e6365727469666963617465')/ChainResource/`$value"
    }

    It 'writes the receiver''s root and client .cer with Export-CertificateChain' {
        $dest = Join-Path $TestFolder 'receiver'
        $files = Get-CpiKeystoreCertificate -Connection $t -Alias sap_cloudintegrationcertificate | Export-CertificateChain -Destination $dest
        $names = @($files | ForEach-Object Name)
        ($names -like 'leaf-*.cer').Count | Should -Be 1
        ($names -like 'root-*.cer').Count | Should -Be 1
        $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Join-Path $dest ($names -like 'root-*.cer')[0]))
        $root.Thumbprint | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert).Thumbprint)
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Join-Path $dest ($names -like 'leaf-*.cer')[0]))
        $leaf.Thumbprint | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.LeafCert).Thumbprint)
    }

    It 'downloads the certificate of a certificate entry, and takes entries from Get-CpiKeystoreEntry by property' {
        Clear-FakeCpiRequest $tenant
        $bundles = @(Get-CpiKeystoreEntry -Connection $t -Alias 'partner_*' | Get-CpiKeystoreCertificate -Connection $t)
        $bundles.Subject | Should -Be @('CN=Partner A Root', 'CN=Partner B Root', 'CN=Partner C Root')
        (Get-FakeCpiRequest $tenant | Where-Object Path -Like '*/Certificate/$value').Count | Should -Be 3
    }

    It 'reads a renewed key pair from KeyRenewal when the entry says so' {
        Clear-FakeCpiRequest $tenant
        $b = Get-CpiKeystoreEntry -Connection $t -Keystore KeyRenewal | Get-CpiKeystoreCertificate -Connection $t
        $b.ChainLength | Should -Be 3
        (Get-FakeCpiRequest $tenant).Query | Should -Contain '?keystoreName=KeyRenewal'
    }

    It 'reports an alias that does not exist as CpiEntryNotFound with the server''s message' {
        $err = $null
        $null = Get-CpiKeystoreCertificate -Connection $t -Alias 'no_such_entry' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiEntryNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].Exception.Message | Should -Match 'HTTP 404'
        $err[0].Exception.Message | Should -Match "alias 'no_such_entry' not found in keystore 'system'"
        $err[0].TargetObject | Should -Be 'no_such_entry'
    }
}

Describe 'Add-CpiKeystoreEntry' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll {
        $t = Connect-Fake
        $newRoot = New-TestRootCertificate -CommonName 'Partner New Root'
        $derOf = { param($path) [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($path).RawData }
    }

    AfterEach { Set-FakeCpiConfig $tenant @{ locked = $false; full = $false; readOnly = $false } }

    It 'sends exactly the documented certificate upload, with the CSRF token and the session cookie' {
        Clear-FakeCpiRequest $tenant
        $entry = Import-CertificateBundle $newRoot.Cert | Add-CpiKeystoreEntry -Connection $t -Alias partner_root
        $entry | Should -BeOfType ([CertIntegration.CpiKeystoreEntry])
        $entry.Alias | Should -Be 'partner_root'
        $entry.Subject | Should -Be 'CN=Partner New Root'
        $put = @(Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'PUT')
        $put.Count | Should -Be 1
        $put[0].Path | Should -Be "/api/v1/CertificateResources('706172746e65725f726f6f74')/`$value"
        $put[0].Query | Should -Be '?fingerprintVerified=false&update=false&returnKeystoreEntries=false'
        $put[0].ContentType | Should -Be 'application/pkix-cert'
        [Convert]::FromBase64String($put[0].BodyBase64) | Should -Be (& $derOf $newRoot.Cert)
        $put[0].CsrfToken | Should -Not -BeNullOrEmpty
        $put[0].HasCookie | Should -BeTrue
        $put[0].Authorization | Should -Be 'Bearer'
        $put[0].Status | Should -Be 201
        $fetch = @(Get-FakeCpiRequest $tenant | Where-Object { $_.Method -eq 'GET' -and $_.Path -eq '/api/v1/' })
        $fetch[0].CsrfToken | Should -Be 'Fetch'
    }

    It 'does not replace an entry without -Force (400, with the server''s message), and replaces it with -Force' {
        $err = $null
        $null = Import-CertificateBundle $partnerA.Cert | Add-CpiKeystoreEntry -Connection $t -Alias partner_root -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiBadRequest,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].Exception.Message | Should -Match "exists already"
        $err[0].Exception.Message | Should -Match '-Force'
        Clear-FakeCpiRequest $tenant
        (Import-CertificateBundle $partnerA.Cert | Add-CpiKeystoreEntry -Connection $t -Alias partner_root -Force).Subject | Should -Be 'CN=Partner A Root'
        (Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'PUT').Query | Should -Match 'update=true'
    }

    It 'reports 400 for -Force on an entry that does not exist' {
        $err = $null
        $null = Import-CertificateBundle $partnerA.Cert | Add-CpiKeystoreEntry -Connection $t -Alias not_there_yet -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiBadRequest,*'
        $err[0].Exception.Message | Should -Match 'does not exist'
    }

    It 'reports 409 for a certificate whose trust path the tenant cannot build, and uploads it with -FingerprintVerified' {
        $err = $null
        $null = Import-CertificateBundle $pki.LeafCert | Add-CpiKeystoreEntry -Connection $t -Alias partner_leaf -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiTrustPathNotEstablished,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -Match 'HTTP 409'
        $err[0].Exception.Message | Should -Match 'could not be established'
        $err[0].Exception.Message | Should -Match '-FingerprintVerified'
        Clear-FakeCpiRequest $tenant
        (Import-CertificateBundle $pki.LeafCert | Add-CpiKeystoreEntry -Connection $t -Alias partner_leaf -FingerprintVerified).Alias | Should -Be 'partner_leaf'
        (Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'PUT').Query | Should -Match 'fingerprintVerified=true'
    }

    It 'refuses reserved aliases and bad aliases before any request' -ForEach @(
        @{ Alias = 'sap_partner'; Id = 'KeystoreAliasReserved' }
        @{ Alias = 'SAP_Partner'; Id = 'KeystoreAliasReserved' }
        @{ Alias = 'hcicertificate1'; Id = 'KeystoreAliasReserved' }
        @{ Alias = 'HCIMSGCERTIFICATE_x'; Id = 'KeystoreAliasReserved' }
        @{ Alias = ('a' * 251); Id = 'KeystoreAliasTooLong' }
        @{ Alias = 'bad/alias'; Id = 'KeystoreAliasInvalid' }
    ) {
        Clear-FakeCpiRequest $tenant
        $err = $null
        $null = Import-CertificateBundle $newRoot.Cert | Add-CpiKeystoreEntry -Connection $t -Alias $Alias -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }

    It 'refuses a certificate over 10 kB and a key pair over 30,072 bytes before any request' {
        $big = Join-Path $TestFolder 'big'
        $comment = 'x' * 31000
        $null = Invoke-OpenSsl @('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', "$big.key",
            '-out', "$big.crt", '-days', '5', '-subj', '/CN=Big Certificate', '-addext', "nsComment=$comment")
        Get-Content "$big.crt", "$big.key" | Set-Content "$big.pem"
        $bundle = Import-CertificateBundle "$big.pem"
        $bundle.HasPrivateKey | Should -BeTrue
        Clear-FakeCpiRequest $tenant
        $err = $null
        $null = Add-CpiKeystoreEntry -Connection $t -InputObject $bundle -Alias big_cert -CertificateOnly -ErrorVariable err -ErrorAction SilentlyContinue
        $null = Add-CpiKeystoreEntry -Connection $t -InputObject $bundle -Alias big_pair -ErrorVariable +err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 2
        $err | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'CpiPayloadTooLarge,*' }
        $err[0].Exception.Message | Should -Match '10240 bytes'
        $err[1].Exception.Message | Should -Match '30072'
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }

    It 'reports 403 when the role is missing, 413 for a full keystore and 503 for a locked one, quoting the tenant' -ForEach @(
        @{ Flag = 'readOnly'; Id = 'CpiForbidden'; Category = 'PermissionDenied'; Said = 'SecurityMaterialEdit' }
        @{ Flag = 'full'; Id = 'CpiPayloadTooLarge'; Category = 'LimitsExceeded'; Said = 'maximum size' }
        @{ Flag = 'locked'; Id = 'CpiUnavailable'; Category = 'ConnectionError'; Said = 'locked by another operation' }
    ) {
        Set-FakeCpiConfig $tenant @{ $Flag = $true }
        $err = $null
        $null = Import-CertificateBundle $partnerB.Cert | Add-CpiKeystoreEntry -Connection $t -Alias "status_$Flag" -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err[0].CategoryInfo.Category | Should -Be $Category
        $err[0].Exception.Message | Should -Match $Said
    }

    It 'fetches the CSRF token again once when the tenant answers 403 X-CSRF-Token: Required' {
        $null = Import-CertificateBundle $partnerB.Cert | Add-CpiKeystoreEntry -Connection $t -Alias csrf_one
        Invoke-FakeCpi $tenant POST expire-csrf | Out-Null
        Clear-FakeCpiRequest $tenant
        (Import-CertificateBundle $partnerB.Cert | Add-CpiKeystoreEntry -Connection $t -Alias csrf_two).Alias | Should -Be 'csrf_two'
        $req = Get-FakeCpiRequest $tenant
        ($req | ForEach-Object { "$($_.Method) $($_.Status)" }) | Should -Be @('PUT 403', 'GET 200', 'PUT 201')
        $req[2].CsrfToken | Should -Not -Be $req[0].CsrfToken
    }

    It 'sends nothing with -WhatIf' {
        Clear-FakeCpiRequest $tenant
        $out = Import-CertificateBundle $newRoot.Cert | Add-CpiKeystoreEntry -Connection $t -Alias whatif_root -WhatIf
        $out | Should -BeNullOrEmpty
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }

    It 'takes an X509Certificate2 and makes the alias from its common name' {
        $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($partnerC.Cert)
        (Add-CpiKeystoreEntry -Connection $t -InputObject $cert).Alias | Should -Be 'partner-c-root'
    }

    It 'imports a key pair as the documented JSON, under a one-time password that appears in no stream' {
        $bundle = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'pair-key.json' -Pki $pki)
        Clear-FakeCpiRequest $tenant
        $out = $bundle | Add-CpiKeystoreEntry -Connection $t -Alias my_client_key -Verbose -Debug *>&1
        $entry = $out | Where-Object { $_ -is [CertIntegration.CpiKeystoreEntry] }
        $entry.Type | Should -Be 'Key Pair'
        $post = @(Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'POST')
        $post.Count | Should -Be 1
        $post[0].Path | Should -Be '/api/v1/KeyPairResources'
        $post[0].Query | Should -Match '^\?update=false'
        $post[0].ContentType | Should -Be 'application/json'
        $body = $post[0].Body | ConvertFrom-Json
        @($body.PSObject.Properties.Name) | Should -Be @('Hexalias', 'Alias', 'Password', 'Resource')
        $body.Alias | Should -Be 'my_client_key'
        $body.Hexalias | Should -Be '6d795f636c69656e745f6b6579'
        $body.Password.Length | Should -BeGreaterOrEqual 24
        $p12 = [Convert]::FromBase64String($body.Resource)
        $col = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12Collection($p12, $body.Password)
        ($col | Where-Object HasPrivateKey).Thumbprint | Should -Be $bundle.Thumbprint
        $col.Count | Should -Be 3
        $text = (ConvertTo-AllText $out) -join "`n"
        $text | Should -Match 'KeyPairResources'
        $text | Should -Not -Match ([regex]::Escape($body.Password))
    }

    It 'uses a new password for every key pair' {
        $bundle = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'pair-key2.json' -Pki $pki)
        Clear-FakeCpiRequest $tenant
        $null = $bundle | Add-CpiKeystoreEntry -Connection $t -Alias pair_one
        $null = $bundle | Add-CpiKeystoreEntry -Connection $t -Alias pair_two
        $bodies = Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'POST' | ForEach-Object { $_.Body | ConvertFrom-Json }
        $bodies.Count | Should -Be 2
        $bodies[0].Password | Should -Not -Be $bodies[1].Password
    }

    It 'uploads only the certificate of a bundle with a key when -CertificateOnly is given' {
        $bundle = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'pair-key3.json' -Pki $pki)
        Clear-FakeCpiRequest $tenant
        (Add-CpiKeystoreEntry -Connection $t -InputObject $bundle -Alias only_cert -CertificateOnly -FingerprintVerified).Type | Should -Be 'Certificate'
        @(Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'PUT').Count | Should -Be 1
    }
}

Describe 'Remove-CpiKeystoreEntry' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll {
        $t = Connect-Fake
        $gone = New-TestRootCertificate -CommonName 'To Be Removed'
    }

    AfterEach { Set-FakeCpiConfig $tenant @{ locked = $false } }

    It 'deletes an entry (204) by its hex key' {
        Add-FakeCpiEntry $tenant -Alias 'old_partner_root' -PemFile $gone.Cert
        Clear-FakeCpiRequest $tenant
        Remove-CpiKeystoreEntry -Connection $t -Alias old_partner_root -Confirm:$false | Should -BeNullOrEmpty
        $del = Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'DELETE'
        $del.Path | Should -Be "/api/v1/KeystoreEntries('6f6c645f706172746e65725f726f6f74')"
        $del.Status | Should -Be 204
        $del.CsrfToken | Should -Not -BeNullOrEmpty
        $err = $null
        $null = Get-CpiKeystoreEntry -Connection $t -Alias old_partner_root -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiEntryNotFound,*'
    }

    It 'takes entries from Get-CpiKeystoreEntry by property' {
        Add-FakeCpiEntry $tenant -Alias 'pipe_gone_1' -PemFile $gone.Cert
        Add-FakeCpiEntry $tenant -Alias 'pipe_gone_2' -PemFile $gone.Cert
        Get-CpiKeystoreEntry -Connection $t -Alias 'pipe_gone_*' | Remove-CpiKeystoreEntry -Connection $t -Confirm:$false
        @(Get-CpiKeystoreEntry -Connection $t -Alias 'pipe_gone_*').Count | Should -Be 0
    }

    It 'reports 404 with the tenant''s message' {
        $err = $null
        Remove-CpiKeystoreEntry -Connection $t -Alias never_there -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiEntryNotFound,*'
        $err[0].Exception.Message | Should -Match "alias 'never_there' not found"
    }

    It 'reports 503 for a locked keystore' {
        Add-FakeCpiEntry $tenant -Alias 'locked_one' -PemFile $gone.Cert
        Set-FakeCpiConfig $tenant @{ locked = $true }
        $err = $null
        Remove-CpiKeystoreEntry -Connection $t -Alias locked_one -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiUnavailable,*'
        $err[0].Exception.Message | Should -Match 'locked'
    }

    It 'refuses SAP''s entries before any request' {
        Clear-FakeCpiRequest $tenant
        $err = $null
        Remove-CpiKeystoreEntry -Connection $t -Alias sap_cloudintegrationcertificate -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'KeystoreAliasReserved,*'
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }

    It 'sends nothing with -WhatIf and is ConfirmImpact High' {
        Add-FakeCpiEntry $tenant -Alias 'kept_root' -PemFile $gone.Cert
        Clear-FakeCpiRequest $tenant
        Remove-CpiKeystoreEntry -Connection $t -Alias kept_root -WhatIf
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
        $meta = [System.Management.Automation.CommandMetadata]::new((Get-Command Remove-CpiKeystoreEntry))
        $meta.ConfirmImpact | Should -Be 'High'
        (Get-CpiKeystoreEntry -Connection $t -Alias kept_root).Alias | Should -Be 'kept_root'
    }
}

Describe 'Import-CpiKeystore' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll {
        $t = Connect-Fake
        $pw = ConvertTo-SecureString 'jks-pass-123' -AsPlainText -Force
        $j1 = New-TestRootCertificate -CommonName 'Jks One'
        $j2 = New-TestRootCertificate -CommonName 'Jks Two'
        $jks = Join-Path $TestFolder 'partners.jks'
        Import-CertificateBundle $j1.Cert, $j2.Cert | Export-Keystore -OutFile $jks -Format Jks -Password $pw
    }

    AfterEach { Set-FakeCpiConfig $tenant @{ locked = $false } }

    It 'merges a JKS of Export-Keystore as the documented request and returns the per-entry statuses' {
        Clear-FakeCpiRequest $tenant
        $results = @(Import-CpiKeystore -Connection $t -Path $jks -Password $pw -Confirm:$false)
        $results | Should -HaveCount 2
        $results[0] | Should -BeOfType ([CertIntegration.CpiKeystoreImportResult])
        ($results.Alias | Sort-Object) | Should -Be @('jks-one', 'jks-two')
        $results.Status | Should -Be @('new', 'new')
        $post = Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'POST'
        $post.Path | Should -Be '/api/v1/KeystoreResources'
        $post.Query | Should -Match '^\?importOption=merge'
        $body = $post.Body | ConvertFrom-Json
        $body.Name | Should -Be 'system'
        $body.Password | Should -Be 'jks-pass-123'
        [Convert]::FromBase64String($body.Resource) | Should -Be ([System.IO.File]::ReadAllBytes($jks))
        (Get-CpiKeystoreEntry -Connection $t -Alias 'jks-one').Subject | Should -Be 'CN=Jks One'
        @(Import-CpiKeystore -Connection $t -Path $jks -Password $pw -Confirm:$false).Status | Should -Be @('unchanged', 'unchanged')
    }

    It 'passes -Mode as importOption' {
        Clear-FakeCpiRequest $tenant
        $null = Import-CpiKeystore -Connection $t -Path $jks -Password $pw -Mode Overwrite -Confirm:$false
        (Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'POST').Query | Should -Match 'importOption=overwrite'
    }

    It 'refuses a file that is not a JKS before any request' {
        Clear-FakeCpiRequest $tenant
        $err = $null
        Import-CpiKeystore -Connection $t -Path $pki.RootCert -Password $pw -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiKeystoreInputInvalid,*'
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }

    It 'refuses a keystore over 2 MB before any request' {
        $big = Join-Path $TestFolder 'big.jks'
        $bytes = [byte[]]::new(2000001); $bytes[0] = 0xFE; $bytes[1] = 0xED; $bytes[2] = 0xFE; $bytes[3] = 0xED
        [System.IO.File]::WriteAllBytes($big, $bytes)
        Clear-FakeCpiRequest $tenant
        $err = $null
        Import-CpiKeystore -Connection $t -Path $big -Password $pw -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiPayloadTooLarge,*'
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }

    It 'reports 415 for a keystore the tenant cannot read, with its message' {
        $broken = Join-Path $TestFolder 'broken.jks'
        [System.IO.File]::WriteAllBytes($broken, [byte[]](0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 9, 1, 2, 3))
        $err = $null
        Import-CpiKeystore -Connection $t -Path $broken -Password $pw -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiUnsupportedFormat,*'
        $err[0].Exception.Message | Should -Match 'not a JKS keystore'
    }

    It 'sends nothing with -WhatIf' {
        Clear-FakeCpiRequest $tenant
        Import-CpiKeystore -Connection $t -Path $jks -Password $pw -Mode Replace -WhatIf
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
    }
}

Describe 'Enable-CpiKeystoreEntry' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll {
        $t = Connect-Fake
        $renewed = New-TestRootCertificate -CommonName 'Renewed Pair'
    }

    It 'activates a renewed entry with DELETE ?keystoreName=KeyRenewal&activate=true' {
        Add-FakeCpiEntry $tenant -Alias 'rotate_me' -PemFile $renewed.Cert -Type 'Key Pair' -Keystore KeyRenewal
        Clear-FakeCpiRequest $tenant
        $entry = Get-CpiKeystoreEntry -Connection $t -Keystore KeyRenewal -Alias rotate_me | Enable-CpiKeystoreEntry -Connection $t -PassThru -Confirm:$false
        $entry.Keystore | Should -Be 'system'
        $entry.Subject | Should -Be 'CN=Renewed Pair'
        $del = Get-FakeCpiRequest $tenant | Where-Object Method -EQ 'DELETE'
        $del.Path | Should -Be "/api/v1/KeystoreEntries('726f746174655f6d65')"
        $del.Query | Should -Be '?keystoreName=KeyRenewal&activate=true'
        $del.Status | Should -Be 204
    }

    It 'reports an entry not in KeyRenewal as CpiEntryNotFound, and sends nothing with -WhatIf' {
        $err = $null
        Enable-CpiKeystoreEntry -Connection $t -Alias not_renewed -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CpiEntryNotFound,*'
        Clear-FakeCpiRequest $tenant
        Enable-CpiKeystoreEntry -Connection $t -Alias renewed_pair -WhatIf
        @(Get-FakeCpiRequest $tenant).Count | Should -Be 0
        ([System.Management.Automation.CommandMetadata]::new((Get-Command Enable-CpiKeystoreEntry))).ConfirmImpact | Should -Be 'High'
    }
}

Describe 'Secrets in streams' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    It 'never writes the token, the client secret or the CSRF token to any stream, even with -Verbose and -Debug' {
        Clear-FakeCpiRequest $tenant
        $out = @(
            Connect-CpiTenant -ServiceKey $tenant.ServiceKey -TrustedCertificate $tenant.TrustedCertificate -Verbose -Debug *>&1
            Get-CpiKeystoreEntry -Verbose -Debug *>&1
            Import-CertificateBundle $partnerA.Cert | Add-CpiKeystoreEntry -Alias secret_check -Verbose -Debug *>&1
            Import-CertificateBundle $partnerA.Cert | Add-CpiKeystoreEntry -Alias secret_check -Verbose -Debug -ErrorAction Continue *>&1
        )
        $text = (ConvertTo-AllText $out) -join "`n"
        $text | Should -Match 'POST https://\S+/oauth/token'
        $text | Should -Match 'X-CSRF-Token: Fetch'
        ($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count | Should -BeGreaterThan 0
        $text | Should -Not -Match ([regex]::Escape($tenant.ClientSecret))
        $text | Should -Not -Match 'fake\.[0-9a-f]{32}'
        $csrf = @(Get-FakeCpiRequest $tenant | Where-Object { $_.Method -ne 'GET' -and $_.CsrfToken } | ForEach-Object CsrfToken)
        $csrf.Count | Should -BeGreaterThan 0
        foreach ($c in $csrf) { $text | Should -Not -Match ([regex]::Escape($c)) }
    }
}

Describe 'Connect-CpiTenant with a certificate key of the api plan' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    It 'gets the token over mTLS with the certificate, sending no secret' {
        $key = New-TestServiceKey -Name 'api-cert-key.json' -Pki $pki -ClientId $tenant.ClientId -Url $tenant.Url -TokenUrl "$($tenant.Url)/oauth/token"
        Clear-FakeCpiRequest $tenant
        $c = Connect-CpiTenant -ServiceKey $key -TrustedCertificate $tenant.TrustedCertificate
        $c.Authentication | Should -Be 'Certificate'
        $token = Get-FakeCpiRequest $tenant | Where-Object Path -EQ '/oauth/token'
        $token.ClientCertificate | Should -Be ([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.LeafCert).Subject)
        $token.Body | Should -Not -Match 'client_secret'
        $token.Status | Should -Be 200
        (Get-CpiKeystoreEntry -Connection $c -Alias partner_a).Alias | Should -Be 'partner_a'
    }
}
