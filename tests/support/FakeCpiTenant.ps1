<#
    Starts and drives the FAKE Cloud Integration tenant (tests/fakes/FakeCpiTenant, an ASP.NET Core program written
    from SAP's API description) for the Cpi tests. Dot-source after common.ps1:

        $tenant = Start-FakeCpiTenant -Pki (Get-TestPki)
        ... Connect-CpiTenant -ServiceKey $tenant.ServiceKey -TrustedCertificate $tenant.TrustedCertificate
        Stop-FakeCpiTenant $tenant

    The fake serves HTTPS on 127.0.0.1 at a free port with a server certificate issued by the test PKI; the cmdlets
    reach it through the url and tokenurl of a service key file, as in real use, and trust it through
    -TrustedCertificate (TLS validation stays on). Its /_fake/ endpoints (test-only) record requests and set flags.
#>

function Get-FakeCpiTenantPath {
    $dll = Join-Path $PSScriptRoot '../fakes/FakeCpiTenant/bin/Release/net10.0/FakeCpiTenant.dll'
    if (-not (Test-Path -LiteralPath $dll)) {
        # Built with the solution (build/test.sh); built here when a test file runs on its own.
        $project = Join-Path $PSScriptRoot '../fakes/FakeCpiTenant/FakeCpiTenant.csproj'
        $out = & dotnet build $project -c Release --nologo 2>&1
        if ($LASTEXITCODE -ne 0) { throw "The fake tenant did not build: $($out -join "`n")" }
    }
    [System.IO.Path]::GetFullPath($dll)
}

function Start-FakeCpiTenant {
    param(
        [Parameter(Mandatory)] $Pki,
        [string] $ClientId = 'sb-fake-api!b1|it!b2',
        [string] $ClientSecret = 'fake-secret-' + [guid]::NewGuid().ToString('N'),
        [int] $PageSize = 1000,
        [int] $TokenLifetime = 3600
    )
    $server = New-TestServerCertificate -Pki $Pki -Name 'fake-tenant'
    $pfx = Join-Path $TestFolder 'fake-tenant.pfx'
    $null = Invoke-OpenSsl @('pkcs12', '-export', '-in', $server.Cert, '-inkey', $server.Key, '-certfile', $server.Chain, '-out', $pfx, '-passout', 'pass:fake')
    $dll = Get-FakeCpiTenantPath
    for ($attempt = 1; ; $attempt++) {
        $port = Get-FreeTcpPort
        $log = Join-Path $TestFolder "fake-tenant-$port.log"
        $arguments = @($dll, '--port', $port, '--cert', $pfx, '--cert-password', 'fake', '--client-id', $ClientId, '--client-secret', $ClientSecret,
            '--client-root', $Pki.ChainFile, '--page-size', $PageSize, '--token-lifetime', $TokenLifetime)
        $process = Start-Process -FilePath 'dotnet' -ArgumentList (($arguments | ForEach-Object { if ("$_" -match '[\s"|!]') { '"' + $_ + '"' } else { "$_" } }) -join ' ') `
            -NoNewWindow -PassThru -RedirectStandardOutput $log -RedirectStandardError "$log.err"
        if (Wait-TcpPort -Port $port -Process $process -TimeoutSeconds 30) { break }
        if (-not $process.HasExited) { $process.Kill($true) }
        if ($attempt -ge 3) { throw "The fake tenant did not start: $(Get-Content -Raw -LiteralPath "$log.err" -ErrorAction SilentlyContinue)" }
    }
    $url = "https://127.0.0.1:$port"
    $keyFile = Join-Path $TestFolder "api-key-$port.json"
    @{ oauth = [ordered]@{ url = $url; clientid = $ClientId; clientsecret = $ClientSecret; tokenurl = "$url/oauth/token" } } |
        ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $keyFile -Encoding UTF8
    [pscustomobject]@{
        Process            = $process
        Port               = $port
        Url                = $url
        ClientId           = $ClientId
        ClientSecret       = $ClientSecret
        ServiceKey         = $keyFile
        TrustedCertificate = @($Pki.RootCert, $Pki.IntermediateCert)
    }
}

function Stop-FakeCpiTenant {
    param($Tenant)
    if (-not $Tenant -or -not $Tenant.Process) { return }
    if (-not $Tenant.Process.HasExited) { $Tenant.Process.Kill($true); $null = $Tenant.Process.WaitForExit(5000) }
    $Tenant.Process.Dispose()
}

# Calls a /_fake/ control endpoint (test-only; its certificate is the fake's own, so it is not checked here).
function Invoke-FakeCpi {
    param([Parameter(Mandatory)] $Tenant, [Parameter(Mandatory)] [string] $Method, [Parameter(Mandatory)] [string] $Path, $Body)
    $params = @{ Method = $Method; Uri = "$($Tenant.Url)/_fake/$Path"; SkipCertificateCheck = $true }
    if ($null -ne $Body) { $params.Body = ($Body | ConvertTo-Json -Depth 5 -Compress); $params.ContentType = 'application/json' }
    Invoke-RestMethod @params
}

# What the fake got since the last Clear-FakeCpiRequest (control calls not included).
function Get-FakeCpiRequest {
    param([Parameter(Mandatory)] $Tenant)
    # Invoke-RestMethod writes a JSON array as one object ($null when empty): enumerate it.
    $all = Invoke-FakeCpi $Tenant GET requests
    @($all | Where-Object { $null -ne $_ })
}

function Clear-FakeCpiRequest { param([Parameter(Mandatory)] $Tenant) $null = Invoke-FakeCpi $Tenant DELETE requests }

function Set-FakeCpiConfig { param([Parameter(Mandatory)] $Tenant, [Parameter(Mandatory)] [hashtable] $Config) $null = Invoke-FakeCpi $Tenant POST config $Config }

function Add-FakeCpiEntry {
    param([Parameter(Mandatory)] $Tenant, [Parameter(Mandatory)] [string] $Alias, [Parameter(Mandatory)] [string] $PemFile,
        [string] $Type = 'Certificate', [string] $Owner = 'Tenant Administrator', [string] $Keystore = 'system')
    $null = Invoke-FakeCpi $Tenant POST entries @{ Alias = $Alias; Pem = (Get-Content -Raw -LiteralPath $PemFile); Type = $Type; Owner = $Owner; Keystore = $Keystore }
}
