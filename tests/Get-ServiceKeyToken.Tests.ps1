#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Get-ServiceKeyToken against a fake token endpoint on 127.0.0.1 (tests/support/FakeTokenServer.cs): TLS that asks
    for a client certificate and accepts it only when the chain the client sent ends in the test root, a form body
    checked for grant_type and client_id, JSON answers. Success, invalid_client, no certificate, an untrusted server, a
    server that refuses the client certificate, the .authentication. -> .authentication.cert. rule (through the fake's
    CONNECT, so no DNS is needed), answers that are no token, and a search of every stream for the token.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the Get-ServiceKeyToken tests are skipped (they make their test certificates with openssl).'
    }
    # SslStream's server options and SslStreamCertificateContext (the fake) exist on PowerShell 7 only.
    $haveCore = $PSVersionTable.PSEdition -eq 'Core'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($PSVersionTable.PSEdition -eq 'Core' -and -not ('CertIntegrationTests.FakeTokenServer' -as [type])) {
        Add-Type -Path (Join-Path $PSScriptRoot 'support/FakeTokenServer.cs') -WarningAction SilentlyContinue
    }

    $clientId = 'sb-pester-client!b1|it-rt-pester!b2'
    $certHost = 'pester.authentication.cert.eu10.hana.ondemand.com'
    $plainHost = 'pester.authentication.eu10.hana.ondemand.com'

    # A server certificate for 127.0.0.1, localhost and the certificate host, issued by the test intermediate.
    function New-TokenServerCertificate {
        param([Parameter(Mandatory)] $Pki)
        $ext = Join-Path $TestFolder 'token-server.ext'
        @(
            'basicConstraints = CA:FALSE'
            'keyUsage = critical,digitalSignature,keyEncipherment'
            'extendedKeyUsage = serverAuth'
            "subjectAltName = DNS:localhost,IP:127.0.0.1,DNS:$certHost"
        ) | Set-Content -LiteralPath $ext -Encoding Ascii
        $key = Join-Path $TestFolder 'token-server.key'; $csr = Join-Path $TestFolder 'token-server.csr'; $crt = Join-Path $TestFolder 'token-server.crt'
        $null = Invoke-OpenSsl @('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $key, '-out', $csr, '-subj', '/CN=token server')
        $null = Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-CA', $Pki.IntermediateCert, '-CAkey', $Pki.IntermediateKey, '-set_serial', '0x5eed1234',
            '-out', $crt, '-days', '2', '-extfile', $ext)
        $pem = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile($crt, $key)
        # Through PKCS#12, so that the key is one SslStream can use on every platform.
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pem.Export('Pfx'))
    }

    function New-FakeTokenServer {
        param([Parameter(Mandatory)] $Pki, [string] $ClientRootFile = $Pki.RootCert)
        $intermediate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($Pki.IntermediateCert)
        $clientRoot = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($ClientRootFile)
        $fake = [CertIntegrationTests.FakeTokenServer]::new($script:serverCertificate, @($intermediate), $clientRoot)
        $fake.ExpectedClientId = $clientId
        $fake.Token = 'eyJ0eXAiOiJKV1QifQ.pester-' + [guid]::NewGuid().ToString('N') + '.sig'
        $fake
    }

    # Every record of every stream as text, errors with their exception chain and target.
    function ConvertTo-StreamText {
        param([object[]] $Records)
        foreach ($r in $Records) {
            if ($r -is [System.Management.Automation.ErrorRecord]) {
                "$r"; $r.Exception.ToString(); "$($r.TargetObject)"; $r.ErrorDetails.Message
            }
            else {
                ($r | Out-String -Width 400)
            }
        }
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Get-ServiceKeyToken against a token server that requires the client certificate' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll {
        $pki = Get-TestPki
        $script:serverCertificate = New-TokenServerCertificate -Pki $pki
        $keyFile = New-TestServiceKey -Name 'token-key.json' -Pki $pki -ClientId $clientId
        $bundle = ConvertFrom-ServiceKey -LiteralPath $keyFile
        $fake = New-FakeTokenServer -Pki $pki
    }

    AfterAll {
        if ($fake) { $fake.Dispose() }
    }

    BeforeEach {
        $fake.Requests.Clear()
        $fake.RequestClientCertificate = $true
        $fake.Answer = 'token'
    }

    It 'gets the token: form POST with grant_type and client_id, the leaf and its intermediate sent, a typed result' {
        $before = [DateTimeOffset]::UtcNow
        $t = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert
        $after = [DateTimeOffset]::UtcNow

        $t | Should -BeOfType ([CertIntegration.ServiceKeyToken])
        $t.AccessToken | Should -BeOfType ([System.Security.SecureString])
        [System.Net.NetworkCredential]::new('', $t.AccessToken).Password | Should -BeExactly $fake.Token
        $t.TokenType | Should -Be 'bearer'
        $t.Scope | Should -Be 'uaa.resource it-rt.ESBMessaging.send'
        $t.ClientId | Should -BeExactly $clientId
        $t.TokenUrl | Should -Be ([uri]$fake.Url)
        $t.ExpiresOn.Offset | Should -Be ([TimeSpan]::Zero)
        $t.ExpiresOn | Should -BeGreaterOrEqual $before.AddSeconds(3599)
        $t.ExpiresOn | Should -BeLessOrEqual $after.AddSeconds(3599)

        $r = @($fake.RequestList())
        $r.Count | Should -Be 1
        $r[0].Method | Should -Be 'POST'
        $r[0].Path | Should -Be '/oauth/token'
        $r[0].ContentType | Should -Match '^application/x-www-form-urlencoded'
        $r[0].GrantType | Should -BeExactly 'client_credentials'
        $r[0].ClientId | Should -BeExactly $clientId
        $r[0].ClientCertificateSubject | Should -Be 'CN=Pester Client'
        $r[0].ClientCertificatesSent | Should -Be 2 -Because 'the server trusts only the root: the intermediate must come with the leaf'
    }

    It 'returns the token as a string with -AsPlainText' {
        $t = Get-ServiceKeyToken -InputObject $bundle -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -AsPlainText
        $t.AccessToken | Should -BeOfType ([string])
        $t.AccessToken | Should -BeExactly $fake.Token
    }

    It 'shows type, client and expiry in its default view, never the token' {
        $t = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert
        $table = $t | Out-String -Width 80
        $table | Should -Match 'bearer'
        $table | Should -Match ([regex]::Escape('sb-pester-client'))
        $table | Should -Not -Match ([regex]::Escape($fake.Token))
        ($t | Format-List | Out-String) | Should -Not -Match ([regex]::Escape($fake.Token))
        "$t" | Should -Not -Match ([regex]::Escape($fake.Token))
        ($t | ConvertTo-Json -Depth 3) | Should -Not -Match ([regex]::Escape($fake.Token))
    }

    It 'says invalid_client with the likely cause when the client id is not the one of the certificate' {
        $t = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -ClientId 'sb-other!b9' -ErrorVariable err -ErrorAction SilentlyContinue
        $t | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'TokenInvalidClient,CertIntegration.Commands.GetServiceKeyTokenCommand'
        $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err[0].Exception.Message | Should -Match 'error "invalid_client": "Bad credentials"'
        $err[0].Exception.Message | Should -Match 'not the one of this service key'
        $err[0].TargetObject | Should -Be $bundle
        $fake.RequestList()[0].ClientId | Should -BeExactly 'sb-other!b9'
    }

    It 'says TokenUnauthorized, naming the certificate host, when the server did not get a client certificate' {
        $fake.RequestClientCertificate = $false
        $null = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TokenUnauthorized,*'
        $err[0].Exception.Message | Should -Match 'HTTP 401'
        $err[0].Exception.Message | Should -Match 'error "unauthorized": "Full authentication is required'
        $err[0].Exception.Message | Should -Match ([regex]::Escape('.authentication.cert.'))
        $fake.RequestList()[0].ClientCertificateSubject | Should -BeNullOrEmpty
    }

    It 'refuses a token server whose certificate is not trusted: no request, client id or token goes to it' {
        $null = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TokenServerCertificateUntrusted,*'
        $err[0].Exception.Message | Should -Match 'UntrustedRoot|PartialChain'
        $err[0].Exception.Message | Should -Match '-TrustedCertificate'
        $r = @($fake.RequestList())
        $r[0].Method | Should -BeNullOrEmpty -Because 'no HTTP request may follow an untrusted server certificate'
        $r[0].ClientId | Should -BeNullOrEmpty
        # With TLS 1.3 the (public) client certificate goes out before .NET validates the server's: see README, Known limits.
    }

    It 'says TokenAnswerNotJson for a login page and TokenAnswerNoAccessToken for JSON without a token' {
        $fake.Answer = 'html'
        $null = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TokenAnswerNotJson,*'
        $err[0].Exception.Message | Should -Match 'HTTP 200'
        $err[0].Exception.Message | Should -Match 'text/html'
        $err[0].Exception.Message | Should -Match '/oauth/token'

        $fake.Answer = 'no-token'
        $null = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'TokenAnswerNoAccessToken,*'
        $err2[0].Exception.Message | Should -Match 'its fields: token_type, expires_in'
    }

    It 'moves the plain .authentication. host to .authentication.cert. and says so in verbose' {
        # The fake answers CONNECT as a proxy to itself: the host name is never resolved.
        $plainUrl = "https://${plainHost}:$($fake.Port)/oauth/token"
        $out = $bundle | Get-ServiceKeyToken -TokenUrl $plainUrl -TrustedCertificate $pki.RootCert -Proxy $fake.ProxyUrl -Verbose 4>&1
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $token = @($out | Where-Object { $_ -is [CertIntegration.ServiceKeyToken] })
        ($verbose -join "`n") | Should -Match ([regex]::Escape("'$plainHost' is SAP's plain token host")) 
        ($verbose -join "`n") | Should -Match ([regex]::Escape("using the certificate host '$certHost'"))
        $token.Count | Should -Be 1
        $token[0].TokenUrl.Host | Should -Be $certHost
        $r = @($fake.RequestList())
        $r[0].ConnectTarget | Should -Be "${certHost}:$($fake.Port)"
        $r[0].Host | Should -Be "${certHost}:$($fake.Port)"
        $r[0].ClientId | Should -BeExactly $clientId
    }

    It 'keeps a token URL that is on the certificate host already' {
        $certUrl = "https://${certHost}:$($fake.Port)/oauth/token"
        $out = $bundle | Get-ServiceKeyToken -TokenUrl $certUrl -TrustedCertificate $pki.RootCert -Proxy $fake.ProxyUrl -Verbose 4>&1
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) -join "`n" | Should -Not -Match 'plain token host'
        @($fake.RequestList())[0].ConnectTarget | Should -Be "${certHost}:$($fake.Port)"
    }

    It 'never shows the token in any stream, with -Verbose and -Debug, on success and on failure' {
        $records = & {
            $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -Verbose -Debug
            $bundle | Get-ServiceKeyToken -TokenUrl "https://${plainHost}:$($fake.Port)/oauth/token" -TrustedCertificate $pki.RootCert -Proxy $fake.ProxyUrl -Verbose -Debug
            $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -ClientId 'wrong' -Verbose -Debug -ErrorAction Continue
            $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -Verbose -Debug -ErrorAction Continue
        } *>&1
        $tokens = @($records | Where-Object { $_ -is [CertIntegration.ServiceKeyToken] })
        $tokens.Count | Should -Be 2 -Because 'the token was fetched, so the search below looks at real output'
        @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Count | Should -BeGreaterThan 3
        @($records | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count | Should -Be 2
        $text = (ConvertTo-StreamText -Records $records) -join "`n"
        $text | Should -Not -Match ([regex]::Escape($fake.Token))
        $text | Should -Not -Match 'pester-[0-9a-f]{32}'
    }

    It 'writes results in input order and goes on after a failing bundle' {
        $noKey = Import-CertificateBundle -LiteralPath $pki.LeafCert
        $out = @($bundle, $noKey, $bundle) | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -ClientId $clientId -ErrorVariable err -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 2
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BundleHasNoPrivateKey,*'
    }
}

Describe 'Get-ServiceKeyToken when the server refuses the client certificate' -Skip:(-not $haveOpenSsl -or -not $haveCore) {
    BeforeAll {
        $pki = Get-TestPki
        $script:serverCertificate = New-TokenServerCertificate -Pki $pki
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'refused-key.json' -Pki $pki -ClientId $clientId)
        # This server trusts another root only, so our chain fails its check in the handshake.
        $otherRoot = New-TestRootCertificate -CommonName 'Pester Other Client Root'
        $fake = New-FakeTokenServer -Pki $pki -ClientRootFile $otherRoot.Cert
    }

    AfterAll {
        if ($fake) { $fake.Dispose() }
    }

    It 'says TlsHandshakeFailed with the likely cause' {
        $null = $bundle | Get-ServiceKeyToken -TokenUrl $fake.Url -TrustedCertificate $pki.RootCert -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TlsHandshakeFailed,*'
        $err[0].Exception.Message | Should -Match 'refused the client certificate'
        $r = @($fake.RequestList())
        $r[0].ClientCertificateSubject | Should -Be 'CN=Pester Client'
        $r[0].HandshakeError | Should -Not -BeNullOrEmpty
        $r[0].Method | Should -BeNullOrEmpty
    }
}

Describe 'Get-ServiceKeyToken input and connection errors' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $bundle = ConvertFrom-ServiceKey -LiteralPath (New-TestServiceKey -Name 'errors-key.json' -Pki $pki -ClientId $clientId)
        $pemBundle = Import-CertificateBundle -LiteralPath $pki.LeafCert -KeyPath $pki.LeafKey
    }

    It 'says TokenClientIdMissing and TokenUrlMissing for a bundle that did not come from a service key' {
        $null = $pemBundle | Get-ServiceKeyToken -TokenUrl 'https://127.0.0.1:9/oauth/token' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TokenClientIdMissing,*'
        $err[0].Exception.Message | Should -Match '-ClientId'
        $null = $pemBundle | Get-ServiceKeyToken -ClientId 'x' -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'TokenUrlMissing,*'
        $err2[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'refuses an http:// token URL (UriNotHttps)' {
        $null = $bundle | Get-ServiceKeyToken -TokenUrl 'http://127.0.0.1:9/oauth/token' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'UriNotHttps,*'
    }

    It 'says ServerUnreachable for a host that DNS does not know and for a refused connection' {
        $null = $bundle | Get-ServiceKeyToken -TokenUrl 'https://pester.authentication.cert.example.invalid/oauth/token' -TimeoutSec 20 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ServerUnreachable,*'
        $err[0].Exception.Message | Should -Match 'DNS'
        $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'

        $port = Get-FreeTcpPort
        $null = $bundle | Get-ServiceKeyToken -TokenUrl "https://127.0.0.1:$port/oauth/token" -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'ServerUnreachable,*'
        $err2[0].Exception.Message | Should -Match 'refused'
    }

    It 'says TokenRequestTimedOut when the server never answers within -TimeoutSec' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $null = $bundle | Get-ServiceKeyToken -TokenUrl "https://127.0.0.1:$port/oauth/token" -TimeoutSec 1 -ErrorVariable err -ErrorAction SilentlyContinue
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 15
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TokenRequestTimedOut,*'
            $err[0].Exception.Message | Should -Match '-TimeoutSec'
        }
        finally {
            $listener.Stop()
        }
    }

    It 'stops before any request for -ProxyCredential without -Proxy (ParameterConflict)' {
        $cred = [pscredential]::new('u', (ConvertTo-SecureString 'p' -AsPlainText -Force))
        { $bundle | Get-ServiceKeyToken -ProxyCredential $cred -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterConflict,CertIntegration.Commands.GetServiceKeyTokenCommand'
    }

    It 'has examples that parse' {
        $help = Get-Help Get-ServiceKeyToken -Full
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
        foreach ($example in $help.examples.example) {
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput("$($example.code)", [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty
        }
    }
}
