#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Pester 5 tests of the package a user installs: build/package.ps1 packs out/CertIntegration, PSResourceGet
    installs the package from a local file repository into a temporary module folder, and a fresh PowerShell
    (the edition running these tests) imports it by name and turns a service key into a PFX.
    Build first (./build/build.sh or ./build/build.ps1), then: Invoke-Pester ./tests/Package.Tests.ps1

    Nothing reaches the user's own PowerShell: on Linux and macOS every PSResourceGet call runs in a child pwsh whose
    HOME is a temporary folder, so the repository it registers and the CurrentUser module folder it installs into are
    temporary too. Windows keeps those in the user profile whatever the environment says, so there the repository
    gets a unique name (unregistered again in AfterAll) and the package is saved with Save-PSResource into a
    temporary folder instead of installed.
    Packing and installing need pwsh 7.4 or later (it ships Microsoft.PowerShell.PSResourceGet), also when these
    tests run in Windows PowerShell; without it they are skipped. Without openssl the service-key test is skipped.
#>

BeforeDiscovery {
    $script:haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    $pwsh = if ($PSVersionTable.PSEdition -eq 'Core') {
        @('pwsh', 'pwsh.exe') | ForEach-Object { [System.IO.Path]::Combine($PSHOME, $_) } | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    }
    if (-not $pwsh) { $pwsh = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source }
    $script:havePSResourceGet = $false
    if ($pwsh) {
        $found = & $pwsh -NoProfile -NonInteractive -Command '[bool](Get-Module -ListAvailable Microsoft.PowerShell.PSResourceGet)'
        $script:havePSResourceGet = "$found" -eq 'True'
    }
    if (-not $script:havePSResourceGet) {
        Write-Warning 'No pwsh with Microsoft.PowerShell.PSResourceGet (pwsh 7.4 or later): the package tests are skipped.'
    }
    if (-not $script:haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the package test that converts a service key is skipped.'
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

AfterAll {
    Remove-TestFolder
}

Describe 'The CertIntegration package' -Skip:(-not $havePSResourceGet) {
    BeforeAll {
        $script:onWindows = [System.IO.Path]::DirectorySeparatorChar -eq '\'
        $script:pwsh = if ($PSVersionTable.PSEdition -eq 'Core') {
            @('pwsh', 'pwsh.exe') | ForEach-Object { [System.IO.Path]::Combine($PSHOME, $_) } | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
        }
        if (-not $script:pwsh) { $script:pwsh = Get-Command pwsh -CommandType Application | Select-Object -First 1 -ExpandProperty Source }
        # The fresh session that imports the installed module is of the edition running these tests.
        $script:hostExe = if ($PSVersionTable.PSEdition -eq 'Core') { $script:pwsh } else { [System.IO.Path]::Combine($PSHOME, 'powershell.exe') }

        $script:built = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($PSScriptRoot, '..', 'out', 'CertIntegration'))
        if (-not (Test-Path -LiteralPath ([System.IO.Path]::Combine($built, 'CertIntegration.psd1')))) {
            throw "The module is not built at $built. Run ./build/build.sh (or ./build/build.ps1) first."
        }

        $script:work = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'ci-pkg-test-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
        $script:repository = [System.IO.Path]::Combine($work, 'repository')
        $script:tempHome = [System.IO.Path]::Combine($work, 'home')
        $script:cwd = [System.IO.Path]::Combine($work, 'cwd')
        $script:repositoryName = 'CertIntegrationTest-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
        $null = New-Item -ItemType Directory -Path $repository, $tempHome, $cwd

        # On Linux and macOS a temporary HOME moves PSResourceGet's settings and the CurrentUser module folder.
        # The folders must exist: .NET answers an empty path for a special folder that does not.
        $script:isolation = @{}
        if (-not $onWindows) {
            $isolation.HOME = $tempHome
            $isolation.XDG_DATA_HOME = [System.IO.Path]::Combine($tempHome, '.local', 'share')
            $isolation.XDG_CONFIG_HOME = [System.IO.Path]::Combine($tempHome, '.config')
            $isolation.XDG_CACHE_HOME = [System.IO.Path]::Combine($tempHome, '.cache')
            foreach ($folder in $isolation.Values) { $null = New-Item -ItemType Directory -Path $folder -Force }
        }
        $script:modules = if ($onWindows) { [System.IO.Path]::Combine($work, 'Modules') } else { [System.IO.Path]::Combine($isolation.XDG_DATA_HOME, 'powershell', 'Modules') }

        # Runs a script block in a new process with some environment variables set; returns its output, throws with
        # its errors when it fails.
        function Invoke-Child {
            param([string] $Exe, [hashtable] $Environment = @{}, [scriptblock] $ScriptBlock, [object[]] $ArgumentList = @())
            $ErrorActionPreference = 'Continue'
            $saved = @{}
            try {
                foreach ($name in $Environment.Keys) {
                    $saved[$name] = [Environment]::GetEnvironmentVariable($name)
                    [Environment]::SetEnvironmentVariable($name, $Environment[$name])
                }
                $all = & $Exe -NoProfile -NonInteractive -Command $ScriptBlock -args $ArgumentList 2>&1
                $code = $LASTEXITCODE
            }
            finally {
                foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
            }
            $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            if ($code -ne 0) { throw "$Exe failed ($code): $(($errors | ForEach-Object { "$_" }) -join '; ')" }
            $all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }
        }

        function Get-RelativeFile {
            param([string] $Folder)
            $root = (Get-Item -LiteralPath $Folder).FullName.TrimEnd('\', '/')
            Get-ChildItem -LiteralPath $root -Recurse -File | ForEach-Object { $_.FullName.Substring($root.Length + 1).Replace('\', '/') } | Sort-Object
        }

        # The user's own PSResourceGet settings, read as a file (asking PSResourceGet would create them where missing).
        function Get-UserSettings {
            $file = [System.IO.Path]::Combine([Environment]::GetFolderPath('LocalApplicationData'), 'PSResourceGet', 'PSResourceRepository.xml')
            if (Test-Path -LiteralPath $file) { Get-Content -LiteralPath $file -Raw } else { '(none)' }
        }
        function Get-RepositoryName {
            param([string] $Settings)
            if ($Settings -ne '(none)') { ([xml] $Settings).configuration.Repository | ForEach-Object { $_.Name } | Sort-Object }
        }
        $script:settingsBefore = Get-UserSettings

        # Packed from a working folder of its own, to see that nothing is left there.
        Push-Location -LiteralPath $cwd
        try {
            $script:nupkg = & ([System.IO.Path]::Combine($PSScriptRoot, '..', 'build', 'package.ps1')) -ModulePath $built -OutputPath $repository
        }
        finally {
            Pop-Location
        }
        $script:settingsAfterPacking = Get-UserSettings

        $manifest = Test-ModuleManifest -Path ([System.IO.Path]::Combine($built, 'CertIntegration.psd1')) -ErrorAction Stop
        $script:version = $manifest.Version.ToString()
        $script:cmdletsToExport = @($manifest.ExportedCmdlets.Keys | Sort-Object)

        # Lets a fresh session tell that the module it imported lies in the temporary folder (on Windows the temporary
        # folder can be spelt with short 8.3 names, so comparing paths as text proves nothing there).
        $script:marker = 'marker-' + [guid]::NewGuid().ToString('N')
    }

    AfterAll {
        if ($onWindows -and $repositoryName) {
            # The only trace outside the temporary folder; gone already unless a step failed half-way.
            $null = Invoke-Child -Exe $pwsh -ScriptBlock {
                param($Name)
                if (Get-PSResourceRepository -Name $Name -ErrorAction SilentlyContinue) { Unregister-PSResourceRepository -Name $Name }
            } -ArgumentList $repositoryName
        }
        if ($work -and (Test-Path -LiteralPath $work)) {
            Remove-Item -LiteralPath $work -Recurse -Force
        }
    }

    Context 'build/package.ps1' {
        It 'writes CertIntegration.VERSION.nupkg with the id and the ModuleVersion of the manifest' {
            @($nupkg).Count | Should -Be 1
            $nupkg | Should -BeOfType ([System.IO.FileInfo])
            $nupkg.Name | Should -Be "CertIntegration.$version.nupkg"
            $nupkg.DirectoryName | Should -Be $repository

            Add-Type -AssemblyName System.IO.Compression, System.IO.Compression.FileSystem
            $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg.FullName)
            try {
                $entry = $zip.GetEntry('CertIntegration.nuspec')
                $entry | Should -Not -BeNullOrEmpty
                $reader = [System.IO.StreamReader]::new($entry.Open())
                try { [xml] $nuspec = $reader.ReadToEnd() } finally { $reader.Dispose() }
            }
            finally {
                $zip.Dispose()
            }
            $nuspec.package.metadata.id | Should -Be 'CertIntegration'
            $nuspec.package.metadata.version | Should -Be $version
            $nuspec.package.metadata.tags -split ' ' | Should -Contain 'PSModule'
        }

        It 'packs exactly the files of out/CertIntegration' {
            Add-Type -AssemblyName System.IO.Compression, System.IO.Compression.FileSystem
            $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg.FullName)
            try {
                $packed = $zip.Entries | ForEach-Object { [uri]::UnescapeDataString($_.FullName) } |
                    Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|CertIntegration\.nuspec$)' } | Sort-Object
            }
            finally {
                $zip.Dispose()
            }
            $packed | Should -Not -BeNullOrEmpty
            $packed | Should -Be @(Get-RelativeFile $built)
        }

        It "leaves the user's PSResourceGet settings and its working folder as they were" {
            if ($onWindows) {
                # There the temporary repository is registered for a moment under a unique name, then unregistered.
                Get-RepositoryName $settingsAfterPacking | Where-Object { $_ -like 'CertIntegrationPack-*' } | Should -BeNullOrEmpty
            }
            else {
                $settingsAfterPacking | Should -BeExactly $settingsBefore
            }
            Get-ChildItem -LiteralPath $cwd -Force | Should -BeNullOrEmpty
        }

        It 'stops with a clear message when the module is not built' {
            $empty = [System.IO.Path]::Combine($work, 'not-built')
            { & ([System.IO.Path]::Combine($PSScriptRoot, '..', 'build', 'package.ps1')) -ModulePath $empty -OutputPath $empty } |
                Should -Throw -ExpectedMessage '*No built module at*build*'
            Test-Path -LiteralPath $empty | Should -BeFalse
        }
    }

    Context 'installed from a local file repository' {
        BeforeAll {
            $install = {
                param([string] $Name, [string] $Uri, [string] $Modules, [bool] $OnWindows)
                $ErrorActionPreference = 'Stop'
                Register-PSResourceRepository -Name $Name -Uri $Uri -Trusted
                try {
                    if ($OnWindows) {
                        $null = New-Item -ItemType Directory -Path $Modules -Force
                        Save-PSResource -Name CertIntegration -Repository $Name -TrustRepository -Path $Modules -IncludeXml
                    }
                    else {
                        Install-PSResource -Name CertIntegration -Repository $Name -TrustRepository -Scope CurrentUser
                    }
                }
                finally {
                    Unregister-PSResourceRepository -Name $Name
                }
                Get-InstalledPSResource -Name CertIntegration -Path $Modules | ForEach-Object { "$($_.Version)|$($_.InstalledLocation)" }
            }
            $null = New-Item -ItemType Directory -Path $modules -Force
            Set-Content -LiteralPath ([System.IO.Path]::Combine($modules, $marker)) -Value 'here'
            $script:installed = @(Invoke-Child -Exe $pwsh -Environment $isolation -ScriptBlock $install -ArgumentList $repositoryName, $repository, $modules, $onWindows)
            $script:installedBase = [System.IO.Path]::Combine($modules, 'CertIntegration', $version)

            # A fresh session that finds modules in the temporary folder and, for its own cmdlets, in its $PSHOME
            # (Windows PowerShell would not add that); on Linux and macOS its user folder is the temporary one as well.
            $script:session = $isolation.Clone()
            $session.PSModulePath = $modules + [System.IO.Path]::PathSeparator + [System.IO.Path]::Combine($PSHOME, 'Modules')
        }

        It 'puts the package into the temporary module folder' {
            $installed.Count | Should -Be 1
            ($installed[0] -split '\|')[0] | Should -Be $version
            if (-not $onWindows) { ($installed[0] -split '\|')[1] | Should -Be $modules }
            Test-Path -LiteralPath ([System.IO.Path]::Combine($installedBase, 'CertIntegration.psd1')) -PathType Leaf | Should -BeTrue
        }

        It 'installs every file of out/CertIntegration' {
            @(Get-RelativeFile $installedBase | Where-Object { $_ -ne 'PSGetModuleInfo.xml' }) | Should -Be @(Get-RelativeFile $built)
        }

        It 'passes Test-ModuleManifest' {
            $result = Invoke-Child -Exe $hostExe -ScriptBlock {
                param([string] $Manifest)
                $ErrorActionPreference = 'Stop'
                $m = Test-ModuleManifest -Path $Manifest
                "$($m.Name)|$($m.Version)"
            } -ArgumentList ([System.IO.Path]::Combine($installedBase, 'CertIntegration.psd1'))
            $result | Should -Be "CertIntegration|$version"
        }

        It 'imports by name in a fresh session, from the temporary module folder, with every cmdlet' {
            $result = Invoke-Child -Exe $hostExe -Environment $session -ScriptBlock {
                param([string] $Marker)
                $ErrorActionPreference = 'Stop'
                Import-Module CertIntegration
                $m = Get-Module CertIntegration
                [pscustomobject]@{
                    ModuleBase = $m.ModuleBase
                    InTemp     = [System.IO.File]::Exists([System.IO.Path]::Combine($m.ModuleBase, '..', '..', $Marker))
                    Version    = $m.Version.ToString()
                    Cmdlets    = @($m.ExportedCmdlets.Keys | Sort-Object) -join ','
                }
            } -ArgumentList $marker
            $result.InTemp | Should -BeTrue -Because "the module was imported from $($result.ModuleBase)"
            if (-not $onWindows) { $result.ModuleBase | Should -Be $installedBase }
            $result.Version | Should -Be $version
            $cmdletsToExport.Count | Should -BeGreaterThan 0
            $result.Cmdlets | Should -Be ($cmdletsToExport -join ',')
        }

        It 'turns a service key into a PFX that openssl reads, with the key and the whole chain' -Skip:(-not $haveOpenSsl) {
            # The test PKI and service key of tests/common.ps1 (root CA -> intermediate CA -> client, PKCS#1 key).
            $serviceKey = New-TestServiceKey -Name 'package-key.json' -Pki (Get-TestPki)
            $pfx = [System.IO.Path]::Combine($work, 'client.pfx')
            $password = 'Pkg-test-pfx-pw!'

            $result = Invoke-Child -Exe $hostExe -Environment $session -ScriptBlock {
                param([string] $ServiceKey, [string] $Pfx, [string] $Password, [string] $Marker)
                $ErrorActionPreference = 'Stop'
                Import-Module CertIntegration
                $base = (Get-Module CertIntegration).ModuleBase
                $pw = [System.Net.NetworkCredential]::new('', $Password).SecurePassword
                $bundle = ConvertFrom-ServiceKey $ServiceKey
                $file = $bundle | New-PfxFromPem -OutFile $Pfx -Password $pw
                [pscustomobject]@{
                    ModuleBase    = $base
                    InTemp        = [System.IO.File]::Exists([System.IO.Path]::Combine($base, '..', '..', $Marker))
                    Bundles       = @($bundle).Count
                    HasPrivateKey = $bundle.HasPrivateKey
                    ClientId      = $bundle.ClientId
                    File          = $file.FullName
                }
            } -ArgumentList $serviceKey, $pfx, $password, $marker

            $result.InTemp | Should -BeTrue -Because "the module was imported from $($result.ModuleBase)"
            $result.Bundles | Should -Be 1
            $result.HasPrivateKey | Should -BeTrue
            $result.ClientId | Should -Be 'sb-pester-client!b1|it-rt-pester!b2'
            $result.File | Should -Be $pfx

            $pem = & openssl pkcs12 -in $pfx -nokeys -passin "pass:$password" 2>$null
            $LASTEXITCODE | Should -Be 0
            @($pem | Where-Object { $_ -eq '-----BEGIN CERTIFICATE-----' }).Count | Should -Be 3
            ($pem -join "`n") | Should -Match 'CN\s*=\s*Pester Client'
            $keys = & openssl pkcs12 -in $pfx -nocerts -nodes -passin "pass:$password" 2>$null
            $LASTEXITCODE | Should -Be 0
            ($keys -join "`n") | Should -Match '-----BEGIN (RSA )?PRIVATE KEY-----'
        }

        It "leaves the user's PSResourceGet settings as they were" {
            $now = Get-UserSettings
            if ($onWindows) {
                Get-RepositoryName $now | Where-Object { $_ -eq $repositoryName -or $_ -like 'CertIntegrationPack-*' } | Should -BeNullOrEmpty
            }
            else {
                $now | Should -BeExactly $settingsBefore
            }
        }
    }
}
