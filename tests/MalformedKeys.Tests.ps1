#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Private keys of odd shapes (an RSA key whose key data is empty, as the fuzzer found it; an EC key that names no
    curve; an empty Ed25519 key; a DSA key without domain parameters) through the cmdlets, in a PEM file, a PKCS#12 key
    bag, a key file beside a certificate (-KeyPath) and a service key's 'key' field: each is PrivateKeyMalformed with no
    crash type (NullReferenceException and the like) anywhere in its exception chain. The xunit KeyShapeTests cover
    many more shapes in the core.
#>

BeforeDiscovery {
    $haveOpenSsl = [bool](Get-Command openssl -CommandType Application -ErrorAction SilentlyContinue)
    $shapes = @('rsa-empty', 'ec-no-curve', 'ed25519-empty', 'dsa-no-parameters')
    $cases = foreach ($s in $shapes) { foreach ($p in @('pem', 'pkcs12', 'key-path', 'service-key')) { @{ Shape = $s; Path = $p } } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # DER: a tag, its length, its content.
    function New-Der([byte] $Tag, [byte[]] $Content = @()) {
        $n = $Content.Length
        $length = if ($n -lt 0x80) { , [byte]$n } elseif ($n -lt 0x100) { [byte[]]@(0x81, $n) } else { [byte[]]@(0x82, ($n -shr 8), ($n -band 0xFF)) }
        , [byte[]](@($Tag) + $length + $Content)
    }
    function Join-Der([object[]] $Parts) { , [byte[]]@($Parts | ForEach-Object { $_ }) }
    function ConvertFrom-Hex([string] $Hex) { , [byte[]]@(for ($i = 0; $i -lt $Hex.Length; $i += 2) { [Convert]::ToByte($Hex.Substring($i, 2), 16) }) }

    $oid = @{
        rsa = ConvertFrom-Hex '06092A864886F70D010101'; ec = ConvertFrom-Hex '06072A8648CE3D0201'; ed25519 = ConvertFrom-Hex '06032B6570'
        dsa = ConvertFrom-Hex '06072A8648CE380401'; data = ConvertFrom-Hex '06092A864886F70D010701'
        keyBag = ConvertFrom-Hex '060B2A864886F70D010C0A0101'; certBag = ConvertFrom-Hex '060B2A864886F70D010C0A0103'
        x509 = ConvertFrom-Hex '060A2A864886F70D01091601'
    }
    $version = New-Der 0x02 @(0)
    function New-Pkcs8([byte[]] $Algorithm, [byte[]] $Key) { New-Der 0x30 (Join-Der @($version, (New-Der 0x30 $Algorithm), (New-Der 0x04 $Key))) }
    $keys = @{
        'rsa-empty'         = New-Pkcs8 (Join-Der @($oid.rsa, (New-Der 0x05))) @()
        'ec-no-curve'       = New-Pkcs8 $oid.ec (New-Der 0x30 (Join-Der @((New-Der 0x02 @(1)), (New-Der 0x04 @(3)))))
        'ed25519-empty'     = New-Pkcs8 $oid.ed25519 @()
        'dsa-no-parameters' = New-Pkcs8 $oid.dsa (New-Der 0x02 @(5))
    }

    function ConvertTo-PemText([string] $Label, [byte[]] $Der) {
        "-----BEGIN $Label-----`n$([Convert]::ToBase64String($Der, 'InsertLineBreaks'))`n-----END $Label-----`n"
    }

    # A PKCS#12 file without MAC or encryption: the certificate in a certificate bag, the key in a key bag.
    function New-Pfx([byte[]] $CertificateDer, [byte[]] $KeyInfo) {
        $certValue = New-Der 0x30 (Join-Der @($oid.x509, (New-Der 0xA0 (New-Der 0x04 $CertificateDer))))
        $certBag = New-Der 0x30 (Join-Der @($oid.certBag, (New-Der 0xA0 $certValue)))
        $keyBag = New-Der 0x30 (Join-Der @($oid.keyBag, (New-Der 0xA0 $KeyInfo)))
        $safe = New-Der 0x30 (Join-Der @($oid.data, (New-Der 0xA0 (New-Der 0x04 (New-Der 0x30 (Join-Der @($certBag, $keyBag)))))))
        $authSafe = New-Der 0x30 (Join-Der @($oid.data, (New-Der 0xA0 (New-Der 0x04 (New-Der 0x30 $safe)))))
        New-Der 0x30 (Join-Der @((New-Der 0x02 @(3)), $authSafe))
    }

    # Every exception of a record, from the outside in.
    function Get-ExceptionChain($Record) {
        for ($e = $Record.Exception; $e; $e = $e.InnerException) { $e }
    }
    $crashTypes = @([System.NullReferenceException], [System.ArgumentNullException], [System.InvalidCastException], [System.IndexOutOfRangeException],
        [System.ArgumentOutOfRangeException], [System.ArithmeticException], [System.NotImplementedException])
}

AfterAll {
    Remove-TestFolder
}

Describe 'Private keys of odd shapes through the cmdlets' -Skip:(-not $haveOpenSsl) {
    BeforeAll {
        $pki = Get-TestPki
        $leafDer = [Convert]::FromBase64String(((Get-Content -LiteralPath $pki.LeafCert -Raw) -replace '-----[A-Z ]+-----', '' -replace '\s', ''))
    }

    It '<Shape> in <Path>: PrivateKeyMalformed, no crash type inside' -TestCases $cases {
        $key = $keys[$Shape]
        $pemKey = ConvertTo-PemText 'PRIVATE KEY' $key
        $errs = $null
        switch ($Path) {
            'pem' {
                $file = Join-Path $TestFolder "$Shape.pem"
                Set-Content -LiteralPath $file -Value $pemKey -NoNewline
                $out = Import-CertificateBundle -LiteralPath $file -ErrorVariable errs -ErrorAction SilentlyContinue
            }
            'pkcs12' {
                $file = Join-Path $TestFolder "$Shape.pfx"
                [System.IO.File]::WriteAllBytes($file, (New-Pfx $leafDer $key))
                $out = Import-CertificateBundle -LiteralPath $file -ErrorVariable errs -ErrorAction SilentlyContinue
            }
            'key-path' {
                $file = Join-Path $TestFolder "$Shape.key"
                Set-Content -LiteralPath $file -Value $pemKey -NoNewline
                $out = Import-CertificateBundle -LiteralPath $pki.LeafCert -KeyPath $file -ErrorVariable errs -ErrorAction SilentlyContinue
            }
            'service-key' {
                $file = New-ServiceKeyFile -Name "$Shape.json" -Credentials ([ordered]@{
                        clientid = 'sb-pester!b1|it-rt-pester!b2'; certificate = (Get-Content -LiteralPath $pki.FullChainFile -Raw); key = $pemKey
                        url = 'https://pester.example'; tokenurl = 'https://pester.example/oauth/token'
                    })
                $out = ConvertFrom-ServiceKey -LiteralPath $file -ErrorVariable errs -ErrorAction SilentlyContinue
            }
        }
        $out | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PrivateKeyMalformed,*' -Because $errs[0].Exception.Message
        $errs[0].Exception.Message | Should -Match 'is not a valid private key: '
        foreach ($e in @(Get-ExceptionChain $errs[0])) {
            foreach ($t in $crashTypes) { $e | Should -Not -BeOfType $t -Because "$($e.GetType().Name): $($e.Message)" }
        }
    }

    It 'a chain beside an empty RSA key in one PEM file comes back without the key, with a warning that names it' {
        $file = Join-Path $TestFolder 'chain-and-empty-key.pem'
        Set-Content -LiteralPath $file -Value ((Get-Content -LiteralPath $pki.FullChainFile -Raw) + (ConvertTo-PemText 'PRIVATE KEY' $keys['rsa-empty'])) -NoNewline
        $bundle = Import-CertificateBundle -LiteralPath $file -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -BeNullOrEmpty
        $bundle.HasPrivateKey | Should -BeFalse
        ($warnings -join "`n") | Should -Match 'RSA key data is empty.*PrivateKeyMalformed'
    }
}
