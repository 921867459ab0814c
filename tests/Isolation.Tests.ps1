#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Pester 5 tests of the module's dependency isolation on PowerShell 7: CertIntegration keeps its own BouncyCastle in
    an AssemblyLoadContext named "CertIntegration", so a session that already holds another BouncyCastle.Cryptography
    (an older 2.x with the same assembly version, or an unrelated assembly of that name with a higher version) still
    runs it, a session that imported CertIntegration first can still load another BouncyCastle, and BouncyCastle is
    loaded on first use only, not at import.

    What is loaded into a process cannot be unloaded, so every scenario runs in a fresh pwsh
    (-NoProfile -NonInteractive -File) and reports back as JSON.

    Fixtures are made at run time, into a temporary folder: BouncyCastle.Cryptography 2.4.0 by restoring
    tests/fixtures/OtherBouncyCastle, the impostor by building tests/fixtures/BouncyCastleImpostor (dotnet), the
    certificates and the service key with openssl (tests/common.ps1's Get-TestPki and New-TestServiceKey).
    Build first (./build/build.sh), then: Invoke-Pester ./tests/Isolation.Tests.ps1
    Windows PowerShell has no load contexts: there the tests are skipped; so they are without openssl on PATH.
#>

BeforeDiscovery {
    $script:isCore = $PSEdition -eq 'Core'
    $script:haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $script:isCore) {
        Write-Warning 'Windows PowerShell has no AssemblyLoadContext: the isolation tests are skipped.'
    }
    elseif (-not $script:haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the isolation tests are skipped (they make their test certificates with openssl).'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

AfterAll {
    Remove-TestFolder
}

Describe 'Dependency isolation (PowerShell 7)' -Skip:(-not ($isCore -and $haveOpenSsl)) {
    BeforeAll {
        $manifest = Join-Path $PSScriptRoot '../out/CertIntegration/CertIntegration.psd1'
        if (-not (Test-Path -LiteralPath $manifest)) {
            throw "The module is not built at $manifest. Run ./build/build.sh (or ./build/build.ps1) first."
        }
        $script:manifest = (Resolve-Path -LiteralPath $manifest).ProviderPath
        $script:moduleBase = Split-Path -Parent $script:manifest

        # The pwsh that runs these tests, not whichever is first on PATH. A dotnet global tool runs as
        # 'dotnet pwsh.dll', so look in $PSHOME before the process path.
        $exe = if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }
        $script:pwshPath = @(
            (Join-Path $PSHOME $exe)
            [Environment]::ProcessPath
            (Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        ) | Where-Object { $_ -and (Split-Path -Leaf $_) -eq $exe -and (Test-Path -LiteralPath $_) } | Select-Object -First 1
        if (-not $script:pwshPath) {
            throw "No pwsh executable found for the child sessions (looked in $PSHOME, the process path and PATH)."
        }

        $script:work = Join-Path ([System.IO.Path]::GetTempPath()) ('ci-isolation-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
        $null = New-Item -ItemType Directory -Path $script:work
        $script:password = 'Is0lation-pfx-pw!'

        function Invoke-Tool {
            param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string[]] $Arguments)
            $ErrorActionPreference = 'Continue'
            $output = & $Name @Arguments 2>&1
            if ($LASTEXITCODE -ne 0) {
                throw "$Name $($Arguments -join ' ') failed ($LASTEXITCODE): $($output -join "`n")"
            }
            $output
        }

        # The fixtures' obj folders go to the temporary folder too, ending in '/': a trailing '\' can escape the closing
        # quote when a path with spaces is quoted for dotnet on Windows.
        # Fixture (a): BouncyCastle.Cryptography 2.4.0 from the NuGet packages folder (NUGET_PACKAGES and NuGet.config
        # are honoured, because MSBuild is asked where the folder is).
        $fixtures = Join-Path $PSScriptRoot 'fixtures'
        $otherProject = Join-Path $fixtures 'OtherBouncyCastle/OtherBouncyCastle.csproj'
        $otherObj = 'BaseIntermediateOutputPath=' + (Join-Path $script:work 'obj/OtherBouncyCastle') + '/'
        $null = Invoke-Tool dotnet @('restore', $otherProject, '-nologo', '-v', 'quiet', "-p:$otherObj")
        $packageRoot = "$(Invoke-Tool dotnet @('msbuild', $otherProject, '-nologo', '-getProperty:NuGetPackageRoot', "-p:$otherObj"))".Trim()
        if (-not $packageRoot) {
            $packageRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
        }
        $script:otherBouncyCastle = [System.IO.Path]::GetFullPath((Join-Path $packageRoot 'bouncycastle.cryptography/2.4.0/lib/net6.0/BouncyCastle.Cryptography.dll'))
        if (-not (Test-Path -LiteralPath $script:otherBouncyCastle)) {
            throw "The restore of $otherProject did not leave BouncyCastle.Cryptography 2.4.0 at $script:otherBouncyCastle."
        }

        # Fixture (b): an assembly named BouncyCastle.Cryptography, version 9.9.0.0, with none of BouncyCastle's types.
        $impostorProject = Join-Path $fixtures 'BouncyCastleImpostor/BouncyCastleImpostor.csproj'
        $impostorOut = Join-Path $script:work 'impostor'
        $impostorObj = 'BaseIntermediateOutputPath=' + (Join-Path $script:work 'obj/BouncyCastleImpostor') + '/'
        $null = Invoke-Tool dotnet @('build', $impostorProject, '-c', 'Release', '-nologo', '-v', 'quiet', '-o', $impostorOut, "-p:$impostorObj")
        $script:impostor = Join-Path $impostorOut 'BouncyCastle.Cryptography.dll'
        [System.Reflection.AssemblyName]::GetAssemblyName($script:impostor).Version | Should -Be ([version]'9.9.0.0')

        # The test PKI of tests/common.ps1 (root CA -> intermediate CA -> client with the clientAuth EKU) and its
        # service key, the key as PKCS#1 PEM.
        $script:serviceKey = New-TestServiceKey -Name 'cpi-cert-key.json' -Pki (Get-TestPki)

        # What every child session starts with: the context, a result to fill, and helpers that describe what is
        # loaded. The scenario's own lines follow inside the try; whatever fails is reported with the step it was in.
        $script:childPrologue = @'
param([Parameter(Mandatory)] [string] $ContextPath)
$ErrorActionPreference = 'Stop'
$ctx = Get-Content -LiteralPath $ContextPath -Raw | ConvertFrom-Json
$result = [ordered]@{ Step = 'start'; Error = $null }

function Step([string] $Name) { $result.Step = $Name }

function Get-AssemblyFact([System.Reflection.Assembly] $Assembly) {
    $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($Assembly)
    [ordered]@{
        Name        = $Assembly.GetName().Name
        Version     = $Assembly.GetName().Version.ToString()
        FileVersion = if ($Assembly.Location) { [System.Diagnostics.FileVersionInfo]::GetVersionInfo($Assembly.Location).FileVersion } else { $null }
        Location    = $Assembly.Location
        LoadContext = $context.Name
        IsDefault   = [object]::ReferenceEquals($context, [System.Runtime.Loader.AssemblyLoadContext]::Default)
    }
}

# Every BouncyCastle.Cryptography in the process, whichever load context holds it.
function Get-LoadedBouncyCastle {
    @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'BouncyCastle.Cryptography' } | ForEach-Object { Get-AssemblyFact $_ })
}

# Every assembly of the module's folder in the process, and everything in its load context (the session's own
# Newtonsoft.Json, which pwsh loads for itself, is neither).
function Get-LoadedFromModule {
    $base = Split-Path -Parent $ctx.Manifest
    @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object {
        ($_.Location -and $_.Location.StartsWith($base)) -or [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name -eq 'CertIntegration'
    } | ForEach-Object { Get-AssemblyFact $_ })
}

# The BouncyCastle each CertIntegration assembly binds to: its own load context resolving its own reference, which is
# what the runtime does when the code runs (call it after the code has run, or it loads BouncyCastle itself).
function Get-BouncyCastleOfCertIntegration {
    @(foreach ($assembly in [AppDomain]::CurrentDomain.GetAssemblies()) {
        if ($assembly.GetName().Name -notlike 'CertIntegration*') { continue }
        foreach ($reference in $assembly.GetReferencedAssemblies()) {
            if ($reference.Name -ne 'BouncyCastle.Cryptography') { continue }
            $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly)
            $fact = Get-AssemblyFact $context.LoadFromAssemblyName($reference)
            $fact.UsedBy = $assembly.GetName().Name
            $fact
        }
    })
}

function Get-CmdletLoadContext {
    $assembly = (Get-Command ConvertFrom-ServiceKey -ErrorAction Stop).ImplementingType.Assembly
    [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly).Name
}

# Service key -> bundle -> PFX, the main pipeline; returns the PFX path for the parent to hand to openssl.
function Invoke-RoundTrip([string] $Name) {
    $pfx = Join-Path $ctx.Work "$Name.pfx"
    $password = ConvertTo-SecureString $ctx.Password -AsPlainText -Force
    $file = ConvertFrom-ServiceKey -LiteralPath $ctx.ServiceKey | New-PfxFromPem -OutFile $pfx -Password $password -Force
    $file.FullName
}

try {
'@
        $script:childEpilogue = @'

    Step 'done'
}
catch {
    $messages = @()
    for ($e = $_.Exception; $e; $e = $e.InnerException) { $messages += "$($e.GetType().FullName): $($e.Message)" }
    $result.Error = "$($_.FullyQualifiedErrorId) | $($messages -join ' | ')"
}
$result | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $ctx.ResultPath -Encoding utf8
'@

        # Runs the scenario's lines in a fresh pwsh and returns what it put into $result (plus Step and Error).
        function Invoke-FreshPwsh {
            param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [scriptblock] $Scenario)
            $dir = Join-Path $script:work $Name
            $null = New-Item -ItemType Directory -Path $dir -Force
            $scriptPath = Join-Path $dir 'scenario.ps1'
            $contextPath = Join-Path $dir 'context.json'
            $resultPath = Join-Path $dir 'result.json'
            $script:childPrologue + $Scenario.ToString() + $script:childEpilogue | Set-Content -LiteralPath $scriptPath -Encoding utf8
            [ordered]@{
                Manifest          = $script:manifest
                ServiceKey        = $script:serviceKey
                Password          = $script:password
                OtherBouncyCastle = $script:otherBouncyCastle
                Impostor          = $script:impostor
                Work              = $dir
                ResultPath        = $resultPath
            } | ConvertTo-Json | Set-Content -LiteralPath $contextPath -Encoding utf8

            $ErrorActionPreference = 'Continue'
            $output = & $script:pwshPath -NoProfile -NonInteractive -File $scriptPath -ContextPath $contextPath 2>&1
            $exitCode = $LASTEXITCODE
            if (-not (Test-Path -LiteralPath $resultPath)) {
                throw "The child pwsh of '$Name' wrote no result (exit code $exitCode): $($output -join "`n")"
            }
            Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json
        }

        # The certificates openssl finds in a PFX (it must open it with the password to count them).
        function Get-OpenSslPfxCertificateCount([string] $Path) {
            $pem = Invoke-Tool openssl @('pkcs12', '-in', $Path, '-nokeys', '-passin', "pass:$script:password")
            @($pem | Where-Object { $_ -eq '-----BEGIN CERTIFICATE-----' }).Count
        }

        function Test-InModuleFolder([string] $Path) {
            $comparison = if ($IsWindows) { [StringComparison]::OrdinalIgnoreCase } else { [StringComparison]::Ordinal }
            $Path -and [System.IO.Path]::GetFullPath($Path).StartsWith($script:moduleBase + [System.IO.Path]::DirectorySeparatorChar, $comparison)
        }

        # The module's BouncyCastle: in the load context named CertIntegration, from the module's folder.
        function Assert-OwnBouncyCastle($Result) {
            $used = @($Result.Used)
            $used.Count | Should -BeGreaterThan 0 -Because 'some CertIntegration assembly references BouncyCastle.Cryptography'
            foreach ($fact in $used) {
                $fact.LoadContext | Should -Be 'CertIntegration' -Because "$($fact.UsedBy) must bind to the BouncyCastle of its own load context, not $($fact.Location)"
                Test-InModuleFolder $fact.Location | Should -BeTrue -Because "$($fact.UsedBy) must use the BouncyCastle shipped in $script:moduleBase, not $($fact.Location)"
            }
        }
    }

    AfterAll {
        if ($script:work -and (Test-Path -LiteralPath $script:work)) {
            Remove-Item -LiteralPath $script:work -Recurse -Force
        }
    }

    Context 'another BouncyCastle.Cryptography is loaded before CertIntegration' {
        It 'runs on its own BouncyCastle when BouncyCastle 2.4.0 was loaded first, and leaves 2.4.0 to the session' {
            $r = Invoke-FreshPwsh 'bc240-first' {
                Step 'Add-Type BouncyCastle 2.4.0'
                Add-Type -LiteralPath $ctx.OtherBouncyCastle
                Step 'Import-Module'
                Import-Module -Name $ctx.Manifest
                Step 'service key -> PFX'
                $result.Pfx = Invoke-RoundTrip 'bc240-first'
                Step 'inspect the load contexts'
                $result.CmdletContext = Get-CmdletLoadContext
                $result.Used = @(Get-BouncyCastleOfCertIntegration)
                $result.Loaded = @(Get-LoadedBouncyCastle)
            }

            $r.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($r.Step)'"
            Get-OpenSslPfxCertificateCount $r.Pfx | Should -Be 3
            $r.CmdletContext | Should -Be 'CertIntegration'
            Assert-OwnBouncyCastle $r
            $other = @($r.Loaded | Where-Object { $_.Location -eq $otherBouncyCastle })
            $other.Count | Should -Be 1 -Because 'the session loaded 2.4.0 once'
            $other[0].IsDefault | Should -BeTrue -Because 'the 2.4.0 the session loaded stays in the default load context'
            $other[0].FileVersion | Should -BeLike '2.4.0.*'
        }

        It 'runs on its own BouncyCastle when an impostor of a higher version (9.9.0.0) was loaded first' {
            $r = Invoke-FreshPwsh 'impostor-first' {
                Step 'Add-Type impostor 9.9.0.0'
                Add-Type -LiteralPath $ctx.Impostor
                Step 'Import-Module'
                Import-Module -Name $ctx.Manifest
                Step 'service key -> PFX'
                $result.Pfx = Invoke-RoundTrip 'impostor-first'
                Step 'inspect the load contexts'
                $result.Used = @(Get-BouncyCastleOfCertIntegration)
                $result.Loaded = @(Get-LoadedBouncyCastle)
            }

            $r.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($r.Step)'"
            Get-OpenSslPfxCertificateCount $r.Pfx | Should -Be 3
            Assert-OwnBouncyCastle $r
            $impostors = @($r.Loaded | Where-Object { $_.Version -eq '9.9.0.0' })
            $impostors.Count | Should -Be 1
            $impostors[0].IsDefault | Should -BeTrue
        }
    }

    Context 'CertIntegration is imported and used first' {
        It 'leaves the session free to load BouncyCastle 2.4.0 afterwards, and still works' {
            $r = Invoke-FreshPwsh 'module-first' {
                Step 'Import-Module'
                Import-Module -Name $ctx.Manifest
                Step 'service key -> PFX, before'
                $result.PfxBefore = Invoke-RoundTrip 'module-first-before'
                Step 'Add-Type BouncyCastle 2.4.0'
                Add-Type -LiteralPath $ctx.OtherBouncyCastle
                Step 'use a BouncyCastle 2.4.0 type'
                $digest = [Org.BouncyCastle.Crypto.Digests.Sha256Digest]::new()
                $data = [System.Text.Encoding]::ASCII.GetBytes('abc')
                $digest.BlockUpdate($data, 0, $data.Length)
                $hash = [byte[]]::new($digest.GetDigestSize())
                $null = $digest.DoFinal($hash, 0)
                $result.DigestName = $digest.AlgorithmName
                $result.DigestHex = [System.Convert]::ToHexString($hash)
                $result.DigestAssembly = Get-AssemblyFact $digest.GetType().Assembly
                Step 'service key -> PFX, after'
                $result.PfxAfter = Invoke-RoundTrip 'module-first-after'
                Step 'inspect the load contexts'
                $result.Used = @(Get-BouncyCastleOfCertIntegration)
            }

            $r.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($r.Step)'"
            Get-OpenSslPfxCertificateCount $r.PfxBefore | Should -Be 3
            $r.DigestName | Should -Be 'SHA-256'
            $r.DigestHex | Should -Be 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'
            $r.DigestAssembly.Location | Should -Be $otherBouncyCastle -Because 'the type name resolves to the 2.4.0 the session loaded'
            $r.DigestAssembly.IsDefault | Should -BeTrue
            Get-OpenSslPfxCertificateCount $r.PfxAfter | Should -Be 3
            Assert-OwnBouncyCastle $r
        }
    }

    Context 'BouncyCastle is loaded on first use, not at import' {
        BeforeAll {
            $script:lazy = Invoke-FreshPwsh 'first-use' {
                Step 'Import-Module'
                Import-Module -Name $ctx.Manifest
                $result.AfterImport = @(Get-LoadedBouncyCastle)
                $result.ModuleAfterImport = @(Get-LoadedFromModule)
                Step 'list the cmdlets and their parameters'
                $null = Get-Command -Module CertIntegration -Syntax
                $null = Get-Command -Module CertIntegration | ForEach-Object { $_.Parameters.Values.ParameterType }
                $result.AfterGetCommand = @(Get-LoadedBouncyCastle)
                Step 'ConvertFrom-ServiceKey'
                $bundle = ConvertFrom-ServiceKey -LiteralPath $ctx.ServiceKey
                $result.HasPrivateKey = $bundle.HasPrivateKey
                $result.AfterUse = @(Get-LoadedBouncyCastle)
            }
        }

        It 'has no BouncyCastle.Cryptography loaded after Import-Module alone' {
            $lazy.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($lazy.Step)'"
            @($lazy.AfterImport).Count | Should -Be 0 -Because "Import-Module loaded $(@($lazy.AfterImport).Location -join ', ')"
        }

        It 'loads only the loader, the cmdlets and the core at import: no BouncyCastle, no Newtonsoft.Json' {
            $lazy.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($lazy.Step)'"
            $loaded = @($lazy.ModuleAfterImport)
            @($loaded.Name | Sort-Object) | Should -Be @('CertIntegration', 'CertIntegration.Core', 'CertIntegration.Loader')
            @($loaded | Where-Object Name -in 'CertIntegration', 'CertIntegration.Core' | ForEach-Object LoadContext) | Should -Be @('CertIntegration', 'CertIntegration')
            @($loaded | Where-Object Name -eq 'CertIntegration.Loader' | ForEach-Object IsDefault) | Should -Be @($true)
            @($loaded | ForEach-Object { Test-InModuleFolder $_.Location }) | Should -Not -Contain $false
        }

        It 'has none loaded after listing the cmdlets and their parameters either' {
            $lazy.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($lazy.Step)'"
            @($lazy.AfterGetCommand).Count | Should -Be 0 -Because "Get-Command loaded $(@($lazy.AfterGetCommand).Location -join ', ')"
        }

        It 'has its own BouncyCastle loaded after a ConvertFrom-ServiceKey' {
            $lazy.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($lazy.Step)'"
            $lazy.HasPrivateKey | Should -BeTrue
            $loaded = @($lazy.AfterUse)
            $loaded.Count | Should -Be 1
            Test-InModuleFolder $loaded[0].Location | Should -BeTrue -Because "the BouncyCastle loaded is the module's, not $($loaded[0].Location)"
        }
    }

    Context 'importing again in the same session' {
        BeforeAll {
            $script:cmdlets = @((Import-PowerShellDataFile -LiteralPath $manifest).CmdletsToExport | Sort-Object)
        }

        It 'exports every cmdlet again after Import-Module -Force, keeps one load context, and a bundle made before still pipes into New-PfxFromPem' {
            $r = Invoke-FreshPwsh 'reimport-force' {
                Step 'Import-Module'
                Import-Module -Name $ctx.Manifest
                Step 'ConvertFrom-ServiceKey'
                $bundle = ConvertFrom-ServiceKey -LiteralPath $ctx.ServiceKey
                Step 'Import-Module -Force'
                Import-Module -Name $ctx.Manifest -Force
                $result.Exported = @((Get-Module CertIntegration).ExportedCmdlets.Keys)
                $result.Contexts = @([System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object { $_.Name -eq 'CertIntegration' }).Count
                Step 'the earlier bundle -> PFX'
                $pfx = Join-Path $ctx.Work 'reimport-force.pfx'
                $result.Pfx = ($bundle | New-PfxFromPem -OutFile $pfx -Password (ConvertTo-SecureString $ctx.Password -AsPlainText -Force)).FullName
                Step 'inspect the load contexts'
                $result.Used = @(Get-BouncyCastleOfCertIntegration)
            }

            @($r.Exported | Sort-Object) | Should -Be $cmdlets -Because 'Import-Module -Force must leave the cmdlets of the manifest exported'
            $r.Contexts | Should -Be 1
            $r.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($r.Step)'"
            Get-OpenSslPfxCertificateCount $r.Pfx | Should -Be 3
            Assert-OwnBouncyCastle $r
        }

        It 'exports every cmdlet again after Remove-Module and Import-Module' {
            $r = Invoke-FreshPwsh 'reimport-remove' {
                Step 'Import-Module'
                Import-Module -Name $ctx.Manifest
                Step 'Remove-Module, Import-Module'
                Remove-Module CertIntegration
                Import-Module -Name $ctx.Manifest
                $result.Exported = @((Get-Module CertIntegration).ExportedCmdlets.Keys)
                Step 'service key -> PFX'
                $result.Pfx = Invoke-RoundTrip 'reimport-remove'
            }

            @($r.Exported | Sort-Object) | Should -Be $cmdlets
            $r.Error | Should -BeNullOrEmpty -Because "the child pwsh failed at step '$($r.Step)'"
            Get-OpenSslPfxCertificateCount $r.Pfx | Should -Be 3
        }
    }
}
