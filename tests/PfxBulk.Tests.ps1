#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    New-PfxFromPem over many bundles, where the PFX files are built on several worker threads: files appear, output
    and errors come strictly in input order; -WhatIf asks per item and writes nothing; a stop (Ctrl+C) ends promptly
    and leaves only whole files, an unbroken prefix of the input, and no temporary files. Uses openssl for the test
    certificates; skipped without it.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $pw = ConvertTo-SecureString 'P3ster-bulk-pw!' -AsPlainText -Force
    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $one = New-TestServiceKey -Name 'template.json' -Pki $pki
        $keyDir = Join-Path $TestFolder 'keys'
        $null = New-Item -ItemType Directory -Path $keyDir
        foreach ($i in 1..60) { Copy-Item -LiteralPath $one -Destination (Join-Path $keyDir ('key-{0:D3}.json' -f $i)) }
        $bundles = @(Get-ChildItem -LiteralPath $keyDir -Filter *.json | Sort-Object Name | ConvertFrom-ServiceKey)
        # A bundle without a key (certificate_external): New-PfxFromPem reports BundleHasNoPrivateKey for it.
        $noKey = Import-CertificateBundle -Path $pki.LeafCert
    }

    function Get-PfxNames([string] $Folder) {
        @(Get-ChildItem -LiteralPath $Folder -Force -File | Sort-Object Name | ForEach-Object Name)
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'New-PfxFromPem with many inputs' -Skip:(-not $haveOpenSsl) {
    It 'outputs one file per bundle in input order, each renamed into place only after every earlier one was output' {
        $dest = Join-Path $TestFolder 'order'
        $seen = [System.Collections.Generic.List[string]]::new()
        $bundles | New-PfxFromPem -Destination $dest -Password $pw | ForEach-Object {
            # Downstream runs before the next file is renamed into place: no later file may exist yet.
            $n = [int]($_.BaseName -replace '^key-', '')
            $later = @(Get-ChildItem -LiteralPath $dest -Filter *.pfx | Where-Object { [int]($_.BaseName -replace '^key-', '') -gt $n })
            $seen.Add(('{0}:{1}' -f $_.Name, $later.Count))
        }
        $seen | Should -Be @(1..60 | ForEach-Object { 'key-{0:D3}.pfx:0' -f $_ })
        Get-PfxNames $dest | Should -Be @(1..60 | ForEach-Object { 'key-{0:D3}.pfx' -f $_ })
    }

    It 'reports each failure in its place among the outputs, whether found before or during the work' {
        $dest = Join-Path $TestFolder 'errors'
        $null = New-Item -ItemType Directory -Path $dest
        # key-007.pfx is taken by a folder: the worker's write fails (FileWriteFailed), after 1..6 were written.
        $null = New-Item -ItemType Directory -Path (Join-Path $dest 'key-007.pfx')
        $inputs = [System.Collections.Generic.List[object]]::new()
        $expected = [System.Collections.Generic.List[string]]::new()
        for ($i = 0; $i -lt 30; $i++) {
            if ($i -in 3, 17, 29) { $inputs.Add($noKey); $expected.Add('error:BundleHasNoPrivateKey') }
            $inputs.Add($bundles[$i])
            $expected.Add($(if ($i -eq 6) { 'error:FileWriteFailed' } else { 'file:key-{0:D3}.pfx' -f ($i + 1) }))
        }
        $got = @($inputs | New-PfxFromPem -Destination $dest -Password $pw -ErrorAction Continue 2>&1 | ForEach-Object {
                if ($_ -is [System.Management.Automation.ErrorRecord]) { 'error:' + ($_.FullyQualifiedErrorId -split ',')[0] } else { 'file:' + $_.Name }
            })
        $got | Should -Be $expected.ToArray()
    }

    It 'ends at the first failure with -ErrorAction Stop, with that failure, after the files before it' {
        $dest = Join-Path $TestFolder 'stop-on-error'
        $inputs = @($bundles[0], $bundles[1], $noKey) + $bundles[2..20]
        $caught = $null
        try {
            $inputs | New-PfxFromPem -Destination $dest -Password $pw -ErrorAction Stop | Out-Null
        }
        catch {
            $caught = $_
        }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'BundleHasNoPrivateKey,*'
        # The files of the inputs before it, nothing after it, and no temporary file of the work that was under way.
        Get-PfxNames $dest | Should -Be @('key-001.pfx', 'key-002.pfx')
    }

    It 'asks per item with -WhatIf, in input order, and writes nothing' {
        $dest = Join-Path $TestFolder 'whatif'
        $null = New-Item -ItemType Directory -Path $dest
        $script = "Import-Module '$ModuleManifest'; `$pw = ConvertTo-SecureString x -AsPlainText -Force; " +
            "Get-ChildItem -LiteralPath '$keyDir' -Filter *.json | Sort-Object Name | Select-Object -First 40 | ConvertFrom-ServiceKey | New-PfxFromPem -Destination '$dest' -Password `$pw -WhatIf"
        $lines = @(& (Get-Pwsh) -NoProfile -NonInteractive -Command $script | Where-Object { $_ -match '^What if:' })
        $LASTEXITCODE | Should -Be 0
        $targets = $lines | ForEach-Object { if ($_ -match 'key-(\d{3})\.pfx') { $Matches[1] } }
        $targets | Should -Be @(1..40 | ForEach-Object { '{0:D3}' -f $_ })
        @(Get-ChildItem -LiteralPath $dest -Force) | Should -BeNullOrEmpty
    }

    It 'stops promptly on Ctrl+C (StopProcessing), leaving an unbroken prefix of whole files and no temporary files' {
        $dest = Join-Path $TestFolder 'stop'
        $many = @(foreach ($r in 1..4) { $bundles })   # 240 inputs; names after the first 60 get a thumbprint suffix
        $started = [System.Threading.ManualResetEventSlim]::new($false)
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($module, $inputs, $dest, $pw, $started)
                Import-Module $module
                $inputs | New-PfxFromPem -Destination $dest -Password $pw | ForEach-Object { if ($_.Name -eq 'key-005.pfx') { $started.Set() } $_.Name }
            }).AddArgument($ModuleManifest).AddArgument($many).AddArgument($dest).AddArgument($pw).AddArgument($started)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        try {
            $started.Wait([TimeSpan]::FromSeconds(120)) | Should -BeTrue
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally {
            $ps.Dispose()
        }
        $names = Get-PfxNames $dest
        @($names | Where-Object { $_ -like '*.tmp' }) | Should -BeNullOrEmpty
        $names.Count | Should -BeLessThan 240
        # Every file on disk was output (but the last one, when the stop came between its rename and its output),
        # and they are the first ones of the input.
        $shown = @($output)
        ($names.Count - $shown.Count) | Should -BeIn 0, 1
        if ($shown.Count -gt 0) { $shown | Should -Be $names[0..($shown.Count - 1)] }
        @($names | Select-Object -First ([Math]::Min(60, $names.Count))) | Should -Be @(1..([Math]::Min(60, $names.Count)) | ForEach-Object { 'key-{0:D3}.pfx' -f $_ })
    }
}
