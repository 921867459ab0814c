#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    The three writers alike: New-PfxFromPem, Export-PrivateKey and Export-CertificateChain take -Destination (a folder,
    created when missing) and -OutFile (one file), name files the same way, never overwrite without -Force, and write
    nothing with -WhatIf; the file names they make carry no character a shell reads specially. The test certificates
    are made with openssl; without it the tests are skipped.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the writer tests are skipped (they make their test certificates with openssl).'
    }

    # How each writer is called for the bundles $In, with -OutFile or -Destination (and more) splatted from $Extra;
    # advanced, so that -ErrorVariable and -ErrorAction on the call reach the writer's errors.
    $writers = @(
        @{ Writer = 'New-PfxFromPem'; Ext = '.pfx'; Call = { [CmdletBinding()] param($In, $Extra) $In | New-PfxFromPem -Password $pw @Extra } }
        @{ Writer = 'Export-PrivateKey'; Ext = '.key'; Call = { [CmdletBinding()] param($In, $Extra) $In | Export-PrivateKey @Extra } }
        @{ Writer = 'Export-CertificateChain'; Ext = '.pem'; Call = { [CmdletBinding()] param($In, $Extra) $In | Export-CertificateChain -Format PemBundle @Extra } }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $pw = ConvertTo-SecureString 'P3ster-pfx-pw!' -AsPlainText -Force
    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $keys = Join-Path $TestFolder 'keys'
        $null = New-Item -ItemType Directory -Path $keys
        foreach ($name in 'cpi-dev.json', 'cpi-prod.json', 'sb-pester!b18762.json') {
            $made = New-TestServiceKey -Name $name -Pki $pki
            Move-Item -LiteralPath $made -Destination $keys
        }

        # Two bundles of one certificate from two files: per-bundle writers write two files, certificate files one.
        $bundles = @(Get-ChildItem -LiteralPath $keys -Filter 'cpi-*.json' | Sort-Object Name | ConvertFrom-ServiceKey)
    }
}

AfterAll {
    Remove-TestFolder
}

Describe '<Writer> -Destination' -Skip:(-not $haveOpenSsl) -ForEach $writers {
    It 'creates a missing folder and writes one file per bundle, named after its service key file' {
        $dest = Join-Path $TestFolder "dest-$Writer/sub"
        $files = & $Call $bundles @{ Destination = $dest } -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        Test-Path -LiteralPath $dest -PathType Container | Should -BeTrue
        if ($Writer -eq 'Export-CertificateChain') {
            # Certificate files are named after the certificates they hold; the same chain twice is written once.
            @($files).Count | Should -Be 1
            $files.Name | Should -Be 'chain-Pester_Client.pem'
        }
        else {
            @($files.Name) | Should -Be @("cpi-dev$Ext", "cpi-prod$Ext")
        }
    }

    It 'creates no folder and writes nothing with -WhatIf' {
        $dest = Join-Path $TestFolder "whatif-$Writer"
        $out = & $Call $bundles @{ Destination = $dest; WhatIf = $true } -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $out | Should -BeNullOrEmpty
        Test-Path -LiteralPath $dest | Should -BeFalse
    }

    It 'does not overwrite an existing file without -Force, and does with it' {
        $dest = Join-Path $TestFolder "force-$Writer"
        $null = New-Item -ItemType Directory -Path $dest
        $name = if ($Writer -eq 'Export-CertificateChain') { 'chain-Pester_Client.pem' } else { "cpi-dev$Ext" }
        Set-Content -LiteralPath (Join-Path $dest $name) -Value 'keep me'
        $out = & $Call $bundles[0] @{ Destination = $dest } -ErrorVariable failed -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content -LiteralPath (Join-Path $dest $name) | Should -Be 'keep me'

        $out = & $Call $bundles[0] @{ Destination = $dest; Force = $true }
        $out.Name | Should -Be $name
        Get-Content -LiteralPath (Join-Path $dest $name) -Raw | Should -Not -Match 'keep me'
    }
}

Describe '<Writer> -OutFile' -Skip:(-not $haveOpenSsl) -ForEach $writers {
    It 'writes the first bundle and says OutputPathAmbiguous for each later one' {
        $other = ConvertFrom-ServiceKey (New-TestServiceKey -Name "other-$Writer.json" -Pki $pki)
        $file = Join-Path $TestFolder "one-$Writer$Ext"
        $out = & $Call @($bundles[0], $bundles[1], $other) @{ OutFile = $file } -ErrorVariable failed -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 1
        $out.FullName | Should -Be $file
        if ($Writer -eq 'Export-CertificateChain') {
            # The same chain again is the same content: written once, not an error.
            $failed | Should -BeNullOrEmpty
        }
        else {
            $failed.Count | Should -Be 2
            $failed | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'OutputPathAmbiguous,*' }
            "$($failed[0])" | Should -Match '-Destination'
        }
    }

    It 'creates the missing folder of -OutFile, and nothing with -WhatIf' {
        $file = Join-Path $TestFolder "outdir-$Writer/a/file$Ext"
        & $Call $bundles[0] @{ OutFile = $file; WhatIf = $true }
        Test-Path -LiteralPath (Join-Path $TestFolder "outdir-$Writer") | Should -BeFalse
        (& $Call $bundles[0] @{ OutFile = $file }).FullName | Should -Be $file
    }

    It 'refuses -OutFile with -Destination' {
        { & $Call $bundles[0] @{ OutFile = (Join-Path $TestFolder 'x'); Destination = $TestFolder } } | Should -Throw -ErrorId 'OutFileAndDestination*'
    }
}

Describe 'Export-CertificateChain -OutFile' -Skip:(-not $haveOpenSsl) {
    It 'writes one certificate, and says OutputPathAmbiguous when the chain would put more into it' {
        $file = Join-Path $TestFolder 'leaf.cer'
        $out = $bundles[0] | Export-CertificateChain -Include Leaf -OutFile $file
        $out.FullName | Should -Be $file
        (Import-CertificateBundle $file).Subject | Should -Be 'CN=Pester Client'

        $all = Join-Path $TestFolder 'all.cer'
        $out = $bundles[0] | Export-CertificateChain -OutFile $all -ErrorVariable failed -ErrorAction SilentlyContinue
        @($out).Count | Should -Be 1
        $failed.Count | Should -Be 2
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'OutputPathAmbiguous,*'
        "$($failed[0])" | Should -Match 'PemBundle'
    }
}

Describe 'File names the module makes' -Skip:(-not $haveOpenSsl) {
    It 'carry no ''!'' of SAP client ids: <Writer>' -ForEach @(
        @{ Writer = 'New-PfxFromPem'; Expected = 'sb-pester_b18762.pfx'; Call = { param($b, $d) $b | New-PfxFromPem -Destination $d -Password $pw } }
        @{ Writer = 'Export-PrivateKey'; Expected = 'sb-pester_b18762.key'; Call = { param($b, $d) $b | Export-PrivateKey -Destination $d } }
    ) {
        $bundle = ConvertFrom-ServiceKey -LiteralPath (Join-Path $keys 'sb-pester!b18762.json')
        $dest = Join-Path $TestFolder "bang-$Writer"
        (& $Call $bundle $dest).Name | Should -Be $Expected
    }

    It 'carry no character a shell reads specially, from a certificate''s common name: <Writer>' -ForEach @(
        @{ Writer = 'Export-CertificateChain'; Expected = 'leaf-sb-abc_b18762_it-rt-x_b196_x_y_z_a_q_r_p_1_2_3.pem'; Call = { param($c, $d) $c | Export-CertificateChain -Destination $d -Format Pem } }
        @{ Writer = 'New-PfxFromPem'; Expected = 'sb-abc_b18762_it-rt-x_b196_x_y_z_a_q_r_p_1_2_3.pfx'; Call = { param($c, $d) $c | New-PfxFromPem -Destination $d -Password $pw } }
        @{ Writer = 'Export-PrivateKey'; Expected = 'sb-abc_b18762_it-rt-x_b196_x_y_z_a_q_r_p_1_2_3.key'; Call = { param($c, $d) $c | Export-PrivateKey -Destination $d } }
    ) {
        # A self-signed certificate with its key, made in .NET: a certificate has no source file, so its name is used.
        $cn = 'sb-abc!b18762|it-rt-x!b196 $x`y&z;<a>"q''r%p^(1)[2]{3}#~=,@'
        $dn = [System.Security.Cryptography.X509Certificates.X500DistinguishedName]::new('CN="' + ($cn -replace '"', '""') + '"')
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new($dn, [System.Security.Cryptography.RSA]::Create(2048),
            [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $cert = $request.CreateSelfSigned([datetimeoffset]::UtcNow.AddDays(-1), [datetimeoffset]::UtcNow.AddDays(30))
        $cert.GetNameInfo('SimpleName', $false) | Should -Be $cn
        $file = & $Call $cert (Join-Path $TestFolder "special-$Writer")
        $file.Name | Should -Be $Expected
        $file.Name | Should -Not -Match '[!$`&|;<>"''%^ ()\[\]{}#~=,@]'
    }
}
