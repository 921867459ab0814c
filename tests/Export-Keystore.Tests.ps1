#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Export-Keystore through the built module: JKS and PKCS#12 keystores read by keytool (entry types and aliases), by
    openssl and by Import-CertificateBundle; the tenant keystore's alias rules (reserved prefixes in any case,
    duplicates ignoring case, 250 characters, characters); wrong input; -WhatIf, -Force, the owner-only mode and the
    2 MB warning; the help's examples, run. The test PKI is made with openssl: without it the tests are skipped, and
    the tests that read the files with keytool say they are skipped when keytool is missing.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    $haveKeytool = [bool](Get-Command keytool -CommandType Application -ErrorAction SilentlyContinue)
    if (-not $haveOpenSsl) {
        Write-Warning 'openssl is not on PATH: the Export-Keystore tests are skipped (they make their test certificates with openssl).'
    }
    if (-not $haveKeytool) {
        Write-Warning 'keytool is not on PATH: the Export-Keystore tests that read the keystores with keytool are skipped.'
    }
    $isUnix = -not ($IsWindows -or $PSVersionTable.PSEdition -eq 'Desktop')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $plainPw = 'Ks-store-pw1'
    $pw = ConvertTo-SecureString $plainPw -AsPlainText -Force

    # keytool's view of a keystore: Type (keytool's "Keystore type") and, per alias, the entry type and chain length.
    function Get-KeytoolList {
        param([Parameter(Mandatory)] [string] $File, [string] $StorePass = $plainPw)
        $ErrorActionPreference = 'Continue'
        $output = @(& keytool -list -v -keystore $File -storepass $StorePass 2>&1 | ForEach-Object { "$_" })
        if ($LASTEXITCODE -ne 0) {
            throw "keytool -list failed ($LASTEXITCODE): $($output -join "`n")"
        }
        $entries = [ordered]@{}
        $alias = $null
        $type = $null
        foreach ($line in $output) {
            if ($line -match '^Keystore type: (.+)$') { $type = $Matches[1].Trim() }
            elseif ($line -match '^Alias name: (.+)$') { $alias = $Matches[1].Trim() }
            elseif ($line -match '^Entry type: (.+)$') { $entries[$alias] = [pscustomobject]@{ EntryType = $Matches[1].Trim(); ChainLength = 1 } }
            elseif ($line -match '^Certificate chain length: (\d+)') { $entries[$alias].ChainLength = [int]$Matches[1] }
        }
        [pscustomobject]@{ Type = $type; Entries = $entries }
    }

    function Get-Head([string] $File, [int] $Count = 4) {
        $bytes = [System.IO.File]::ReadAllBytes($File)
        ($bytes[0..($Count - 1)] | ForEach-Object { $_.ToString('X2') }) -join ''
    }

    # A self-signed certificate made in .NET, without a key; -Padding adds a private extension of that many bytes.
    function New-DotNetCertificate {
        param([Parameter(Mandatory)] [string] $CommonName, [int] $Padding = 0, [switch] $WithKey)
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new("CN=$CommonName", $rsa,
            [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        if ($Padding -gt 0) {
            $request.CertificateExtensions.Add([System.Security.Cryptography.X509Certificates.X509Extension]::new('1.3.6.1.4.1.99999.1', [byte[]]::new($Padding), $false))
        }
        $made = $request.CreateSelfSigned([datetimeoffset]::UtcNow.AddDays(-1), [datetimeoffset]::UtcNow.AddDays(30))
        if ($WithKey) {
            # Through a PFX with an exportable key: an ephemeral Windows (CNG) key may refuse its export.
            return [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($made.Export('Pfx', 'pw'), 'pw', 'Exportable')
        }
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($made.RawData)
    }

    if (Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue) {
        $pki = Get-TestPki
        $client = ConvertFrom-ServiceKey (New-TestServiceKey -Name 'cpi-cert-key.json' -Pki $pki)
        $partnerRoot = New-TestRootCertificate -CommonName 'Partner Root CA'
        $backendRoot = New-TestRootCertificate -CommonName 'Backend Root CA'
        $partner = Import-CertificateBundle -LiteralPath $partnerRoot.Cert
        $backend = Import-CertificateBundle -LiteralPath $backendRoot.Cert
        $out = Join-Path $TestFolder 'out'
        $null = New-Item -ItemType Directory -Path $out
    }
}

AfterAll {
    Remove-TestFolder
}

Describe 'Export-Keystore -Format Jks' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $jks = Join-Path $out 'tenant.jks'
        $written = $client, $partner | Export-Keystore -OutFile $jks -Format Jks -Password $pw
    }

    It 'returns the file item of a file that starts with the JKS magic bytes FEEDFEED' {
        $written.FullName | Should -Be $jks
        $written | Should -BeOfType System.IO.FileInfo
        Get-Head $jks | Should -Be 'FEEDFEED'
    }

    It 'is read by keytool as a JKS with a PrivateKeyEntry (chain of 3) and a trustedCertEntry' -Skip:(-not $haveKeytool) {
        $list = Get-KeytoolList $jks
        $list.Type | Should -Be 'JKS'
        @($list.Entries.Keys) | Should -Be @('partner-root-ca', 'pester-client')
        $list.Entries['pester-client'].EntryType | Should -Be 'PrivateKeyEntry'
        $list.Entries['pester-client'].ChainLength | Should -Be 3
        $list.Entries['partner-root-ca'].EntryType | Should -Be 'trustedCertEntry'
    }

    It 'protects the key with the keystore password (keytool signs a CSR with the store password alone)' -Skip:(-not $haveKeytool) {
        $ErrorActionPreference = 'Continue'
        $csr = & keytool -certreq -alias pester-client -keystore $jks -storepass $plainPw 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $csr
        $csr | Should -Match 'BEGIN NEW CERTIFICATE REQUEST'
    }

    It 'is read back by Import-CertificateBundle with aliases, key and chain' {
        $back = @(Import-CertificateBundle -LiteralPath $jks -Password $pw | Sort-Object Alias)
        $back.Count | Should -Be 2
        $back[0].Alias | Should -Be 'partner-root-ca'
        $back[0].HasPrivateKey | Should -BeFalse
        $back[0].Thumbprint | Should -Be $partner.Thumbprint
        $back[1].Alias | Should -Be 'pester-client'
        $back[1].HasPrivateKey | Should -BeTrue
        @($back[1].Chain.Thumbprint) | Should -Be @($client.Chain.Thumbprint)
    }

    It 'is owner-only (0600) from its creation' -Skip:(-not $isUnix) {
        (Get-Item -LiteralPath $jks).UnixMode | Should -Be '-rw-------'
    }

    It 'is a JKS for an .jks -OutFile without -Format' {
        $file = Join-Path $out 'by-extension.jks'
        $null = $partner | Export-Keystore -OutFile $file -Password $pw -WarningVariable w
        $w | Should -BeNullOrEmpty
        Get-Head $file | Should -Be 'FEEDFEED'
    }
}

Describe 'Export-Keystore -Format Pkcs12' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $p12 = Join-Path $out 'tenant.p12'
        $written = $client, $partner | Export-Keystore -OutFile $p12 -Password $pw
    }

    It 'is a DER SEQUENCE, not a JKS, for a .p12 -OutFile without -Format' {
        $written.FullName | Should -Be $p12
        $head = Get-Head $p12 2
        $head | Should -Be '3082'
        Get-Head $p12 | Should -Not -Be 'FEEDFEED'
    }

    It 'is read by keytool as PKCS12 with a PrivateKeyEntry (chain of 3) and a trustedCertEntry' -Skip:(-not $haveKeytool) {
        $list = Get-KeytoolList $p12
        $list.Type | Should -Be 'PKCS12'
        @($list.Entries.Keys) | Should -Be @('partner-root-ca', 'pester-client')
        $list.Entries['pester-client'].EntryType | Should -Be 'PrivateKeyEntry'
        $list.Entries['pester-client'].ChainLength | Should -Be 3
        $list.Entries['partner-root-ca'].EntryType | Should -Be 'trustedCertEntry'
    }

    It 'is read by openssl, with the trusted-key-usage attribute on the trusted certificate' {
        $info = Invoke-OpenSsl @('pkcs12', '-in', $p12, '-passin', "pass:$plainPw", '-nokeys', '-info') | Out-String
        $info | Should -Match 'friendlyName: partner-root-ca'
        $info | Should -Match '2\.16\.840\.1\.113894\.746875\.1\.1'
        $info | Should -Match 'friendlyName: pester-client'
        $null = Invoke-OpenSsl @('pkcs12', '-in', $p12, '-passin', "pass:$plainPw", '-noout')
    }

    It 'is read back by Import-CertificateBundle with aliases, key and chain' {
        $back = @(Import-CertificateBundle -LiteralPath $p12 -Password $pw | Sort-Object Alias)
        $back.Count | Should -Be 2
        $back.Alias | Should -Be @('partner-root-ca', 'pester-client')
        $back[1].HasPrivateKey | Should -BeTrue
        @($back[1].Chain.Thumbprint) | Should -Be @($client.Chain.Thumbprint)
    }

    It 'is owner-only (0600) from its creation' -Skip:(-not $isUnix) {
        (Get-Item -LiteralPath $p12).UnixMode | Should -Be '-rw-------'
    }

    It 'warns when -OutFile has no keystore extension, or one of the other format' {
        $null = $partner | Export-Keystore -OutFile (Join-Path $out 'noext.bin') -Password $pw -WarningVariable w -WarningAction SilentlyContinue
        ($w -join ' ') | Should -Match 'extension'
        Get-Head (Join-Path $out 'noext.bin') 1 | Should -Be '30'
        $null = $partner | Export-Keystore -OutFile (Join-Path $out 'mismatch.p12') -Format Jks -Password $pw -WarningVariable w2 -WarningAction SilentlyContinue
        ($w2 -join ' ') | Should -Match 'Jks'
        Get-Head (Join-Path $out 'mismatch.p12') | Should -Be 'FEEDFEED'
    }
}

Describe 'Export-Keystore inputs' -Skip:(-not $haveOpenSsl) {
    It 'makes one trusted entry per certificate of a chain without key, and a key entry of an X509Certificate2 with key' {
        $chainOnly = Import-CertificateBundle -LiteralPath $pki.FullChainFile
        $chainOnly.HasPrivateKey | Should -BeFalse
        $withKey = New-DotNetCertificate -CommonName 'DotNet Client' -WithKey
        $file = Join-Path $out 'mixed.jks'
        $null = $chainOnly, $withKey | Export-Keystore -OutFile $file -Password $pw
        $back = @(Import-CertificateBundle -LiteralPath $file -Password $pw)
        @($back | Where-Object HasPrivateKey).Alias | Should -Be 'dotnet-client'
        # Read back, the three certificates form one chain again, named by its leaf.
        $trusted = $back | Where-Object { -not $_.HasPrivateKey }
        $trusted.Alias | Should -Be 'pester-client'
        @($trusted.Chain.Thumbprint) | Should -Be @($chainOnly.Chain.Thumbprint)
    }

    It 'lists one trustedCertEntry per certificate of a chain without key in keytool' -Skip:(-not $haveKeytool) {
        $file = Join-Path $out 'chain-only.p12'
        $null = Import-CertificateBundle -LiteralPath $pki.FullChainFile | Export-Keystore -OutFile $file -Password $pw
        $list = Get-KeytoolList $file
        @($list.Entries.Keys | Sort-Object) | Should -Be @('pester-client', 'pester-intermediate-ca', 'pester-root-ca')
        @($list.Entries.Values.EntryType | Select-Object -Unique) | Should -Be 'trustedCertEntry'
    }

    It 'reads -Path with wildcards, and writes the same certificate once' {
        $folder = Join-Path $TestFolder 'certs'
        $null = New-Item -ItemType Directory -Path $folder -Force
        Copy-Item -LiteralPath $partnerRoot.Cert -Destination (Join-Path $folder 'partner.cer')
        Copy-Item -LiteralPath $partnerRoot.Cert -Destination (Join-Path $folder 'partner-again.cer')
        Copy-Item -LiteralPath $backendRoot.Cert -Destination (Join-Path $folder 'backend.cer')
        $file = Join-Path $out 'folder.jks'
        $null = Export-Keystore -Path (Join-Path $folder '*.cer') -OutFile $file -Password $pw
        @(Import-CertificateBundle -LiteralPath $file -Password $pw | ForEach-Object Alias | Sort-Object) | Should -Be @('backend-root-ca', 'partner-root-ca')
    }

    It 'reads a PFX given with -SourcePassword and keeps its friendlyName as alias' {
        $pfx = Join-Path $TestFolder 'named.pfx'
        $null = Invoke-OpenSsl @('pkcs12', '-export', '-in', $pki.LeafCert, '-inkey', $pki.LeafKey, '-certfile', $pki.ChainFile, '-name', 'partner-client', '-passout', 'pass:src-pw', '-out', $pfx)
        $file = Join-Path $out 'from-pfx.p12'
        $null = Export-Keystore -LiteralPath $pfx -SourcePassword (ConvertTo-SecureString 'src-pw' -AsPlainText -Force) -OutFile $file -Password $pw
        $back = Import-CertificateBundle -LiteralPath $file -Password $pw
        $back.Alias | Should -Be 'partner-client'
        $back.HasPrivateKey | Should -BeTrue
    }

    It 'uses -Alias for the one input, and one alias per input in input order' {
        $one = Join-Path $out 'one-alias.jks'
        $null = $client | Export-Keystore -OutFile $one -Password $pw -Alias 'cpi_client_key'
        (Import-CertificateBundle -LiteralPath $one -Password $pw).Alias | Should -Be 'cpi_client_key'

        $two = Join-Path $out 'two-alias.p12'
        $null = $partner, $backend | Export-Keystore -OutFile $two -Password $pw -Alias 'Partner_A_Root', 'backend_root'
        $back = @(Import-CertificateBundle -LiteralPath $two -Password $pw)
        ($back | Where-Object Thumbprint -eq $partner.Thumbprint).Alias | Should -Be 'Partner_A_Root'
        ($back | Where-Object Thumbprint -eq $backend.Thumbprint).Alias | Should -Be 'backend_root'
    }

    It 'writes -Alias in lowercase into a JKS, and says so' {
        $file = Join-Path $out 'upper.jks'
        $null = $partner | Export-Keystore -OutFile $file -Password $pw -Alias 'Partner_Root' -Verbose 4>&1 | Tee-Object -Variable said
        ($said | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String) | Should -Match "'partner_root'"
        (Import-CertificateBundle -LiteralPath $file -Password $pw).Alias | Should -Be 'partner_root'
    }

    It 'fits a made alias that is taken with the thumbprint, and keeps made aliases clear of the reserved prefixes' {
        $a = New-DotNetCertificate -CommonName 'Same Name'
        $b = New-DotNetCertificate -CommonName 'Same Name'
        $sap = New-DotNetCertificate -CommonName 'SAP_Partner Root'
        $file = Join-Path $out 'same.jks'
        $null = $a, $b, $sap | Export-Keystore -OutFile $file -Password $pw
        $back = @(Import-CertificateBundle -LiteralPath $file -Password $pw)
        ($back | Where-Object Thumbprint -eq $a.Thumbprint).Alias | Should -Be 'same-name'
        ($back | Where-Object Thumbprint -eq $b.Thumbprint).Alias | Should -Be ('same-name-' + $b.Thumbprint.Substring(0, 8).ToLowerInvariant())
        ($back | Where-Object Thumbprint -eq $sap.Thumbprint).Alias | Should -Be 'cert-sap_partner-root'
    }
}

Describe 'Export-Keystore alias rules' -Skip:(-not $haveOpenSsl) {
    It 'refuses the reserved alias <Alias> and writes nothing' -ForEach @(
        @{ Alias = 'sap_partner' }, @{ Alias = 'SAP_Partner' }, @{ Alias = 'Sap_x' }
        @{ Alias = 'hcicertificate' }, @{ Alias = 'HCICertificate1' }, @{ Alias = 'hciCertificateX' }
        @{ Alias = 'hcimsgcertificate' }, @{ Alias = 'HciMsgCertificate2' }
    ) {
        $file = Join-Path $out "reserved-$Alias.jks"
        { $partner | Export-Keystore -OutFile $file -Password $pw -Alias $Alias } | Should -Throw -ErrorId 'KeystoreAliasReserved*'
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'accepts aliases that only look like reserved ones: <Alias>' -ForEach @(@{ Alias = 'sapx' }, @{ Alias = 'my_sap_root' }, @{ Alias = 'hci-certificate' }) {
        $file = Join-Path $out "near-$Alias.jks"
        $null = $partner | Export-Keystore -OutFile $file -Password $pw -Alias $Alias
        (Import-CertificateBundle -LiteralPath $file -Password $pw).Alias | Should -Be $Alias
    }

    It 'refuses a reserved alias a keystore file kept, as an error of that input, and writes nothing' -Skip:(-not $haveKeytool) {
        $sapJks = Join-Path $TestFolder 'sap-named.jks'
        $null = & keytool -importcert -noprompt -alias 'sap_partner' -file $partnerRoot.Cert -keystore $sapJks -storetype JKS -storepass 'store-pw' 2>&1
        $LASTEXITCODE | Should -Be 0
        $kept = Import-CertificateBundle -LiteralPath $sapJks -Password (ConvertTo-SecureString 'store-pw' -AsPlainText -Force)
        $kept.Alias | Should -Be 'sap_partner'
        $file = Join-Path $out 'kept-reserved.jks'
        $result = $backend, $kept | Export-Keystore -OutFile $file -Password $pw -ErrorVariable failed -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        @($failed.FullyQualifiedErrorId -replace ',.*$') | Should -Be @('KeystoreAliasReserved', 'KeystoreNotWritten')
        $failed[0].TargetObject | Should -Be $kept
        "$($failed[0])" | Should -Match '-Alias'
        Test-Path -LiteralPath $file | Should -BeFalse

        # Given a new alias, the same input goes in.
        $null = $backend, $kept | Export-Keystore -OutFile $file -Password $pw -Alias 'backend_root', 'partner_root'
        @(Import-CertificateBundle -LiteralPath $file -Password $pw).Count | Should -Be 2
    }

    It 'refuses -Alias that names one alias twice, ignoring case' {
        $file = Join-Path $out 'dup-given.jks'
        { $partner, $backend | Export-Keystore -OutFile $file -Password $pw -Alias 'root', 'ROOT' } | Should -Throw -ErrorId 'KeystoreAliasDuplicate*'
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'refuses two kept aliases that differ only in case, and writes nothing' {
        $p1 = Join-Path $TestFolder 'partner-one.p12'
        $p2 = Join-Path $TestFolder 'partner-two.p12'
        $src = ConvertTo-SecureString 'src-pw' -AsPlainText -Force
        $null = $partner | Export-Keystore -OutFile $p1 -Password $src -Alias 'partner'
        $null = $backend | Export-Keystore -OutFile $p2 -Password $src -Alias 'PARTNER'
        $file = Join-Path $out 'dup-kept.p12'
        $null = Export-Keystore -LiteralPath $p1, $p2 -SourcePassword $src -OutFile $file -Password $pw -ErrorVariable failed -ErrorAction SilentlyContinue
        @($failed.FullyQualifiedErrorId -replace ',.*$') | Should -Be @('KeystoreAliasDuplicate', 'KeystoreNotWritten')
        "$($failed[0])" | Should -Match "'PARTNER'"
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'takes an alias of 250 characters and refuses one of 251' {
        $file = Join-Path $out 'long.p12'
        $null = $partner | Export-Keystore -OutFile $file -Password $pw -Alias ('a' * 250)
        (Import-CertificateBundle -LiteralPath $file -Password $pw).Alias | Should -Be ('a' * 250)
        { $partner | Export-Keystore -OutFile (Join-Path $out 'too-long.p12') -Password $pw -Alias ('a' * 251) } | Should -Throw -ErrorId 'KeystoreAliasTooLong*'
        Test-Path -LiteralPath (Join-Path $out 'too-long.p12') | Should -BeFalse
    }

    It 'refuses the alias <Name>' -ForEach @(
        @{ Name = 'with a slash'; Alias = 'a/b' }
        @{ Name = 'with a colon'; Alias = 'a:b' }
        @{ Name = 'with a tab'; Alias = "a`tb" }
        @{ Name = 'with a non-ASCII letter'; Alias = 'zertifikat-ä' }
        @{ Name = 'with a trailing space'; Alias = 'root ' }
        @{ Name = 'of spaces only'; Alias = '   ' }
    ) {
        $file = Join-Path $out 'bad-char.p12'
        { $partner | Export-Keystore -OutFile $file -Password $pw -Alias $Alias } | Should -Throw -ErrorId 'KeystoreAliasInvalid*'
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'says KeystoreAliasCountMismatch for -Alias that does not match the inputs, and writes nothing' {
        $file = Join-Path $out 'count.jks'
        $null = $partner, $backend, $client | Export-Keystore -OutFile $file -Password $pw -Alias 'one', 'two' -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'KeystoreAliasCountMismatch,*'
        "$($failed[0])" | Should -Match '2 alias\(es\) for 3 input\(s\)'
        Test-Path -LiteralPath $file | Should -BeFalse
    }
}

Describe 'Export-Keystore refusals and writing guarantees' -Skip:(-not $haveOpenSsl) {
    It 'says InputNotCertificate for an object that is no certificate, FileNotFound for a missing file, and writes nothing' {
        $file = Join-Path $out 'wrong.jks'
        $result = $partner, 42, (Join-Path $TestFolder 'missing.cer') | Export-Keystore -OutFile $file -Password $pw -ErrorVariable failed -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        @($failed.FullyQualifiedErrorId -replace ',.*$') | Should -Be @('InputNotCertificate', 'FileNotFound', 'KeystoreNotWritten')
        $failed[0].TargetObject | Should -Be 42
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'says KeystoreEmpty without input' {
        $file = Join-Path $out 'empty.jks'
        $null = @() | Export-Keystore -OutFile $file -Password $pw -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'KeystoreEmpty,*'
        Test-Path -LiteralPath $file | Should -BeFalse
    }

    It 'refuses an empty password and warns about one keytool refuses' {
        { $partner | Export-Keystore -OutFile (Join-Path $out 'nopw.jks') -Password (New-Object System.Security.SecureString) } | Should -Throw -ErrorId 'PasswordEmpty*'
        $null = $partner | Export-Keystore -OutFile (Join-Path $out 'shortpw.jks') -Password (ConvertTo-SecureString 'abc' -AsPlainText -Force) -WarningVariable w -WarningAction SilentlyContinue
        ($w -join ' ') | Should -Match '6 characters'
        ($w -join ' ') | Should -Not -Match 'abc'
    }

    It 'writes nothing with -WhatIf, and shows every entry' {
        $file = Join-Path $out 'whatif/next.jks'
        $result = $client, $partner | Export-Keystore -OutFile $file -Password $pw -WhatIf
        $result | Should -BeNullOrEmpty
        Test-Path -LiteralPath (Join-Path $out 'whatif') | Should -BeFalse

        # What -WhatIf prints goes to the host: a child pwsh shows it.
        $script = "Import-Module '$ModuleManifest'; `$pw = ConvertTo-SecureString 'Ks-store-pw1' -AsPlainText -Force; " +
            "Import-CertificateBundle -LiteralPath '$($partnerRoot.Cert)', '$($backendRoot.Cert)' | Export-Keystore -OutFile '$file' -Password `$pw -WhatIf"
        $shown = & (Get-Pwsh) -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        $shown | Should -Match "trusted certificate 'partner-root-ca' \(CN=Partner Root CA\)"
        $shown | Should -Match "trusted certificate 'backend-root-ca'"
        $shown | Should -Match '2 entries'
        Test-Path -LiteralPath (Join-Path $out 'whatif') | Should -BeFalse
    }

    It 'does not overwrite an existing file without -Force, and does with it' {
        $file = Join-Path $out 'exists.jks'
        Set-Content -LiteralPath $file -Value 'keep me'
        $result = $partner | Export-Keystore -OutFile $file -Password $pw -ErrorVariable failed -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content -LiteralPath $file | Should -Be 'keep me'

        $null = $partner | Export-Keystore -OutFile $file -Password $pw -Force
        Get-Head $file | Should -Be 'FEEDFEED'
    }

    It 'warns beyond the 2 MB the Keystore Monitor uploads as a whole JKS, and writes it' {
        $big = 1..3 | ForEach-Object { New-DotNetCertificate -CommonName "Big $_" -Padding 700000 }
        $file = Join-Path $out 'big.jks'
        $written = $big | Export-Keystore -OutFile $file -Password $pw -WarningVariable w -WarningAction SilentlyContinue
        $written.Length | Should -BeGreaterThan 2000000
        ($w -join ' ') | Should -Match '2 MB'
        ($w -join ' ') | Should -Match 'Managing Keystore Entries'

        $small = Join-Path $out 'small.jks'
        $null = $big[0] | Export-Keystore -OutFile $small -Password $pw -WarningVariable w2
        $w2 | Should -BeNullOrEmpty
    }
}

Describe 'Help of Export-Keystore' -Skip:(-not $haveOpenSsl) {
    It 'has examples that run as written' {
        $examples = @((Get-Help Export-Keystore -Full).examples.example)
        $examples.Count | Should -BeGreaterOrEqual 5
        $folder = Join-Path $TestFolder 'examples'
        $null = New-Item -ItemType Directory -Path (Join-Path $folder 'partners') -Force
        Copy-Item -LiteralPath $partnerRoot.Cert -Destination (Join-Path $folder 'partner-root.cer')
        Copy-Item -LiteralPath $backendRoot.Cert -Destination (Join-Path $folder 'backend-root.cer')
        Copy-Item -LiteralPath $partnerRoot.Cert -Destination (Join-Path $folder 'partners/a.cer')
        Copy-Item -LiteralPath $backendRoot.Cert -Destination (Join-Path $folder 'partners/b.cer')
        Copy-Item -LiteralPath (Join-Path $TestFolder 'cpi-cert-key.json') -Destination $folder
        Push-Location $folder
        try {
            foreach ($example in $examples) {
                # Read-Host cannot prompt here: $pw is set instead.
                $code = (("$($example.code)" -split "`r?`n") | Where-Object { $_ -notmatch 'Read-Host' }) -join "`n"
                $errors = $null
                $null = [System.Management.Automation.Language.Parser]::ParseInput($code, [ref]$null, [ref]$errors)
                $errors | Should -BeNullOrEmpty -Because $code
                # Every error of the example stops it, so an example that fails fails the test.
                { $null = & ([scriptblock]::Create("`$ErrorActionPreference = 'Stop'`n" + $code)) } | Should -Not -Throw -Because $code
            }
        }
        finally {
            Pop-Location
        }
        Get-Head (Join-Path $folder 'tenant.jks') | Should -Be 'FEEDFEED'
        (Import-CertificateBundle -LiteralPath (Join-Path $folder 'client-key.p12') -Password $pw).Alias | Should -Be 'cpi_client_key'
        @(Import-CertificateBundle -LiteralPath (Join-Path $folder 'partners.jks') -Password $pw).Count | Should -Be 2
        @(Import-CertificateBundle -LiteralPath (Join-Path $folder 'roots.p12') -Password $pw | ForEach-Object Alias | Sort-Object) | Should -Be @('backend_root', 'partner_a_root')
        Test-Path -LiteralPath (Join-Path $folder 'next.jks') | Should -BeFalse
    }
}
