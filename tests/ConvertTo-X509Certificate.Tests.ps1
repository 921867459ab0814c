#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    ConvertTo-X509Certificate through the built module: the X509Certificate2 it returns holds the bundle's key, and
    Invoke-RestMethod / Invoke-WebRequest authenticate with it against openssl s_server on 127.0.0.1, which requires
    and verifies a client certificate. The test certificates and the server come from openssl; without it the tests
    are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the ConvertTo-X509Certificate tests are skipped (they make their test certificates and TLS server with openssl).'
    }
    # SocketsHttpHandler and SslStreamCertificateContext exist on PowerShell 7 only.
    $haveHttpClientChain = $PSVersionTable.PSEdition -eq 'Core'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $keyFile = New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki
        $bundle = ConvertFrom-ServiceKey $keyFile
    }

    # A server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1), issued by the test root.
    function New-TestServerCertificate {
        $ext = Join-Path $TestFolder 'server.ext'
        @(
            'basicConstraints = CA:FALSE'
            'keyUsage = critical,digitalSignature,keyEncipherment'
            'extendedKeyUsage = serverAuth'
            'subjectAltName = IP:127.0.0.1'
        ) | Set-Content -LiteralPath $ext -Encoding Ascii
        $server = [pscustomobject]@{ Cert = (Join-Path $TestFolder 'server.crt'); Key = (Join-Path $TestFolder 'server.key') }
        $csr = Join-Path $TestFolder 'server.csr'
        $null = Invoke-OpenSsl @('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $server.Key, '-out', $csr, '-subj', '/CN=127.0.0.1')
        $null = Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-CA', $pki.RootCert, '-CAkey', $pki.RootKey, '-CAserial', (Join-Path $TestFolder 'server.srl'),
            '-CAcreateserial', '-out', $server.Cert, '-days', '2', '-extfile', $ext)
        $server
    }

    <#
        openssl s_server -www on 127.0.0.1 at a free port that requires a client certificate and verifies it against
        $ClientCaFile (-Verify 2 -verify_return_error: without -verify_return_error s_server would accept any client
        certificate). Waits until the port accepts connections; another port is tried when one was taken meanwhile.
        Under coreutils timeout where there is one, so a server outlives a killed test run by minutes at most.
    #>
    function Start-ClientAuthServer {
        param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $ClientCaFile, [Parameter(Mandatory)] [string] $Name)
        $openssl = (Get-Command openssl -CommandType Application | Select-Object -First 1).Source
        $timeout = @('/usr/bin/timeout', '/bin/timeout') | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
        $stdin = Join-Path $TestFolder 'empty-stdin.txt'
        if (-not (Test-Path -LiteralPath $stdin)) { $null = New-Item -ItemType File -Path $stdin }
        $last = ''
        for ($attempt = 1; $attempt -le 3; $attempt++) {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start()
            $port = $listener.LocalEndpoint.Port
            $listener.Stop()
            $arguments = @('s_server', '-accept', "127.0.0.1:$port", '-cert', $Server.Cert, '-key', $Server.Key, '-CAfile', $ClientCaFile,
                '-Verify', '2', '-verify_return_error', '-www', '-no_dhe')
            $file = $openssl
            if ($timeout) { $file = $timeout; $arguments = @('300', $openssl) + $arguments }
            $log = Join-Path $TestFolder "$Name-$attempt.err"
            # Start-Process joins the arguments with spaces: quote each (temp paths may contain spaces).
            $process = Start-Process -FilePath $file -ArgumentList ($arguments | ForEach-Object { '"{0}"' -f $_ }) -PassThru `
                -RedirectStandardInput $stdin -RedirectStandardOutput (Join-Path $TestFolder "$Name-$attempt.out") -RedirectStandardError $log
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while ([DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) {
                $client = [System.Net.Sockets.TcpClient]::new()
                try {
                    if ($client.ConnectAsync([System.Net.IPAddress]::Loopback, $port).Wait(500) -and $client.Connected) {
                        return [pscustomobject]@{ Process = $process; Port = $port; Url = "https://127.0.0.1:$port/"; Log = $log }
                    }
                }
                catch {
                    # not listening yet
                }
                finally {
                    $client.Dispose()
                }
                Start-Sleep -Milliseconds 100
            }
            $last = if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Raw } else { '' }
            Stop-ClientAuthServer ([pscustomobject]@{ Process = $process })
        }
        throw "openssl s_server did not listen on 127.0.0.1: $last"
    }

    function Stop-ClientAuthServer {
        param($Running)
        $process = $Running.Process
        if ($process -and -not $process.HasExited) {
            if ($PSVersionTable.PSEdition -eq 'Core') { $process.Kill($true) } else { $process.Kill() }
            $null = $process.WaitForExit(5000)
        }
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'ConvertTo-X509Certificate' -Skip:(-not $haveOpenSsl) {
    It 'returns the leaf as an X509Certificate2 with its private key' {
        $cert = $bundle | ConvertTo-X509Certificate
        @($cert).Count | Should -Be 1
        $cert | Should -BeOfType ([System.Security.Cryptography.X509Certificates.X509Certificate2])
        $cert.HasPrivateKey | Should -BeTrue
        $cert.Thumbprint | Should -Be $bundle.Thumbprint
        $cert.Subject | Should -Be 'CN=Pester Client'
        $bundle.Certificate.HasPrivateKey | Should -BeFalse -Because 'the bundle keeps its key to itself'
    }

    It 'holds the key that belongs to the certificate: its signature verifies with the public key' {
        $cert = ConvertTo-X509Certificate $bundle
        $data = [System.Text.Encoding]::UTF8.GetBytes('signed by the client certificate')
        $sha256 = [System.Security.Cryptography.HashAlgorithmName]::SHA256
        $pkcs1 = [System.Security.Cryptography.RSASignaturePadding]::Pkcs1
        # GetRSAPrivateKey/GetRSAPublicKey are extension methods, called statically from PowerShell.
        $public = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPublicKey($bundle.Certificate)
        $signature = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($cert).SignData($data, $sha256, $pkcs1)
        $public.VerifyData($data, $signature, $sha256, $pkcs1) | Should -BeTrue
        $other = [System.Text.Encoding]::UTF8.GetBytes('something else')
        $public.VerifyData($other, $signature, $sha256, $pkcs1) | Should -BeFalse
        $ours = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($cert).ExportParameters($false)
        [Convert]::ToBase64String($ours.Modulus) | Should -Be ([Convert]::ToBase64String($public.ExportParameters($false).Modulus))
    }

    It 'with -IncludeChain emits one X509Certificate2Collection: the leaf with its key, then the chain without keys' {
        @($bundle | ConvertTo-X509Certificate -IncludeChain | Measure-Object).Count | Should -Be 1
        $certs = $bundle | ConvertTo-X509Certificate -IncludeChain
        ($certs -is [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]) | Should -BeTrue
        $certs.Count | Should -Be 3
        @($certs | ForEach-Object Thumbprint) | Should -Be @($bundle.Chain | ForEach-Object Thumbprint)
        $certs[0].HasPrivateKey | Should -BeTrue
        $certs[1].HasPrivateKey | Should -BeFalse
        $certs[2].HasPrivateKey | Should -BeFalse
    }

    It 'loads the key with -KeyStorageFlags, here exportable' {
        $cert = $bundle | ConvertTo-X509Certificate -KeyStorageFlags UserKeySet, Exportable
        $cert.HasPrivateKey | Should -BeTrue
        [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($cert).ExportParameters($true).D.Length | Should -BeGreaterThan 0
    }

    It 'stops with ParameterConflict for flags that exclude each other' {
        $caught = $null
        try {
            $bundle | ConvertTo-X509Certificate -KeyStorageFlags UserKeySet, MachineKeySet
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'ParameterConflict,*'
    }

    It 'reports a bundle without a private key as BundleHasNoPrivateKey and goes on with the next' {
        $certOnly = Import-CertificateBundle $pki.LeafCert
        $certOnly.HasPrivateKey | Should -BeFalse
        $out = @($certOnly, $bundle | ConvertTo-X509Certificate -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 1
        $out[0].HasPrivateKey | Should -BeTrue
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'BundleHasNoPrivateKey,*'
        $failed[0].TargetObject | Should -Be $certOnly
    }

    It 'reports an X509Certificate2 without a private key as BundleHasNoPrivateKey' {
        $public = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($bundle.Certificate.RawData)
        $null = $public | ConvertTo-X509Certificate -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'BundleHasNoPrivateKey,*'
    }

    It 'returns an X509Certificate2 whose key the platform holds as it is' {
        $cert = $bundle | ConvertTo-X509Certificate
        $again = $cert | ConvertTo-X509Certificate
        [object]::ReferenceEquals($again, $cert) | Should -BeTrue
    }
}

Describe 'Help of ConvertTo-X509Certificate' {
    It 'has examples that parse, with the Invoke-RestMethod calls' {
        $examples = @((Get-Help ConvertTo-X509Certificate -Full).examples.example)
        $examples.Count | Should -BeGreaterOrEqual 4
        foreach ($example in $examples) {
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput("$($example.code)", [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because "$($example.code)"
        }
        ($examples.code -join "`n") | Should -Match ([regex]::Escape('Invoke-RestMethod -Method Post -Uri $b.TokenUrl -Certificate $cert'))
    }
}

Describe 'ConvertTo-X509Certificate with Invoke-RestMethod against a server that requires a client certificate' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $serverCert = New-TestServerCertificate
        # The server knows the client's CA (root and intermediate), as SAP's load balancer knows the CA that issues
        # service-key certificates: the leaf alone is enough.
        $server = Start-ClientAuthServer -Server $serverCert -ClientCaFile $pki.ChainFile -Name 'knows-intermediate'
        $cert = $bundle | ConvertTo-X509Certificate

        # The server's certificate comes from the test root, which this machine does not trust, and Invoke-RestMethod
        # has no way to trust one root for one call. Its server check is turned off here: that concerns only the
        # SERVER's certificate; the client certificate is still sent and verified by the server, which is what these
        # tests are about.
        $web = @{ TimeoutSec = 30 }
        if ($PSVersionTable.PSEdition -eq 'Core') {
            $web.SkipCertificateCheck = $true
        }
        else {
            # Windows PowerShell 5.1 has no -SkipCertificateCheck; its switch is process-wide, restored in AfterAll.
            $savedCallback = [System.Net.ServicePointManager]::ServerCertificateValidationCallback
            $savedProtocol = [System.Net.ServicePointManager]::SecurityProtocol
            [System.Net.ServicePointManager]::ServerCertificateValidationCallback = { $true }
            [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.SecurityProtocolType]::Tls12
            $web.UseBasicParsing = $true
        }
    }

    AfterAll {
        Stop-ClientAuthServer $server
        if ($PSVersionTable.PSEdition -ne 'Core') {
            [System.Net.ServicePointManager]::ServerCertificateValidationCallback = $savedCallback
            [System.Net.ServicePointManager]::SecurityProtocol = $savedProtocol
        }
    }

    It 'Invoke-RestMethod -Certificate gets an answer' {
        if ($PSVersionTable.PSEdition -eq 'Core') {
            $null = Invoke-RestMethod -Uri $server.Url -Certificate $cert -StatusCodeVariable status @web
            $status | Should -Be 200
        }
        else {
            # Invoke-RestMethod of Windows PowerShell gives no status code; it throws for anything but 2xx.
            { $null = Invoke-RestMethod -Uri $server.Url -Certificate $cert @web } | Should -Not -Throw
        }
    }

    It 'Invoke-WebRequest -Certificate gets 200' {
        $response = Invoke-WebRequest -Uri $server.Url -Certificate $cert @web
        $response.StatusCode | Should -Be 200
        $response.Content | Should -Match 's_server'
    }

    It 'fails without -Certificate, because the server requires one' {
        $before = (Get-Content -LiteralPath $server.Log -Raw) + ''
        { Invoke-RestMethod -Uri $server.Url @web } | Should -Throw
        { Invoke-WebRequest -Uri $server.Url @web } | Should -Throw
        # ...and not for some other reason: the server says so in its log.
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        do {
            $log = ((Get-Content -LiteralPath $server.Log -Raw) + '').Substring($before.Length)
            if ($log -match 'peer did not return a certificate') { break }
            Start-Sleep -Milliseconds 100
        } while ([DateTime]::UtcNow -lt $deadline)
        $log | Should -Match 'peer did not return a certificate'
    }

    It 'fails with another certificate that has its key but no trusted issuer' {
        $selfKey = Join-Path $TestFolder 'self.key'
        $selfCert = Join-Path $TestFolder 'self.crt'
        $null = Invoke-OpenSsl @('req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', $selfKey, '-out', $selfCert, '-days', '2', '-subj', '/CN=Pester Stranger')
        $selfPem = Join-Path $TestFolder 'self.pem'
        Set-Content -LiteralPath $selfPem -NoNewline -Encoding Ascii -Value ((Get-Content -LiteralPath $selfCert -Raw) + (Get-Content -LiteralPath $selfKey -Raw))
        $stranger = Import-CertificateBundle $selfPem | ConvertTo-X509Certificate
        $stranger.HasPrivateKey | Should -BeTrue
        { Invoke-WebRequest -Uri $server.Url -Certificate $stranger @web } | Should -Throw
    }
}

Describe 'ConvertTo-X509Certificate -IncludeChain with HttpClient against a server that knows only the root' -Skip:(-not $haveOpenSsl -or -not $haveHttpClientChain) {
    BeforeAll {
        $serverCert = New-TestServerCertificate
        # This server trusts only the root: the client must send the intermediate with its leaf.
        $server = Start-ClientAuthServer -Server $serverCert -ClientCaFile $pki.RootCert -Name 'root-only'
    }

    AfterAll {
        Stop-ClientAuthServer $server
    }

    It 'sends the leaf and the intermediates through SslStreamCertificateContext and gets 200' {
        $certs = $bundle | ConvertTo-X509Certificate -IncludeChain
        $issuers = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new(
            [System.Security.Cryptography.X509Certificates.X509Certificate2[]]@($certs | Select-Object -Skip 1))
        $handler = [System.Net.Http.SocketsHttpHandler]::new()
        $handler.SslOptions.ClientCertificateContext = [System.Net.Security.SslStreamCertificateContext]::Create($certs[0], $issuers, $true)
        # HttpClient can trust the test root for this one client, so here the server's certificate is checked too.
        $policy = [System.Security.Cryptography.X509Certificates.X509ChainPolicy]::new()
        $policy.TrustMode = [System.Security.Cryptography.X509Certificates.X509ChainTrustMode]::CustomRootTrust
        $policy.RevocationMode = [System.Security.Cryptography.X509Certificates.X509RevocationMode]::NoCheck
        $null = $policy.CustomTrustStore.Add([System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert))
        $handler.SslOptions.CertificateChainPolicy = $policy
        $client = [System.Net.Http.HttpClient]::new($handler)
        $client.Timeout = [TimeSpan]::FromSeconds(30)
        try {
            $response = $client.GetAsync($server.Url).GetAwaiter().GetResult()
            [int]$response.StatusCode | Should -Be 200
        }
        finally {
            $client.Dispose()
        }
    }
}
