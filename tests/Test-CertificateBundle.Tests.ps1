#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Test-CertificateBundle through a real pwsh: every finding code on certificates made with openssl (the test PKI of
    common.ps1 and certificates made here under its intermediate), -Purpose, -MinimumDaysValid, -TrustedCertificate,
    -At (also under TZ=Pacific/Auckland: tag TimeZone), -Quiet, the views at 80 and 120 columns, JSON and CSV.
#>

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $pki = Get-TestPki

    # A certificate issued by $IssuerCert/$IssuerKey (self-signed without them) with the given key size, digest,
    # validity and extensions; returns Cert and Key paths.
    function New-IssuedCertificate {
        param(
            [Parameter(Mandatory)] [string] $Name,
            [string] $IssuerCert, [string] $IssuerKey,
            [int] $Days = 30, [int] $Bits = 2048, [string] $Digest = 'sha256',
            [string] $Extensions = "basicConstraints = CA:FALSE`nkeyUsage = critical,digitalSignature,keyEncipherment`nextendedKeyUsage = clientAuth`nsubjectKeyIdentifier = hash`nauthorityKeyIdentifier = keyid"
        )
        $cnf = Join-Path $TestFolder "$Name.cnf"
        "[ext]`n$Extensions`n" | Set-Content -LiteralPath $cnf -Encoding Ascii
        $key = Join-Path $TestFolder "$Name.key"
        $cert = Join-Path $TestFolder "$Name.crt"
        $csr = Join-Path $TestFolder "$Name.csr"
        $serial = '0x' + [guid]::NewGuid().ToString('N').Substring(0, 16)
        $null = Invoke-OpenSsl @('req', '-new', '-newkey', "rsa:$Bits", '-nodes', '-keyout', $key, '-out', $csr, '-subj', "/CN=$Name")
        if ($IssuerCert) {
            $null = Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-CA', $IssuerCert, '-CAkey', $IssuerKey, '-set_serial', $serial, "-$Digest",
                '-out', $cert, '-days', "$Days", '-extfile', $cnf, '-extensions', 'ext')
        }
        else {
            $null = Invoke-OpenSsl @('x509', '-req', '-in', $csr, '-signkey', $key, '-set_serial', $serial, "-$Digest",
                '-out', $cert, '-days', "$Days", '-extfile', $cnf, '-extensions', 'ext')
        }
        [pscustomobject]@{ Cert = $cert; Key = $key }
    }

    function Join-Pem {
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string[]] $Files)
        $path = Join-Path $TestFolder $Name
        Set-Content -LiteralPath $path -NoNewline -Encoding Ascii -Value (($Files | ForEach-Object { (Get-Content -LiteralPath $_ -Raw) -replace "`r`n", "`n" }) -join '')
        $path
    }

    function Get-Codes { param($Result) @($Result.Findings | ForEach-Object Code) }

    $caExt = "basicConstraints = critical,CA:TRUE`nkeyUsage = critical,keyCertSign,cRLSign`nsubjectKeyIdentifier = hash`nauthorityKeyIdentifier = keyid"
    $goodKey = New-TestServiceKey -Name 'good-key.json' -Pki $pki
    $notAfterUtc = (ConvertFrom-ServiceKey $goodKey).NotAfter.ToUniversalTime()
    $server = New-TestServerCertificate -Pki $pki
    $otherRoot = New-TestRootCertificate -CommonName 'Pester Other Root'
}

AfterAll {
    Remove-TestFolder
}

Describe 'Test-CertificateBundle' {
    Context 'a good certificate' {
        It 'passes a service key of the test PKI with a window it meets, with no findings' {
            $r = Test-CertificateBundle $goodKey -MinimumDaysValid 10 -TrustedCertificate $pki.RootCert
            $r | Should -HaveCount 1
            $r | Should -BeOfType ([CertIntegration.CertificateTestResult])
            $r.Passed | Should -BeTrue
            $r.Findings | Should -HaveCount 0
            $r.CommonName | Should -Be 'Pester Client'
            $r.Subject | Should -Be 'CN=Pester Client'
            $r.Thumbprint | Should -Be (ConvertFrom-ServiceKey $goodKey).Thumbprint
            $r.ChainLength | Should -Be 3
            $r.HasPrivateKey | Should -BeTrue
            $r.Source | Should -Be (Get-Item -LiteralPath $goodKey).FullName
            $r.ClientId | Should -Be 'sb-pester-client!b1|it-rt-pester!b2'
            $r.Purpose | Should -Be 'Client'
        }

        It 'takes bundles, X509Certificate2 objects, FileInfo, -Path and -LiteralPath alike' {
            $x509 = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.FullChainFile)
            (ConvertFrom-ServiceKey $goodKey | Test-CertificateBundle -MinimumDaysValid 10).Passed | Should -BeTrue
            (Get-Item -LiteralPath $goodKey | Test-CertificateBundle -MinimumDaysValid 10).Passed | Should -BeTrue
            (Test-CertificateBundle -Path (Join-Path $TestFolder 'good-*.json') -MinimumDaysValid 10).Passed | Should -BeTrue
            (Test-CertificateBundle -LiteralPath $goodKey -MinimumDaysValid 10).Passed | Should -BeTrue
            # One certificate without its chain: the issuer is missing unless the other side trusts it.
            $single = $x509 | Test-CertificateBundle -MinimumDaysValid 10
            Get-Codes $single | Should -Be @('ChainIncomplete')
            ($x509 | Test-CertificateBundle -MinimumDaysValid 10 -TrustedCertificate $pki.IntermediateCert).Passed | Should -BeTrue
        }
    }

    Context 'expiry' {
        It 'ExpiresSoon: a leaf that expires within the default 30-day window' {
            $r = Test-CertificateBundle $goodKey
            $r.Passed | Should -BeFalse
            Get-Codes $r | Should -Be @('ExpiresSoon')
            $r.Findings[0].Severity | Should -Be 'Error'
            $r.Findings[0].Message | Should -Match 'within the 30-day window'
            $r.Findings[0].Message | Should -Match 'create a new service key'
            $r.DaysRemaining | Should -Be 29
        }

        It 'Expired: -At after the leaf''s NotAfter' {
            $r = Test-CertificateBundle $goodKey -At $notAfterUtc.AddHours(1)
            Get-Codes $r | Should -Contain 'Expired'
            Get-Codes $r | Should -Not -Contain 'ExpiresSoon'
            $r.DaysRemaining | Should -Be -1
            $r.Findings.Where({ $_.Code -eq 'Expired' })[0].Message | Should -Match 'expired on .* replace it wherever it is used'
        }

        It 'NotYetValid: -At before the leaf''s NotBefore' {
            $r = Test-CertificateBundle $goodKey -At ([datetime]::UtcNow.AddDays(-2))
            Get-Codes $r | Should -Be @('NotYetValid')
            $r.Passed | Should -BeFalse
        }

        It '-MinimumDaysValid 0 checks only that the certificate is valid' {
            (Test-CertificateBundle $goodKey -MinimumDaysValid 0).Passed | Should -BeTrue
        }

        It 'IntermediateExpiresFirst: a warning for a CA that expires before the leaf, an error once within the window' {
            $int = New-IssuedCertificate -Name 'Pester Short Intermediate' -IssuerCert $pki.RootCert -IssuerKey $pki.RootKey -Days 20 -Extensions $caExt
            $leaf = New-IssuedCertificate -Name 'Pester Long Leaf' -IssuerCert $int.Cert -IssuerKey $int.Key -Days 28
            $file = Join-Pem -Name 'short-intermediate.pem' -Files @($leaf.Cert, $int.Cert, $pki.RootCert)
            $r = Test-CertificateBundle $file -MinimumDaysValid 10
            Get-Codes $r | Should -Be @('IntermediateExpiresFirst')
            $r.Findings[0].Severity | Should -Be 'Warning'
            $r.Findings[0].Certificate | Should -Be 'CN=Pester Short Intermediate'
            $r.Passed | Should -BeTrue
            $r2 = Test-CertificateBundle $file -MinimumDaysValid 25
            $r2.Findings.Where({ $_.Code -eq 'IntermediateExpiresFirst' })[0].Severity | Should -Be 'Error'
            $r2.Passed | Should -BeFalse
        }
    }

    Context 'key usage' {
        It 'ClientAuthenticationMissing: a server certificate tested for client use' {
            $r = Test-CertificateBundle $server.Cert -MinimumDaysValid 10 -TrustedCertificate $pki.IntermediateCert
            Get-Codes $r | Should -Be @('ClientAuthenticationMissing')
            $r.Findings[0].Message | Should -Match '1\.3\.6\.1\.5\.5\.7\.3\.2'
        }

        It 'ServerAuthenticationMissing: a client certificate tested with -Purpose Server; a server certificate passes' {
            $r = Test-CertificateBundle $goodKey -MinimumDaysValid 10 -Purpose Server
            Get-Codes $r | Should -Be @('ServerAuthenticationMissing')
            $r.Purpose | Should -Be 'Server'
            (Test-CertificateBundle $server.Cert -MinimumDaysValid 10 -Purpose Server -TrustedCertificate $pki.IntermediateCert).Passed | Should -BeTrue
        }
    }

    Context 'key and chain' {
        It 'KeyCertificateMismatch: a service key whose key belongs to another certificate still gives its certificate' {
            $mixed = New-ServiceKeyFile -Name 'mixed-key.json' -Credentials ([ordered]@{
                    clientid    = 'sb-mixed'
                    certificate = (Get-Content -LiteralPath $pki.FullChainFile -Raw)
                    key         = (Get-Content -LiteralPath $server.Key -Raw)
                })
            $r = Test-CertificateBundle $mixed -MinimumDaysValid 10 -ErrorVariable failed
            $failed | Should -HaveCount 0
            Get-Codes $r | Should -Be @('KeyCertificateMismatch')
            $r.HasPrivateKey | Should -BeFalse
            $r.Findings[0].Message | Should -Match 'same service key'
            $r.CommonName | Should -Be 'Pester Client'
        }

        It 'KeyCertificateMismatch: a PEM file with a key of another certificate' {
            $file = Join-Pem -Name 'foreign-key.pem' -Files @($pki.FullChainFile, $server.Key)
            $r = Test-CertificateBundle $file -MinimumDaysValid 10 -WarningAction SilentlyContinue
            Get-Codes $r | Should -Be @('KeyCertificateMismatch')
        }

        It 'ChainIncomplete: names the missing issuer' {
            $r = Test-CertificateBundle $pki.LeafCert -MinimumDaysValid 10
            Get-Codes $r | Should -Be @('ChainIncomplete')
            $r.Findings[0].Message | Should -Match "without its issuer 'CN=Pester Intermediate CA'"
            # The issuer among -TrustedCertificate completes it.
            (Test-CertificateBundle $pki.LeafCert -MinimumDaysValid 10 -TrustedCertificate $pki.IntermediateCert).Passed | Should -BeTrue
        }

        It 'ChainOutOfOrder: a PEM file root first' {
            $file = Join-Pem -Name 'root-first.pem' -Files @($pki.RootCert, $pki.IntermediateCert, $pki.LeafCert)
            $r = Test-CertificateBundle $file -MinimumDaysValid 10
            Get-Codes $r | Should -Be @('ChainOutOfOrder')
            $r.Findings[0].Severity | Should -Be 'Warning'
            $r.Findings[0].Message | Should -Match 'Pester Root CA -> Pester Intermediate CA -> Pester Client'
            $r.Passed | Should -BeTrue
        }

        It 'ChainOutOfOrder: a service key whose certificate field lists the intermediate first' {
            $swapped = New-ServiceKeyFile -Name 'swapped-key.json' -Credentials ([ordered]@{
                    clientid    = 'sb-swapped'
                    certificate = (Get-Content -LiteralPath (Join-Pem -Name 'swapped.pem' -Files @($pki.IntermediateCert, $pki.LeafCert, $pki.RootCert)) -Raw)
                    key         = (Get-Content -LiteralPath $pki.LeafRsaKey -Raw)
                })
            Get-Codes (Test-CertificateBundle $swapped -MinimumDaysValid 10) | Should -Be @('ChainOutOfOrder')
        }

        It 'RootNotTrusted: the chain ends at a root the other side does not trust' {
            $r = Test-CertificateBundle $goodKey -MinimumDaysValid 10 -TrustedCertificate $otherRoot.Cert
            Get-Codes $r | Should -Be @('RootNotTrusted')
            $r.Findings[0].Message | Should -Match "root 'CN=Pester Root CA'.*CN=Pester Other Root"
            $r.Findings[0].Certificate | Should -Be 'CN=Pester Root CA'
            # Given as an X509Certificate2 or a bundle, the right root passes.
            $root = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.RootCert)
            (Test-CertificateBundle $goodKey -MinimumDaysValid 10 -TrustedCertificate $root, $otherRoot.Cert).Passed | Should -BeTrue
            # An intermediate of the chain as the trust anchor counts too.
            (Test-CertificateBundle $goodKey -MinimumDaysValid 10 -TrustedCertificate $pki.IntermediateCert).Passed | Should -BeTrue
        }
    }

    Context 'algorithms' {
        It 'WeakRsaKey: a 1024-bit RSA leaf' {
            $weak = New-IssuedCertificate -Name 'Pester Weak Leaf' -IssuerCert $pki.IntermediateCert -IssuerKey $pki.IntermediateKey -Bits 1024
            $file = Join-Pem -Name 'weak.pem' -Files @($weak.Cert, $pki.ChainFile)
            $r = Test-CertificateBundle $file -MinimumDaysValid 10
            Get-Codes $r | Should -Be @('WeakRsaKey')
            $r.Findings[0].Message | Should -Match '1024-bit RSA key'
        }

        It 'Sha1Signature: a leaf signed with SHA-1; a SHA-1 self-signature of a root does not count' {
            $sha1 = New-IssuedCertificate -Name 'Pester Sha1 Leaf' -IssuerCert $pki.IntermediateCert -IssuerKey $pki.IntermediateKey -Digest sha1
            $r = Test-CertificateBundle (Join-Pem -Name 'sha1.pem' -Files @($sha1.Cert, $pki.ChainFile)) -MinimumDaysValid 10
            Get-Codes $r | Should -Be @('Sha1Signature')
            $r.Findings[0].Message | Should -Match 'SHA-256'
            $root = New-IssuedCertificate -Name 'Pester Sha1 Root' -Digest sha1 -Extensions $caExt
            $leaf = New-IssuedCertificate -Name 'Pester Under Sha1 Root' -IssuerCert $root.Cert -IssuerKey $root.Key
            $r2 = Test-CertificateBundle (Join-Pem -Name 'sha1-root.pem' -Files @($leaf.Cert, $root.Cert)) -MinimumDaysValid 10
            Get-Codes $r2 | Should -Not -Contain 'Sha1Signature'
        }
    }

    Context 'service key certificatedetails' {
        BeforeAll {
            $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.LeafCert)
            function New-DetailsKey {
                param([string] $Name, [System.Collections.IDictionary] $Details)
                New-ServiceKeyFile -Name $Name -Credentials ([ordered]@{
                        clientid           = 'sb-details'
                        certificate        = (Get-Content -LiteralPath $pki.FullChainFile -Raw)
                        key                = (Get-Content -LiteralPath $pki.LeafRsaKey -Raw)
                        certificatedetails = $Details
                    })
            }
        }

        It 'keeps the details in the bundle as a small typed object' {
            $path = New-DetailsKey -Name 'details-kept.json' -Details ([ordered]@{
                    issuerdn = 'CN=Pester Intermediate CA'; subjectdn = 'CN=Pester Client'; serialnumber = $leaf.SerialNumber
                    validuntil = $leaf.NotAfter.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'); validity = 30; validitytype = 'DAYS'
                })
            $d = (ConvertFrom-ServiceKey $path).CertificateDetails
            $d | Should -BeOfType ([CertIntegration.ServiceKeyCertificateDetails])
            $d.IssuerDN | Should -Be 'CN=Pester Intermediate CA'
            $d.SubjectDN | Should -Be 'CN=Pester Client'
            $d.SerialNumber | Should -Be $leaf.SerialNumber
            $d.ValidUntil | Should -Be $leaf.NotAfter.ToUniversalTime()
            $d.ValidUntil.Kind | Should -Be 'Utc'
            $d.Validity | Should -Be 30
            $d.ValidityType | Should -Be 'DAYS'
            (Test-CertificateBundle $path -MinimumDaysValid 10).Passed | Should -BeTrue
        }

        It 'matches details written differently: names in another order and case, the serial with colons or in decimal, a date only' {
            $int = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pki.IntermediateCert)
            $colons = ($leaf.SerialNumber -split '(..)' | Where-Object { $_ }) -join ':'
            $decimal = [System.Numerics.BigInteger]::Parse('0' + $leaf.SerialNumber, 'AllowHexSpecifier').ToString()
            foreach ($serial in @($colons.ToLowerInvariant(), $decimal)) {
                $path = New-DetailsKey -Name 'details-other-forms.json' -Details ([ordered]@{
                        issuerdn = 'cn=Pester Intermediate CA'; subjectdn = 'CN = Pester Client'; serialnumber = $serial
                        validuntil = $leaf.NotAfter.ToUniversalTime().ToString('yyyy-MM-dd')
                    })
                $r = Test-CertificateBundle $path -MinimumDaysValid 10
                Get-Codes $r | Should -Be @() -Because "serial '$serial' is the certificate's"
            }
            $int.Dispose()
        }

        It 'ServiceKeyDetailsMismatch: details of another certificate, each field named' {
            $path = New-DetailsKey -Name 'details-other.json' -Details ([ordered]@{
                    issuerdn = 'CN=SAP PI Process Integration Runtime Client CA, O=SAP SE, C=DE'; subjectdn = 'CN=Another Client, O=SAP SE'
                    serialnumber = '0123456789abcdef'; validuntil = '2031-01-01T00:00:00Z'
                })
            $r = Test-CertificateBundle $path -MinimumDaysValid 10
            Get-Codes $r | Should -Be @('ServiceKeyDetailsMismatch')
            $m = $r.Findings[0].Message
            $m | Should -Match "subjectdn 'CN=Another Client, O=SAP SE'"
            $m | Should -Match 'issuerdn'
            $m | Should -Match "serialnumber '0123456789abcdef'"
            $m | Should -Match 'validuntil 2031-01-01'
            $m | Should -Match 'Create a new service key'
        }

        It 'ServiceKeyDetailsMismatch: a single field that disagrees, also from a ConvertFrom-Json object' {
            $path = New-DetailsKey -Name 'details-serial.json' -Details ([ordered]@{ subjectdn = 'CN=Pester Client'; serialnumber = '42' })
            Get-Codes (Test-CertificateBundle $path -MinimumDaysValid 10) | Should -Be @('ServiceKeyDetailsMismatch')
            $late = New-DetailsKey -Name 'details-date.json' -Details ([ordered]@{ validuntil = $leaf.NotAfter.ToUniversalTime().AddDays(3).ToString('o') })
            $bundle = Get-Content -LiteralPath $late -Raw | ConvertFrom-Json | ConvertFrom-ServiceKey
            $bundle.CertificateDetails.ValidUntil | Should -Not -BeNullOrEmpty
            Get-Codes ($bundle | Test-CertificateBundle -MinimumDaysValid 10) | Should -Be @('ServiceKeyDetailsMismatch')
        }
    }

    Context '-Quiet and input order' {
        It 'writes one boolean per input in input order, $false for an unreadable one (with its error)' {
            $bad = Join-Path $TestFolder 'not-a-certificate.txt'
            Set-Content -LiteralPath $bad -Value 'hello'
            $out = @($goodKey, $pki.LeafCert, $bad, $goodKey) | Test-CertificateBundle -MinimumDaysValid 10 -Quiet -ErrorVariable failed -ErrorAction SilentlyContinue
            $out | Should -Be @($true, $false, $false, $true)
            $out | ForEach-Object { $_ | Should -BeOfType ([bool]) }
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'NotACertificateContainer,*'
        }

        It 'gives a CertificateInputInvalid error for an object that is no certificate and goes on' {
            $out = @([pscustomobject]@{ Name = 'x' }, $goodKey) | Test-CertificateBundle -MinimumDaysValid 10 -ErrorVariable failed -ErrorAction SilentlyContinue
            @($out).Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'CertificateInputInvalid,*'
        }

        It 'writes results in input order' {
            $out = @($pki.LeafCert, $goodKey, $server.Cert) | Test-CertificateBundle -MinimumDaysValid 10
            $out.CommonName | Should -Be @('Pester Client', 'Pester Client', 'localhost')
            $out.Source | Should -Be @($pki.LeafCert, (Get-Item -LiteralPath $goodKey).FullName, $server.Cert)
        }
    }

    # build/test.sh runs this tag a second time under TZ=Pacific/Auckland (UTC+12/+13), far from the machine's UTC.
    Context '-At and time zones' -Tag 'TimeZone' {
        It 'the run really uses the zone in TZ' -Skip:(-not $env:TZ) {
            [System.TimeZoneInfo]::Local.Id | Should -Be $env:TZ
        }

        It 'counts days in UTC for an -At of any kind: UTC, local and typed without a zone' {
            # One hour before the window opens and one hour after: a time-zone slip of 12 hours would flip both.
            $before = $notAfterUtc.AddDays(-10).AddHours(-1)
            $after = $notAfterUtc.AddDays(-10).AddHours(1)
            foreach ($at in @($before, $before.ToLocalTime(), [datetime]::SpecifyKind($before.ToLocalTime(), 'Unspecified'))) {
                $r = Test-CertificateBundle $goodKey -MinimumDaysValid 10 -At $at
                $r.DaysRemaining | Should -Be 10 -Because "At $at ($($at.Kind))"
                $r.Passed | Should -BeTrue
                $r.TestedAt.Kind | Should -Be 'Local'
                $r.TestedAt.ToUniversalTime() | Should -Be $before
            }
            foreach ($at in @($after, $after.ToLocalTime(), [datetime]::SpecifyKind($after.ToLocalTime(), 'Unspecified'))) {
                $r = Test-CertificateBundle $goodKey -MinimumDaysValid 10 -At $at
                $r.DaysRemaining | Should -Be 9 -Because "At $at ($($at.Kind))"
                Get-Codes $r | Should -Be @('ExpiresSoon')
            }
        }

        It 'reads a date typed as text as local time' {
            $localText = $notAfterUtc.AddHours(-2).ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss', [cultureinfo]::InvariantCulture)
            $r = Test-CertificateBundle $goodKey -MinimumDaysValid 0 -At $localText
            $r.Passed | Should -BeTrue -Because "$localText local is two hours before the expiry"
            $r.DaysRemaining | Should -Be 0
            $r.NotAfter.Kind | Should -Be 'Local'
            $r.NotAfter.ToUniversalTime() | Should -Be $notAfterUtc
        }
    }

    Context 'views, JSON and CSV' {
        BeforeAll {
            $results = @($goodKey, $pki.LeafCert, (Join-Pem -Name 'view-root-first.pem' -Files @($pki.RootCert, $pki.IntermediateCert, $pki.LeafCert))) |
                Test-CertificateBundle -MinimumDaysValid 10
        }

        It 'the default table keeps result, days, expiry, name and codes within 80 columns' {
            $text = $results | Out-String -Width 80
            $lines = $text -split "`r?`n"
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
            $text | Should -Match 'Result\s+Days\s+NotAfter\s+Name\s+Findings'
            # The name wraps within its column; the codes stay whole, one a line.
            $text | Should -Match 'PASSED\s+29\s+\d{4}-\d\d-\d\d\s+Pester Client \(good-key\.json\s+none'
            $text | Should -Match 'FAILED\s+29\s+\d{4}-\d\d-\d\d\s+Pester Client \(client\.crt\)\s+ChainIncomplete'
            $text | Should -Match 'ChainOutOfOrder'
        }

        It 'the Expiry view groups by expiry and fits 120 columns' {
            $more = @($results) + @(Test-CertificateBundle $goodKey -MinimumDaysValid 40)
            $text = $more | Sort-Object NotAfter | Format-Table -View Expiry | Out-String -Width 120
            ($text -split "`r?`n") | ForEach-Object { $_.Length | Should -BeLessOrEqual 120 }
            $text | Should -Match 'Expiry: Valid for 10 days or more'
            $text | Should -Match 'Expiry: Expires within 40 days'
            $text | Should -Match 'Days\s+NotAfter\s+Result\s+Name\s+Findings'
            $text80 = $more | Sort-Object NotAfter | Format-Table -View Expiry | Out-String -Width 80
            ($text80 -split "`r?`n") | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
            $text80 | Should -Match 'ExpiresSoon'
        }

        It 'the list view shows each finding with its message' {
            $text = $results[1] | Format-List | Out-String -Width 120
            $text | Should -Match 'Findings\s+: Error ChainIncomplete: The chain of'
            $text | Should -Match 'Thumbprint\s+: [0-9A-F]{40}'
        }

        It 'ConvertTo-Json gives plain records with the findings as objects, without certificate dumps' {
            $one = $results[1] | ConvertTo-Json -WarningVariable truncated
            $truncated | Should -HaveCount 0
            $json = $results | ConvertTo-Json -Depth 3 -WarningVariable truncated
            $truncated | Should -HaveCount 0
            foreach ($text in @($one, $json)) {
                $text | Should -Not -Match 'RawData|MII[A-Za-z0-9+/]{20}'
                $text.Length | Should -BeLessThan 10000
            }
            ($one | ConvertFrom-Json).Findings[0].Code | Should -Be 'ChainIncomplete'
            $back = $json | ConvertFrom-Json
            $back | Should -HaveCount 3
            $back[0].Passed | Should -BeTrue
            $back[1].Findings[0].Code | Should -Be 'ChainIncomplete'
            $back[1].Findings[0].Severity | Should -Be 'Error'
            $back[1].Findings[0].Message | Should -Match 'Pester Intermediate CA'
            $back[0].Thumbprint | Should -Match '^[0-9A-F]{40}$'
        }

        It 'ConvertTo-Json of many results at the default depth gives each finding as its text' {
            $back = $results | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json
            $back[1].Findings[0] | Should -BeLike 'Error ChainIncomplete: The chain of*'
        }

        It 'Export-Csv gives one line per certificate with the findings as codes' {
            $csv = Join-Path $TestFolder 'report.csv'
            $results | Export-Csv -LiteralPath $csv -NoTypeInformation
            $rows = Import-Csv -LiteralPath $csv
            $rows | Should -HaveCount 3
            $rows[1].Findings | Should -Be 'Error:ChainIncomplete'
            $rows[2].Findings | Should -Be 'Warning:ChainOutOfOrder'
            $rows[0].Findings | Should -Be ''
            $rows[0].CommonName | Should -Be 'Pester Client'
            $rows[0].DaysRemaining | Should -Be '29'
            (Get-Content -LiteralPath $csv -Raw) | Should -Not -Match 'System\.|CertIntegration\.'
        }
    }

    Context 'arguments' {
        It 'refuses -TrustedCertificate that is no certificate before it reads any input' {
            { Test-CertificateBundle $goodKey -TrustedCertificate (Join-Path $TestFolder 'no-such-root.cer') -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileNotFound*'
        }

        It 'says FileNotFound for a path that does not exist' {
            $null = Test-CertificateBundle -LiteralPath (Join-Path $TestFolder 'missing.json') -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
        }
    }
}
