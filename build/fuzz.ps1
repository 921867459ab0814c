<#
.SYNOPSIS
    Seeded mutation fuzzer for Import-CertificateBundle and ConvertFrom-ServiceKey of the built module.

.DESCRIPTION
    Makes valid seed inputs once with openssl and keytool (PKCS#12 with AES, 3DES, RC2-40 and no encryption, PEM chains
    with plain, encrypted and EC keys, PKCS#7 in DER and PEM, a DER certificate, JKS key and trust stores, service keys
    as the BTP cockpit and the cf CLI give them), then mutates them with System.Random(-Seed): bit flips, byte
    insertions, deletions and truncation, ASN.1 length fields, iteration counts and other INTEGERs (huge values stay
    below 4 KB), tags, OIDs, dropped, doubled and swapped elements, deep nesting, PEM blocks doubled, reordered, relabelled
    and damaged, JSON quotes, braces, fields and escapes damaged. A mutated PKCS#12 file gets a valid MAC again (and a
    JKS its digest) in about half of the cases, so the damage reaches what lies behind the integrity check.

    Every input goes through Import-CertificateBundle -LiteralPath (with -Password fuzzpw1 for PKCS#12, JKS and
    encrypted PEM) and, for text (PEM, JSON), through ConvertFrom-ServiceKey with the text piped in; about one input in
    ten also with -Verbose -Debug. All run in this one process: the module is imported once into a runspace, each input
    runs in a [powershell] of that runspace, stopped after 10 times -TimeLimitSec (a 'hang'; the runspace is then
    replaced).

    An input fails when an error's FullyQualifiedErrorId does not start with an ID of src/CertIntegration.Core/ErrorIds.cs
    (read at run time) or is UnexpectedError; when any exception in an error's Exception/InnerException chain is a
    NullReferenceException, ArgumentNullException, InvalidCastException, IndexOutOfRangeException,
    ArgumentOutOfRangeException, OverflowException, DivideByZeroException, InsufficientExecutionStackException,
    StackOverflowException, AccessViolationException or OutOfMemoryException; when a cmdlet ends with a terminating
    error or with neither output nor error; when its calls together take -TimeLimitSec or longer in CPU time of this
    process, in the first run and in two reruns of it alone (over the limit in wall-clock time only, as on a loaded
    machine, is counted but does not fail); or when it hangs (10 times -TimeLimitSec in wall-clock time). The seeds themselves are checked first (each must be read as made).

    The same seed and the same seed files (-SeedFolder) give the same inputs; new seed files (new keys) give other
    bytes, so failing inputs are saved with -KeepFailures. -Replay runs given files instead, unmutated, each plainly
    and with -Verbose -Debug, under the same checks.

    Prints a markdown summary; -OutFile writes it too (*.md) or as JSON (any other name). The exit code is 1 when
    anything failed.

.EXAMPLE
    pwsh build/fuzz.ps1 -Seed 20261201 -Count 300

.EXAMPLE
    pwsh build/fuzz.ps1 -Seed 1 -Count 3000 -OutFile TestResults/fuzz.json -KeepFailures TestResults/fuzz-failures

.EXAMPLE
    pwsh build/fuzz.ps1 -Replay ../shared/fuzz-finds -OutFile TestResults/fuzz-finds.json
#>
[CmdletBinding()]
param(
    # Seed of System.Random: which mutations are made.
    [int] $Seed = 1,

    # How many mutated inputs are run (the seed checks come on top).
    [ValidateRange(0, 10000000)]
    [int] $Count = 1000,

    # Limit for the cmdlet calls of one input together; 10 times it, the input is stopped as a hang.
    [ValidateRange(0.01, 600)]
    [double] $TimeLimitSec = 2,

    # Summary file: markdown when it ends in .md, else JSON.
    [string] $OutFile,

    # Folder where failing inputs are saved, each with a .txt that says what it is, what went wrong and the -Replay
    # line that runs it again; default TestResults/fuzz-failures-seed<Seed>, made when the first input fails.
    [string] $KeepFailures,

    # Folder for the seed inputs: reused when complete (the same -Seed then gives the same bytes), else made there.
    # Default: a temporary folder, removed at the end.
    [string] $SeedFolder,

    # Files or folders to run unmutated instead of fuzzing (fuzz finds, saved failures).
    [string[]] $Replay,

    # The module manifest; default out/CertIntegration/CertIntegration.psd1 of this repository.
    [string] $ModulePath
)

Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'
$repo = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repo 'out/CertIntegration/CertIntegration.psd1' }
if (-not (Test-Path -LiteralPath $ModulePath -PathType Leaf)) {
    throw "The module is not built: $ModulePath does not exist. Run ./build/build.sh first."
}
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath

# The password of every encrypted seed, as in ../shared/fuzz-finds.
$FuzzPassword = 'fuzzpw1'
$SecurePassword = ConvertTo-SecureString $FuzzPassword -AsPlainText -Force
$rng = [System.Random]::new($Seed)

#region Error IDs and crash types

$errorIdsFile = Join-Path $repo 'src/CertIntegration.Core/ErrorIds.cs'
$KnownIds = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
foreach ($m in [regex]::Matches((Get-Content -LiteralPath $errorIdsFile -Raw), 'public\s+const\s+string\s+(\w+)\s*=')) {
    $null = $KnownIds.Add($m.Groups[1].Value)
}
if ($KnownIds.Count -lt 10 -or -not $KnownIds.Contains('UnexpectedError')) {
    throw "Could not read the error IDs from $errorIdsFile (found $($KnownIds.Count))."
}

# Exceptions that mean a bug in the module, not a diagnosis of the input, wherever they sit in the chain.
$CrashTypes = @(
    [System.NullReferenceException], [System.ArgumentNullException], [System.InvalidCastException],
    [System.IndexOutOfRangeException], [System.ArgumentOutOfRangeException], [System.OverflowException],
    [System.DivideByZeroException], [System.InsufficientExecutionStackException], [System.StackOverflowException],
    [System.AccessViolationException], [System.OutOfMemoryException]
)

#endregion

#region Bytes and random helpers

function Join-Bytes {
    param([object[]] $Parts)
    $ms = [System.IO.MemoryStream]::new()
    foreach ($p in $Parts) { if ($null -ne $p -and $p.Length -gt 0) { $ms.Write([byte[]]$p, 0, $p.Length) } }
    , $ms.ToArray()
}

function Get-Slice([byte[]] $Bytes, [int] $Offset, [int] $Length) {
    $r = [byte[]]::new([Math]::Max(0, $Length))
    if ($Length -gt 0) { [Array]::Copy($Bytes, $Offset, $r, 0, $Length) }
    , $r
}

# $Bytes with $Length bytes at $Offset replaced by $With.
function Set-Range([byte[]] $Bytes, [int] $Offset, [int] $Length, [byte[]] $With) {
    Join-Bytes @((Get-Slice $Bytes 0 $Offset), $With, (Get-Slice $Bytes ($Offset + $Length) ($Bytes.Length - $Offset - $Length)))
}

function Get-RandomBytes([int] $Count) { $b = [byte[]]::new($Count); $rng.NextBytes($b); , $b }
function Get-Pick([object[]] $Items) { $Items[$rng.Next($Items.Count)] }
function Test-Chance([double] $P) { $rng.NextDouble() -lt $P }

# A choice from @{ name = weight; ... } (an ordered dictionary, so that the draw is reproducible).
function Get-Weighted([System.Collections.Specialized.OrderedDictionary] $Weights) {
    $total = 0.0
    foreach ($w in $Weights.Values) { $total += $w }
    $x = $rng.NextDouble() * $total
    foreach ($k in $Weights.Keys) {
        $x -= $Weights[$k]
        if ($x -lt 0) { return $k }
    }
    @($Weights.Keys)[-1]
}

$Utf8 = [System.Text.UTF8Encoding]::new($false)
function ConvertTo-Text([byte[]] $Bytes) { $Utf8.GetString($Bytes) }
function ConvertTo-Utf8([string] $Text) { , $Utf8.GetBytes($Text) }

function Get-Hex([byte[]] $Bytes, [int] $Max = 12) {
    $s = [BitConverter]::ToString($Bytes, 0, [Math]::Min($Bytes.Length, $Max)).Replace('-', '')
    if ($Bytes.Length -gt $Max) { $s += "..($($Bytes.Length) bytes)" }
    $s
}

#endregion

#region DER

$TagNames = @{
    0x01 = 'BOOLEAN'; 0x02 = 'INTEGER'; 0x03 = 'BIT STRING'; 0x04 = 'OCTET STRING'; 0x05 = 'NULL'; 0x06 = 'OID'
    0x0C = 'UTF8String'; 0x13 = 'PrintableString'; 0x16 = 'IA5String'; 0x17 = 'UTCTime'; 0x18 = 'GeneralizedTime'
    0x1E = 'BMPString'; 0x30 = 'SEQUENCE'; 0x31 = 'SET'; 0xA0 = '[0]'; 0xA1 = '[1]'; 0xA2 = '[2]'; 0xA3 = '[3]'; 0x80 = '[0]prim'
}

# One DER element. Offsets are absolute in the bytes it was parsed from (for raw length mutations); Children, when
# set, are written instead of Content; Raw, when set, is written verbatim instead of the whole element.
class DerNode {
    [byte[]] $Tag
    [int] $T0
    [System.Collections.Generic.List[object]] $Children
    [byte[]] $Content
    [object] $Pad
    [byte[]] $Raw
    [object] $Parent
    [int] $Depth
    [int] $TagOffset
    [int] $LengthOffset
    [int] $LengthCount
    [int] $ContentOffset
    [int] $ContentLength
}

# Parsing and writing as class methods: far cheaper than script functions for a few hundred elements per input.
class Der {
    static [byte[]] Slice([byte[]] $b, [int] $offset, [int] $length) {
        $r = [byte[]]::new([Math]::Max(0, $length))
        if ($length -gt 0) { [Array]::Copy($b, $offset, $r, 0, $length) }
        return $r
    }

    # The elements from $start to $end, or $null when they are not well formed. OCTET STRINGs and BIT STRINGs whose
    # content is DER again (PKCS#12 safes, public keys) get children too.
    static [System.Collections.Generic.List[object]] Parse([byte[]] $b, [int] $start, [int] $end, [int] $depth, [object] $parent) {
        $list = [System.Collections.Generic.List[object]]::new()
        $p = $start
        while ($p -lt $end) {
            $tagOffset = $p
            $t0 = [int]$b[$p]; $p++
            if (($t0 -band 0x1F) -eq 0x1F) {
                $n = 0
                while ($p -lt $end -and ($b[$p] -band 0x80)) { $p++; $n++; if ($n -gt 4) { return $null } }
                if ($p -ge $end) { return $null }
                $p++
            }
            if ($p -ge $end) { return $null }
            $lengthOffset = $p
            $l0 = [int]$b[$p]; $p++
            [long] $len = 0
            if ($l0 -lt 0x80) { $len = $l0 }
            elseif ($l0 -eq 0x80 -or $l0 -gt 0x84) { return $null }
            else {
                $k = $l0 -band 0x7F
                if ($p + $k -gt $end) { return $null }
                for ($i = 0; $i -lt $k; $i++) { $len = $len * 256 + $b[$p + $i] }
                $p += $k
            }
            if ($len -gt $end - $p) { return $null }
            $node = [DerNode]::new()
            $node.Tag = [Der]::Slice($b, $tagOffset, $lengthOffset - $tagOffset)
            $node.T0 = $t0; $node.Parent = $parent; $node.Depth = $depth
            $node.TagOffset = $tagOffset; $node.LengthOffset = $lengthOffset; $node.LengthCount = $p - $lengthOffset
            $node.ContentOffset = $p; $node.ContentLength = [int]$len
            $contentEnd = $p + [int]$len
            $kids = $null
            if (($t0 -band 0x20) -and $depth -lt 40) {
                $kids = [Der]::Parse($b, $p, $contentEnd, $depth + 1, $node)
                if ($null -eq $kids) { return $null }
                $node.Children = $kids
            }
            elseif ($t0 -eq 0x04 -and $len -ge 2 -and ($b[$p] -eq 0x30 -or $b[$p] -eq 0x31) -and $depth -lt 40 -and
                $null -ne ($kids = [Der]::Parse($b, $p, $contentEnd, $depth + 1, $node)) -and $kids.Count -gt 0) {
                $node.Children = $kids
            }
            elseif ($t0 -eq 0x03 -and $len -ge 3 -and $b[$p] -eq 0 -and $b[$p + 1] -eq 0x30 -and $depth -lt 40 -and
                $null -ne ($kids = [Der]::Parse($b, $p + 1, $contentEnd, $depth + 1, $node)) -and $kids.Count -gt 0) {
                $node.Children = $kids
                $node.Pad = [byte]0
            }
            else {
                $node.Content = [Der]::Slice($b, $p, [int]$len)
            }
            $list.Add($node)
            $p = $contentEnd
        }
        return $list
    }

    static [byte[]] LengthBytes([long] $length) {
        if ($length -lt 0x80) { return [byte[]]@([byte]$length) }
        $l = [System.Collections.Generic.List[byte]]::new()
        while ($length -gt 0) { $l.Insert(0, [byte]($length -band 0xFF)); $length = $length -shr 8 }
        $l.Insert(0, [byte](0x80 -bor $l.Count))
        return $l.ToArray()
    }

    static [void] Write([System.IO.MemoryStream] $stream, [object] $node) {
        if ($null -ne $node.Raw) { $stream.Write($node.Raw, 0, $node.Raw.Length); return }
        [byte[]] $content = $null
        if ($null -ne $node.Children) {
            $inner = [System.IO.MemoryStream]::new()
            if ($null -ne $node.Pad) { $inner.WriteByte([byte]$node.Pad) }
            foreach ($c in $node.Children) { [Der]::Write($inner, $c) }
            $content = $inner.ToArray()
        }
        else { $content = $node.Content }
        if ($null -eq $content) { $content = [byte[]]::new(0) }
        $stream.Write($node.Tag, 0, $node.Tag.Length)
        $len = [Der]::LengthBytes($content.Length)
        $stream.Write($len, 0, $len.Length)
        if ($content.Length -gt 0) { $stream.Write($content, 0, $content.Length) }
    }
}

function Get-DerTree([byte[]] $Bytes) {
    if ($Bytes.Length -lt 2) { return $null }
    $tree = [Der]::Parse($Bytes, 0, $Bytes.Length, 0, $null)
    if ($null -eq $tree) { return $null }
    , $tree
}

function Get-DerLengthBytes([long] $Length) { , [Der]::LengthBytes($Length) }

function Write-DerNode([System.IO.MemoryStream] $Stream, $Node) { [Der]::Write($Stream, $Node) }

function ConvertTo-Der($Nodes) {
    $ms = [System.IO.MemoryStream]::new()
    foreach ($n in $Nodes) { [Der]::Write($ms, $n) }
    , $ms.ToArray()
}

# Every node with its sibling list, index and a path like 0.1.2 for descriptions.
function Get-DerFlat($Nodes, [string] $Path = '') {
    $out = [System.Collections.Generic.List[object]]::new()
    $stack = [System.Collections.Generic.Stack[object]]::new()
    $stack.Push(@($Nodes, $Path))
    while ($stack.Count -gt 0) {
        $top = $stack.Pop()
        $list = $top[0]
        for ($i = 0; $i -lt $list.Count; $i++) {
            $path = if ($top[1]) { "$($top[1]).$i" } else { "$i" }
            $out.Add([pscustomobject]@{ Node = $list[$i]; Siblings = $list; Index = $i; Path = $path })
            if ($null -ne $list[$i].Children) { $stack.Push(@($list[$i].Children, $path)) }
        }
    }
    , $out
}

function Get-TagName($Node) {
    if ($TagNames.ContainsKey($Node.T0)) { $TagNames[$Node.T0] } else { 'tag 0x{0:X2}' -f $Node.T0 }
}

function ConvertTo-OidBytes([string] $Oid) {
    $arcs = @($Oid.Split('.') | ForEach-Object { [System.Numerics.BigInteger]::Parse($_) })
    $values = @(($arcs[0] * 40 + $arcs[1])) + @($arcs | Select-Object -Skip 2)
    $l = [System.Collections.Generic.List[byte]]::new()
    foreach ($v in $values) {
        $chunk = [System.Collections.Generic.List[byte]]::new()
        $chunk.Add([byte]($v % 128)); $v = $v / 128
        while ($v -gt 0) { $chunk.Insert(0, [byte](($v % 128) + 128)); $v = $v / 128 }
        $l.AddRange($chunk)
    }
    , $l.ToArray()
}

function ConvertFrom-OidBytes([byte[]] $Bytes) {
    $arcs = [System.Collections.Generic.List[string]]::new()
    $v = [System.Numerics.BigInteger]::Zero
    foreach ($b in $Bytes) {
        $v = $v * 128 + ($b -band 0x7F)
        if (-not ($b -band 0x80)) {
            if ($arcs.Count -eq 0) {
                $first = if ($v -lt 80) { [int]($v / 40) } else { 2 }
                $arcs.Add("$first"); $arcs.Add([string]($v - 40 * $first))
            }
            else { $arcs.Add($v.ToString()) }
            $v = [System.Numerics.BigInteger]::Zero
        }
    }
    $s = $arcs -join '.'
    if ($s.Length -gt 60) { $s = $s.Substring(0, 60) + '...' }
    $s
}

# OIDs a mutation puts in place of another: PBE schemes old and new (MD2 PBES1, scrypt), ciphers, PRFs, key types,
# PKCS#7/#12 content and bag types.
$OidNames = [ordered]@{
    '1.2.840.113549.1.5.1' = 'pbeWithMD2AndDES-CBC'; '1.2.840.113549.1.5.4' = 'pbeWithMD2AndRC2-CBC'; '1.2.840.113549.1.5.3' = 'pbeWithMD5AndDES-CBC'
    '1.2.840.113549.1.5.10' = 'pbeWithSHA1AndDES-CBC'; '1.2.840.113549.1.5.13' = 'PBES2'; '1.2.840.113549.1.5.12' = 'PBKDF2'
    '1.3.6.1.4.1.11591.4.11' = 'scrypt'; '1.2.840.113549.1.12.1.1' = 'pbeWithSHAAnd128BitRC4'; '1.2.840.113549.1.12.1.3' = 'pbeWithSHAAnd3-KeyTripleDES-CBC'
    '1.2.840.113549.1.12.1.6' = 'pbeWithSHAAnd40BitRC2-CBC'; '1.2.840.113549.1.12.1.7' = 'pkcs12-pbe-7(unknown)'
    '2.16.840.1.101.3.4.1.42' = 'aes256-CBC'; '2.16.840.1.101.3.4.1.2' = 'aes128-CBC'; '1.2.840.113549.3.7' = 'des-ede3-cbc'; '1.3.14.3.2.7' = 'desCBC'
    '1.2.840.113549.3.2' = 'rc2CBC'; '2.16.840.1.101.3.4.1.46' = 'aes256-GCM'
    '1.2.840.113549.2.7' = 'hmacWithSHA1'; '1.2.840.113549.2.9' = 'hmacWithSHA256'; '1.2.840.113549.2.11' = 'hmacWithSHA512'; '1.2.840.113549.2.5' = 'md5'
    '1.3.14.3.2.26' = 'sha1'; '2.16.840.1.101.3.4.2.1' = 'sha256'; '2.16.840.1.101.3.4.2.3' = 'sha512'; '1.2.840.113549.2.2' = 'md2'; '2.16.840.1.101.3.4.2.10' = 'sha3-512'
    '1.2.840.113549.1.1.1' = 'rsaEncryption'; '1.2.840.113549.1.1.10' = 'RSASSA-PSS'; '1.2.840.10045.2.1' = 'ecPublicKey'; '1.3.101.112' = 'Ed25519'
    '1.2.840.10040.4.1' = 'dsa'; '1.2.840.10045.3.1.7' = 'prime256v1'; '1.3.132.0.34' = 'secp384r1'; '1.2.840.113549.1.1.11' = 'sha256WithRSAEncryption'
    '1.2.840.113549.1.7.1' = 'pkcs7-data'; '1.2.840.113549.1.7.2' = 'pkcs7-signedData'; '1.2.840.113549.1.7.3' = 'pkcs7-envelopedData'; '1.2.840.113549.1.7.6' = 'pkcs7-encryptedData'
    '1.2.840.113549.1.12.10.1.1' = 'keyBag'; '1.2.840.113549.1.12.10.1.2' = 'pkcs8ShroudedKeyBag'; '1.2.840.113549.1.12.10.1.3' = 'certBag'
    '1.2.840.113549.1.12.10.1.4' = 'crlBag'; '1.2.840.113549.1.12.10.1.5' = 'secretBag'; '1.2.840.113549.1.12.10.1.6' = 'safeContentsBag'
    '1.2.840.113549.1.9.22.1' = 'x509Certificate'; '1.2.840.113549.1.9.22.2' = 'sdsiCertificate'; '2.5.29.19' = 'basicConstraints'; '2.5.4.3' = 'commonName'
}
$OidList = @($OidNames.Keys)

function Get-OidLabel([byte[]] $Content) {
    $dotted = ConvertFrom-OidBytes $Content
    if ($OidNames.Contains($dotted)) { "$dotted ($($OidNames[$dotted]))" } else { $dotted }
}

# The OID that names the structure a node sits in: the first child of its parent, or of the parent's parent.
function Get-ContextOid($Node) {
    foreach ($up in @($Node.Parent, $(if ($Node.Parent) { $Node.Parent.Parent }))) {
        if ($up -and $null -ne $up.Children -and $up.Children.Count -gt 0 -and $up.Children[0].T0 -eq 0x06 -and $null -ne $up.Children[0].Content) {
            return Get-OidLabel $up.Children[0].Content
        }
    }
    $null
}

# INTEGERs that follow a salt (an 8 to 64 byte OCTET STRING) among their siblings: the iteration counts (and key
# lengths, scrypt costs) of PBKDF2, PBES1 and PKCS#12 PBE parameters, and the MAC iterations of PKCS#12 MacData.
function Get-IterationCandidates($Flat) {
    foreach ($e in $Flat) {
        if ($e.Node.T0 -ne 0x02 -or $e.Index -eq 0) { continue }
        for ($j = 0; $j -lt $e.Index; $j++) {
            $s = $e.Siblings[$j]
            if ($s.T0 -eq 0x04 -and $null -ne $s.Content -and $s.Content.Length -ge 8 -and $s.Content.Length -le 64) { $e; break }
        }
    }
}

function Get-IntegerRole($Entry) {
    $parent = $Entry.Node.Parent
    if ($parent -and $parent.Children.Count -eq 3 -and $parent.Children[0].T0 -eq 0x30 -and $parent.Children[1].T0 -eq 0x04 -and $Entry.Index -eq 2) {
        return 'the PKCS#12 MacData iterations'
    }
    $context = Get-ContextOid $Entry.Node
    $what = if ($Entry.Index -eq 1) { 'iteration count' } else { "parameter $($Entry.Index)" }
    if ($context) { "the $what of $context" } else { "the $what at $($Entry.Path)" }
}

# A replacement INTEGER content: zero, negative, at and beyond 32/64 bits, beyond the 1,000,000 limit, huge (up to
# 4 KB), empty or not minimal.
function Get-IntegerValue {
    switch (Get-Pick @('zero', 'minus-one', 'one', '1000001', '10000000', '2^31-1', '2^31', '2^32+1', '2^63', '2^64+1', 'huge', 'huge', 'huge-negative', 'empty', 'non-minimal')) {
        'zero' { @{ Bytes = [byte[]]@(0); Desc = '0' } }
        'minus-one' { @{ Bytes = [byte[]]@(0xFF); Desc = '-1' } }
        'one' { @{ Bytes = [byte[]]@(1); Desc = '1' } }
        '1000001' { @{ Bytes = [byte[]]@(0x0F, 0x42, 0x41); Desc = '1000001' } }
        '10000000' { @{ Bytes = [byte[]]@(0x00, 0x98, 0x96, 0x80); Desc = '10000000' } }
        '2^31-1' { @{ Bytes = [byte[]]@(0x7F, 0xFF, 0xFF, 0xFF); Desc = '2^31-1' } }
        '2^31' { @{ Bytes = [byte[]]@(0x00, 0x80, 0, 0, 0); Desc = '2^31' } }
        '2^32+1' { @{ Bytes = [byte[]]@(0x01, 0, 0, 0, 1); Desc = '2^32+1' } }
        '2^63' { @{ Bytes = [byte[]]@(0x00, 0x80, 0, 0, 0, 0, 0, 0, 0); Desc = '2^63' } }
        '2^64+1' { @{ Bytes = [byte[]]@(0x01, 0, 0, 0, 0, 0, 0, 0, 0, 1); Desc = '2^64+1' } }
        'huge' {
            $n = Get-Pick @(17, 64, 256, 1024, 2048, 4096)
            $b = Get-RandomBytes $n; $b[0] = 0x7F
            @{ Bytes = $b; Desc = "a positive $n-byte number" }
        }
        'huge-negative' {
            $n = Get-Pick @(9, 64, 1024, 4096)
            $b = Get-RandomBytes $n; $b[0] = 0x80
            @{ Bytes = $b; Desc = "a negative $n-byte number" }
        }
        'empty' { @{ Bytes = [byte[]]@(); Desc = 'empty (no content bytes)' } }
        'non-minimal' { @{ Bytes = [byte[]]@(0, 0, 0x08, 0); Desc = '2048 not minimally encoded (00 00 08 00)' } }
    }
}

function Get-RandomNode($Flat, [scriptblock] $Where) {
    $c = @($Flat | Where-Object $Where)
    if ($c.Count -eq 0) { return $null }
    Get-Pick $c
}

# One structural mutation of DER bytes; $null when the bytes do not parse (the caller then flips bits).
function Invoke-DerMutation([byte[]] $Bytes, [string] $Op) {
    $tree = Get-DerTree $Bytes
    if ($null -eq $tree -or $tree.Count -eq 0) { return $null }
    $flat = Get-DerFlat $tree
    switch ($Op) {
        'asn1-length' {
            $e = Get-Pick $flat
            $n = $e.Node
            $old = $n.ContentLength
            $choice = Get-Pick @('zero', 'minus1', 'plus1', 'double', 'max-short', 'indefinite', 'reserved', '4GB', '2GB', 'non-minimal', 'too-long', 'random')
            [byte[]] $new = switch ($choice) {
                'zero' { , [byte[]]@(0) }
                'minus1' { Get-DerLengthBytes ([Math]::Max(0, $old - 1)) }
                'plus1' { Get-DerLengthBytes ($old + 1) }
                'double' { Get-DerLengthBytes ($old * 2 + 1) }
                'max-short' { , [byte[]]@(0x7F) }
                'indefinite' { , [byte[]]@(0x80) }
                'reserved' { , [byte[]]@(0xFF) }
                '4GB' { , [byte[]]@(0x84, 0xFF, 0xFF, 0xFF, 0xFF) }
                '2GB' { , [byte[]]@(0x84, 0x7F, 0xFF, 0xFF, 0xFF) }
                'non-minimal' { Join-Bytes @([byte[]]@(0x84), [byte[]]([BitConverter]::GetBytes([uint32]$old)[3..0])) }
                'too-long' { Join-Bytes @([byte[]]@(0x89), (Get-RandomBytes 9)) }
                'random' { Get-RandomBytes (Get-Pick @(1, 2, 3)) }
            }
            @{ Bytes = (Set-Range $Bytes $n.LengthOffset $n.LengthCount $new); Desc = "asn1-length of $(Get-TagName $n) at $($e.Path) ($old) -> $(Get-Hex $new)" }
        }
        'iteration' {
            $cands = @(Get-IterationCandidates $flat)
            $integer = $false
            if ($cands.Count -eq 0) { $cands = @($flat | Where-Object { $_.Node.T0 -eq 0x02 }); $integer = $true }
            if ($cands.Count -eq 0) { return $null }
            $e = Get-Pick $cands
            $v = Get-IntegerValue
            $role = if ($integer) { "INTEGER at $($e.Path) (no iteration count found)" } else { Get-IntegerRole $e }
            $e.Node.Content = $v.Bytes
            @{ Bytes = (ConvertTo-Der $tree); Desc = "iteration: $role = $($v.Desc)" }
        }
        'integer' {
            $e = Get-RandomNode $flat { $_.Node.T0 -eq 0x02 }
            if (-not $e) { return $null }
            $v = Get-IntegerValue
            $context = Get-ContextOid $e.Node
            $e.Node.Content = $v.Bytes
            @{ Bytes = (ConvertTo-Der $tree); Desc = "integer at $($e.Path)$(if ($context) { " (in $context)" }) = $($v.Desc)" }
        }
        'empty' {
            # Mostly BIT STRINGs (public keys, signatures), else any element emptied.
            $e = if (Test-Chance 0.6) { Get-RandomNode $flat { $_.Node.T0 -eq 0x03 } } else { $null }
            if (-not $e) { $e = Get-Pick $flat }
            $n = $e.Node
            $what = Get-Pick @('empty', 'pad-only')
            $n.Children = $null; $n.Pad = $null
            $n.Content = if ($what -eq 'pad-only' -and $n.T0 -eq 0x03) { , [byte[]]@(0) } else { , [byte[]]::new(0) }
            @{ Bytes = (ConvertTo-Der $tree); Desc = "empty: $(Get-TagName $n) at $($e.Path)$(if ($n.Content.Length) { ' = only the unused-bits byte' } else { ' has no content' })" }
        }
        'bitstring-pad' {
            $e = Get-RandomNode $flat { $_.Node.T0 -eq 0x03 }
            if (-not $e) { return $null }
            $pad = [byte](Get-Pick @(1, 7, 8, 0xFF))
            if ($null -ne $e.Node.Children) { $e.Node.Pad = $pad } elseif ($e.Node.Content.Length -gt 0) { $e.Node.Content[0] = $pad } else { return $null }
            @{ Bytes = (ConvertTo-Der $tree); Desc = "bitstring-pad: BIT STRING at $($e.Path) unused bits = $pad" }
        }
        'tag' {
            $e = Get-Pick $flat
            $old = Get-TagName $e.Node
            $new = Get-Pick @(@(0x30), @(0x31), @(0x02), @(0x03), @(0x04), @(0x05), @(0x06), @(0x0C), @(0x1E), @(0xA0), @(0xA3), @(0x80), @(0x00),
                @(0x1F, 0x81, 0x01), @(0x3F, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), @($rng.Next(256)))
            $e.Node.Tag = [byte[]]$new
            @{ Bytes = (ConvertTo-Der $tree); Desc = "tag: $old at $($e.Path) -> $(Get-Hex ([byte[]]$new))" }
        }
        'child' {
            $e = Get-RandomNode $flat { $null -ne $_.Node.Children -and $_.Node.Children.Count -ge 1 }
            if (-not $e) { return $null }
            $kids = $e.Node.Children
            $what = Get-Pick @('drop', 'duplicate', 'swap', 'reverse', 'duplicate-many')
            $i = $rng.Next($kids.Count)
            switch ($what) {
                'drop' { $kids.RemoveAt($i) }
                'duplicate' { $kids.Insert($i, $kids[$i]) }
                'duplicate-many' { $times = Get-Pick @(10, 50); for ($k = 0; $k -lt $times; $k++) { $kids.Insert($i, $kids[$i]) }; $what = "duplicate x$times" }
                'swap' { if ($kids.Count -lt 2) { return $null }; $j = ($i + 1 + $rng.Next($kids.Count - 1)) % $kids.Count; $t = $kids[$i]; $kids[$i] = $kids[$j]; $kids[$j] = $t; $i = "$i<->$j" }
                'reverse' { $kids.Reverse() ; $i = 'all' }
            }
            @{ Bytes = (ConvertTo-Der $tree); Desc = "child: $what child $i of $(Get-TagName $e.Node) at $($e.Path)" }
        }
        'oid' {
            $e = Get-RandomNode $flat { $_.Node.T0 -eq 0x06 -and $null -ne $_.Node.Content }
            if (-not $e) { return $null }
            $old = Get-OidLabel $e.Node.Content
            $what = Get-Pick @('swap', 'swap', 'swap', 'truncated-arc', 'empty', 'huge-arc', 'long', 'last+1')
            $e.Node.Content = switch ($what) {
                'swap' { $what = 'swap'; ConvertTo-OidBytes (Get-Pick $OidList) }
                'truncated-arc' { Join-Bytes @($e.Node.Content, [byte[]]@(0x81)) }
                'empty' { , [byte[]]::new(0) }
                'huge-arc' { Join-Bytes @($e.Node.Content, [byte[]]@(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F)) }
                'long' { $b = [byte[]]::new(2000); for ($k = 0; $k -lt $b.Length; $k++) { $b[$k] = 0x01 }; $b[0] = 0x2A; , $b }
                'last+1' { $c = [byte[]]$e.Node.Content.Clone(); if ($c.Length) { $c[-1] = [byte](($c[-1] + 1) -band 0x7F) }; , $c }
            }
            @{ Bytes = (ConvertTo-Der $tree); Desc = "oid: $old at $($e.Path) -> $what $(Get-OidLabel $e.Node.Content)" }
        }
        'nest' {
            $k = Get-Pick @(1, 10, 63, 64, 65, 100, 500, 2000, 5000)
            $whole = Test-Chance 0.4
            $e = if ($whole) { $flat[0] } else { Get-Pick $flat }
            $ms = [System.IO.MemoryStream]::new(); Write-DerNode $ms $e.Node
            $inner = $ms.ToArray()
            # Headers from the inside out, without recursion.
            $headers = [System.Collections.Generic.List[byte[]]]::new()
            $len = [long]$inner.Length
            for ($j = 0; $j -lt $k; $j++) {
                $h = Join-Bytes @([byte[]]@(0x30), (Get-DerLengthBytes $len))
                $headers.Add($h); $len += $h.Length
            }
            $headers.Reverse()
            $e.Node.Raw = Join-Bytes (@($headers) + , $inner)
            @{ Bytes = (ConvertTo-Der $tree); Desc = "nest: $(Get-TagName $e.Node) at $($e.Path) wrapped in $k SEQUENCEs" }
        }
        'content-size' {
            $e = Get-RandomNode $flat { $null -eq $_.Node.Children }
            if (-not $e) { return $null }
            $old = $e.Node.Content.Length
            $what = Get-Pick @('truncate', 'truncate', 'grow', 'huge')
            $e.Node.Content = switch ($what) {
                'truncate' { Get-Slice $e.Node.Content 0 ($rng.Next([Math]::Max(1, $old))) }
                'grow' { Join-Bytes @($e.Node.Content, (Get-RandomBytes (Get-Pick @(1, 16, 100)))) }
                'huge' { Get-RandomBytes (Get-Pick @(4096, 65536, 1048576)) }
            }
            @{ Bytes = (ConvertTo-Der $tree); Desc = "content-size: $(Get-TagName $e.Node) at $($e.Path) $old -> $($e.Node.Content.Length) bytes ($what)" }
        }
        'drop-mac' {
            if ($tree[0].T0 -ne 0x30 -or $null -eq $tree[0].Children -or $tree[0].Children.Count -lt 3) { return $null }
            $tree[0].Children.RemoveAt(2)
            @{ Bytes = (ConvertTo-Der $tree); Desc = 'drop-mac: PKCS#12 MacData removed' }
        }
        default { throw "unknown DER mutation $Op" }
    }
}

#endregion

#region PKCS#12 MAC and JKS digest

# RFC 7292 B.2 with ID 3 (MAC key), for one hash-sized block: the key of HMAC-SHA1 / HMAC-SHA256.
function Get-Pkcs12MacKey([string] $Hash, [byte[]] $Salt, [int] $Iterations, [string] $Password) {
    $h = if ($Hash -eq 'sha1') { [System.Security.Cryptography.SHA1]::Create() } else { [System.Security.Cryptography.SHA256]::Create() }
    $v = 64
    $pw = Join-Bytes @([System.Text.Encoding]::BigEndianUnicode.GetBytes($Password), [byte[]]@(0, 0))
    $fill = {
        param([byte[]] $x)
        if ($x.Length -eq 0) { return , [byte[]]@() }
        $n = $v * [Math]::Ceiling($x.Length / $v)
        $r = [byte[]]::new($n)
        for ($i = 0; $i -lt $n; $i++) { $r[$i] = $x[$i % $x.Length] }
        , $r
    }
    $d = [byte[]]::new($v); for ($i = 0; $i -lt $v; $i++) { $d[$i] = 3 }
    $a = $h.ComputeHash((Join-Bytes @($d, (& $fill $Salt), (& $fill $pw))))
    for ($i = 1; $i -lt $Iterations; $i++) { $a = $h.ComputeHash($a) }
    , $a
}

# Recomputes the MAC of a PKCS#12 file whose outer structure still parses; $null when it cannot.
function Update-Pkcs12Mac([byte[]] $Bytes) {
    $tree = Get-DerTree $Bytes
    if ($null -eq $tree -or $tree.Count -lt 1 -or $null -eq $tree[0].Children -or $tree[0].Children.Count -lt 3) { return $null }
    $pfx = $tree[0]
    $authSafe = $pfx.Children[1]
    $mac = $pfx.Children[2]
    if ($null -eq $authSafe.Children -or $authSafe.Children.Count -lt 2 -or $null -eq $authSafe.Children[1].Children -or $authSafe.Children[1].Children.Count -lt 1) { return $null }
    $data = $authSafe.Children[1].Children[0]
    if ($data.T0 -ne 0x04) { return $null }
    if ($null -eq $mac.Children -or $mac.Children.Count -lt 3) { return $null }
    $digestInfo = $mac.Children[0]
    $salt = $mac.Children[1]
    $iter = $mac.Children[2]
    if ($null -eq $digestInfo.Children -or $digestInfo.Children.Count -lt 2 -or $null -eq $digestInfo.Children[0].Children -or $null -eq $salt.Content -or $null -eq $iter.Content) { return $null }
    $alg = $digestInfo.Children[0].Children[0]
    if ($alg.T0 -ne 0x06 -or $null -eq $alg.Content) { return $null }
    $hash = switch (ConvertFrom-OidBytes $alg.Content) { '1.3.14.3.2.26' { 'sha1' } '2.16.840.1.101.3.4.2.1' { 'sha256' } default { $null } }
    if (-not $hash -or $iter.Content.Length -lt 1 -or $iter.Content.Length -gt 3 -or ($iter.Content[0] -band 0x80)) { return $null }
    $count = 0; foreach ($b in $iter.Content) { $count = $count * 256 + $b }
    if ($count -lt 1 -or $count -gt 20000) { return $null }
    $key = Get-Pkcs12MacKey $hash $salt.Content $count $FuzzPassword
    $hmac = if ($hash -eq 'sha1') { [System.Security.Cryptography.HMACSHA1]::new($key) } else { [System.Security.Cryptography.HMACSHA256]::new($key) }
    $digest = $hmac.ComputeHash($Bytes, $data.ContentOffset, $data.ContentLength)
    $digestInfo.Children[1].Children = $null
    $digestInfo.Children[1].Content = $digest
    , (ConvertTo-Der $tree)
}

# Length and count fields of a JKS file (big-endian), and where its certificates are.
function Get-JksLayout([byte[]] $Bytes) {
    $fields = [System.Collections.Generic.List[object]]::new()
    $certs = [System.Collections.Generic.List[object]]::new()
    $u32 = { param($o) if ($o + 4 -gt $Bytes.Length) { throw 'short' }; ([long]$Bytes[$o] -shl 24) -bor ($Bytes[$o + 1] -shl 16) -bor ($Bytes[$o + 2] -shl 8) -bor $Bytes[$o + 3] }
    $u16 = { param($o) if ($o + 2 -gt $Bytes.Length) { throw 'short' }; ($Bytes[$o] -shl 8) -bor $Bytes[$o + 1] }
    try {
        if ((& $u32 0) -ne 0xFEEDFEED) { return $null }
        $fields.Add(@{ Offset = 4; Size = 4; Name = 'version' })
        $n = & $u32 8; $fields.Add(@{ Offset = 8; Size = 4; Name = 'entry count' })
        $p = 12
        for ($i = 0; $i -lt $n; $i++) {
            $tag = & $u32 $p; $fields.Add(@{ Offset = $p; Size = 4; Name = "entry $i tag" }); $p += 4
            $a = & $u16 $p; $fields.Add(@{ Offset = $p; Size = 2; Name = "entry $i alias length" }); $p += 2 + $a + 8
            if ($tag -eq 1) {
                $k = & $u32 $p; $fields.Add(@{ Offset = $p; Size = 4; Name = "entry $i key length" }); $p += 4 + $k
                $c = & $u32 $p; $fields.Add(@{ Offset = $p; Size = 4; Name = "entry $i chain length" }); $p += 4
            }
            else { $c = 1 }
            for ($j = 0; $j -lt $c; $j++) {
                $t = & $u16 $p; $fields.Add(@{ Offset = $p; Size = 2; Name = "entry $i cert $j type length" }); $p += 2 + $t
                $l = & $u32 $p; $fields.Add(@{ Offset = $p; Size = 4; Name = "entry $i cert $j length" }); $p += 4
                $certs.Add(@{ LengthOffset = $p - 4; Offset = $p; Length = [int]$l; Name = "entry $i cert $j" }); $p += $l
            }
        }
    }
    catch { }
    @{ Fields = $fields; Certs = $certs }
}

# JKS integrity: SHA-1 over the password (UTF-16BE), "Mighty Aphrodite" and everything before the digest.
function Update-JksDigest([byte[]] $Bytes) {
    if ($Bytes.Length -lt 40) { return $null }
    $body = Get-Slice $Bytes 0 ($Bytes.Length - 20)
    $sha = [System.Security.Cryptography.SHA1]::Create()
    $digest = $sha.ComputeHash((Join-Bytes @([System.Text.Encoding]::BigEndianUnicode.GetBytes($FuzzPassword), [System.Text.Encoding]::UTF8.GetBytes('Mighty Aphrodite'), $body)))
    Join-Bytes @($body, $digest)
}

#endregion

#region Raw, PEM and JSON mutations

function Invoke-RawMutation([byte[]] $Bytes, [string] $Op) {
    $len = $Bytes.Length
    switch ($Op) {
        'bitflip' {
            if ($len -eq 0) { return @{ Bytes = [byte[]]@(0x30); Desc = 'bitflip: empty input -> 30' } }
            $b = [byte[]]$Bytes.Clone()
            $n = Get-Pick @(1, 1, 1, 2, 4, 8)
            $at = for ($i = 0; $i -lt $n; $i++) { $o = $rng.Next($len); $bit = $rng.Next(8); $b[$o] = $b[$o] -bxor (1 -shl $bit); "$o.$bit" }
            @{ Bytes = $b; Desc = "bitflip x${n} at $($at -join ',')" }
        }
        'insert' {
            $o = $rng.Next($len + 1)
            $what = Get-Pick @('random', 'zeros', 'ff', 'seq-indef', 'seq-4GB', 'nul')
            [byte[]] $ins = switch ($what) {
                'random' { Get-RandomBytes (1 + $rng.Next(16)) }
                'zeros' { , [byte[]]::new(1 + $rng.Next(16)) }
                'ff' { $x = [byte[]]::new(1 + $rng.Next(16)); for ($i = 0; $i -lt $x.Length; $i++) { $x[$i] = 0xFF }; , $x }
                'seq-indef' { , [byte[]]@(0x30, 0x80) }
                'seq-4GB' { , [byte[]]@(0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF) }
                'nul' { , [byte[]]@(0) }
            }
            @{ Bytes = (Set-Range $Bytes $o 0 $ins); Desc = "insert $($ins.Length) bytes ($what) at $o" }
        }
        'delete' {
            if ($len -eq 0) { return $null }
            $o = $rng.Next($len); $n = [Math]::Min($len - $o, 1 + $rng.Next(64))
            @{ Bytes = (Set-Range $Bytes $o $n ([byte[]]@())); Desc = "delete $n bytes at $o" }
        }
        'truncate' {
            $to = if (Test-Chance 0.5) { [Math]::Max(0, $len - 1 - $rng.Next([Math]::Max(1, [Math]::Min($len, 64)))) } else { $rng.Next([Math]::Max(1, $len)) }
            @{ Bytes = (Get-Slice $Bytes 0 $to); Desc = "truncate $len -> $to bytes" }
        }
        'overwrite' {
            if ($len -eq 0) { return $null }
            $b = [byte[]]$Bytes.Clone()
            $o = $rng.Next($len)
            $v = [byte[]](Get-Pick @(@(0x00), @(0xFF), @(0x7F), @(0x80), @(0x81, 0xFF), @(0x84, 0x7F, 0xFF, 0xFF, 0xFF), @(0x30, 0x80)))
            for ($i = 0; $i -lt $v.Length -and $o + $i -lt $len; $i++) { $b[$o + $i] = $v[$i] }
            @{ Bytes = $b; Desc = "overwrite at $o with $(Get-Hex $v)" }
        }
        default { throw "unknown raw mutation $Op" }
    }
}

$PemPattern = [regex]'(?s)-----BEGIN (?<label>[A-Z0-9 #]+)-----(?<body>.*?)-----END \k<label>-----'

function Get-PemNewline([string] $Body) {
    if ($Body.Contains('\n')) { '\n' } elseif ($Body.Contains("`r`n")) { "`r`n" } else { "`n" }
}

function ConvertTo-PemBlock([string] $Label, [byte[]] $Der, [string] $Newline, [string] $Headers = '') {
    $b64 = [Convert]::ToBase64String($Der)
    $lines = for ($i = 0; $i -lt $b64.Length; $i += 64) { $b64.Substring($i, [Math]::Min(64, $b64.Length - $i)) }
    "-----BEGIN $Label-----$Newline$Headers$(($lines -join $Newline))$Newline-----END $Label-----"
}

function Invoke-JksMutation([byte[]] $Bytes, [string] $Op) {
    $layout = Get-JksLayout $Bytes
    if ($null -eq $layout) { return $null }
    switch ($Op) {
        'jks-field' {
            if ($layout.Fields.Count -eq 0) { return $null }
            $f = Get-Pick @($layout.Fields)
            $v = Get-Pick @(0, -1, 0x7FFFFFFF, 0x00FFFFFF, 1, 2, 1000)
            $b = [byte[]]$Bytes.Clone()
            if ($f.Offset + $f.Size -gt $b.Length) { return $null }
            for ($i = 0; $i -lt $f.Size; $i++) { $b[$f.Offset + $i] = [byte](($v -shr (8 * ($f.Size - 1 - $i))) -band 0xFF) }
            @{ Bytes = $b; Desc = "jks-field: $($f.Name) = $v" }
        }
        'jks-cert' {
            if ($layout.Certs.Count -eq 0) { return $null }
            $c = Get-Pick @($layout.Certs)
            if ($c.Offset + $c.Length -gt $Bytes.Length) { return $null }
            $der = Get-Slice $Bytes $c.Offset $c.Length
            $m = Invoke-DerMutation $der (Get-Pick @('asn1-length', 'integer', 'empty', 'tag', 'child', 'oid', 'nest', 'content-size'))
            if ($null -eq $m) { $m = Invoke-RawMutation $der 'bitflip' }
            $newLen = [byte[]]@(([uint32]$m.Bytes.Length -shr 24) -band 0xFF, ($m.Bytes.Length -shr 16) -band 0xFF, ($m.Bytes.Length -shr 8) -band 0xFF, $m.Bytes.Length -band 0xFF)
            $b = Set-Range $Bytes $c.Offset $c.Length $m.Bytes
            $b = Set-Range $b $c.LengthOffset 4 $newLen
            @{ Bytes = $b; Desc = "jks-cert: $($c.Name): $($m.Desc)" }
        }
    }
}

function Invoke-PemMutation([byte[]] $Bytes, [string] $Op) {
    $text = ConvertTo-Text $Bytes
    $blocks = @($PemPattern.Matches($text))
    if ($blocks.Count -eq 0) { return $null }
    $nl = Get-PemNewline $blocks[0].Groups['body'].Value
    switch ($Op) {
        'pem-der' {
            $m = Get-Pick $blocks
            $body = $m.Groups['body'].Value
            $b64 = ($body -replace '\\n', '') -replace '\s', ''
            try { $der = [Convert]::FromBase64String($b64) } catch { return $null }
            $op2 = Get-Weighted ([ordered]@{ 'asn1-length' = 3; 'iteration' = 3; 'integer' = 1; 'empty' = 2; 'bitstring-pad' = 0.5; 'tag' = 1; 'child' = 2; 'oid' = 2; 'nest' = 1; 'content-size' = 1; 'bitflip' = 1; 'truncate' = 1 })
            $r = if ($op2 -in 'bitflip', 'truncate') { Invoke-RawMutation $der $op2 } else { Invoke-DerMutation $der $op2 }
            if ($null -eq $r) { $r = Invoke-RawMutation $der 'bitflip' }
            $new = ConvertTo-PemBlock $m.Groups['label'].Value $r.Bytes (Get-PemNewline $body)
            @{ Text = $text.Substring(0, $m.Index) + $new + $text.Substring($m.Index + $m.Length); Desc = "pem-der: block $([array]::IndexOf($blocks, $m)) ($($m.Groups['label'].Value)): $($r.Desc)" }
        }
        'pem-dup' {
            $m = Get-Pick $blocks
            $k = Get-Pick @(1, 2, 10, 100)
            $copies = (@($m.Value) * $k) -join $nl
            @{ Text = $text.Substring(0, $m.Index + $m.Length) + $nl + $copies + $text.Substring($m.Index + $m.Length); Desc = "pem-dup: block $([array]::IndexOf($blocks, $m)) ($($m.Groups['label'].Value)) x$k more" }
        }
        'pem-reorder' {
            $order = @(0..($blocks.Count - 1) | Sort-Object { $rng.Next() })
            $joined = (@($order | ForEach-Object { $blocks[$_].Value })) -join $nl
            $start = $blocks[0].Index; $end = $blocks[-1].Index + $blocks[-1].Length
            @{ Text = $text.Substring(0, $start) + $joined + $text.Substring($end); Desc = "pem-reorder: $($blocks.Count) blocks in order $((@($order | Select-Object -First 12)) -join ',')$(if ($order.Count -gt 12) { ',...' })" }
        }
        'pem-drop' {
            $m = Get-Pick $blocks
            @{ Text = $text.Remove($m.Index, $m.Length); Desc = "pem-drop: block $([array]::IndexOf($blocks, $m)) ($($m.Groups['label'].Value))" }
        }
        'pem-label' {
            $m = Get-Pick $blocks
            $label = Get-Pick @('CERTIFICATE', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'EC PRIVATE KEY', 'PKCS7', 'CMS', 'X509 CRL',
                'PUBLIC KEY', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE', 'CERTIFICATE REQUEST', 'DSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'FUZZ')
            $both = Test-Chance 0.7
            $old = $m.Groups['label'].Value
            $new = if ($both) { $m.Value.Replace("BEGIN $old-----", "BEGIN $label-----").Replace("END $old-----", "END $label-----") } else { $m.Value.Replace("BEGIN $old-----", "BEGIN $label-----") }
            @{ Text = $text.Remove($m.Index, $m.Length).Insert($m.Index, $new); Desc = "pem-label: block $([array]::IndexOf($blocks, $m)) $old -> $label$(if (-not $both) { ' (BEGIN only)' })" }
        }
        'pem-armour' {
            $m = Get-Pick $blocks
            $what = Get-Pick @('no-end', 'no-begin', 'four-dashes', 'lowercase', 'end-first')
            $v = $m.Value; $label = $m.Groups['label'].Value
            $new = switch ($what) {
                'no-end' { $v.Replace("-----END $label-----", '') }
                'no-begin' { $v.Replace("-----BEGIN $label-----", '') }
                'four-dashes' { $v.Replace("-----BEGIN $label-----", "----BEGIN $label----") }
                'lowercase' { $v.Replace("BEGIN $label", "begin $($label.ToLowerInvariant())") }
                'end-first' { "-----END $label-----$nl$v" }
            }
            @{ Text = $text.Remove($m.Index, $m.Length).Insert($m.Index, $new); Desc = "pem-armour: block $([array]::IndexOf($blocks, $m)) $what" }
        }
        'pem-base64' {
            $m = Get-Pick $blocks
            $g = $m.Groups['body']
            $body = $g.Value
            if ($body.Length -lt 4) { return $null }
            $what = Get-Pick @('bad-char', 'drop-line', 'padding-inside', 'join-lines', 'blank-lines', 'spaces', 'drop-chars')
            $o = 1 + $rng.Next($body.Length - 2)
            $new = switch ($what) {
                'bad-char' { $body.Insert($o, (Get-Pick @('!', '*', '.', '-', [string][char]0, [string][char]0xE9, '\u0000'))) }
                'drop-line' { $lines = [System.Collections.Generic.List[string]]::new([string[]]($body -split [regex]::Escape($nl))); $lines.RemoveAt($rng.Next($lines.Count)); $lines -join $nl }
                'padding-inside' { $body.Insert($o, '==') }
                'join-lines' { $body.Replace($nl, '') }
                'blank-lines' { $body.Replace($nl, "$nl$nl") }
                'spaces' { $body.Replace($nl, " $nl ") }
                'drop-chars' { $body.Remove($o, [Math]::Min($body.Length - $o, 1 + $rng.Next(3))) }
            }
            @{ Text = $text.Substring(0, $g.Index) + $new + $text.Substring($g.Index + $g.Length); Desc = "pem-base64: block $([array]::IndexOf($blocks, $m)) $what" }
        }
        'pem-headers' {
            $keys = @($blocks | Where-Object { $_.Groups['label'].Value -like '*PRIVATE KEY' })
            $m = if ($keys.Count) { Get-Pick $keys } else { Get-Pick $blocks }
            $cipher = Get-Pick @('AES-128-CBC', 'AES-256-CBC', 'DES-EDE3-CBC', 'DES-CBC', 'BF-CBC', 'FUZZ-1-CBC', '')
            $iv = switch (Get-Pick @('ok', 'empty', 'short', 'long', 'nonhex')) {
                'ok' { Get-Hex (Get-RandomBytes $(if ($cipher -like 'AES*') { 16 } else { 8 })) 64 }
                'empty' { '' }
                'short' { '0A' }
                'long' { -join (1..1000 | ForEach-Object { 'AB' }) }
                'nonhex' { 'XYZ' }
            }
            $label = $m.Groups['label'].Value
            $headers = "Proc-Type: 4,ENCRYPTED${nl}DEK-Info: $cipher,$iv$nl$nl"
            $new = $m.Value.Replace("-----BEGIN $label-----$nl", "-----BEGIN $label-----$nl$headers")
            @{ Text = $text.Remove($m.Index, $m.Length).Insert($m.Index, $new); Desc = "pem-headers: block $([array]::IndexOf($blocks, $m)) ($label) gets Proc-Type/DEK-Info $cipher,$(if ($iv.Length -gt 40) { "<$($iv.Length) hex chars>" } else { $iv })" }
        }
        'pem-junk' {
            $junk = Get-Pick @("Bag Attributes$nl    localKeyID: 01 02 03$nl", "$([char]0)$([char]0)$([char]1)", 'subject=CN=fuzz', "-----BEGIN $nl", "-----END CERTIFICATE-----$nl",
                (ConvertTo-Text (Get-RandomBytes 32)), "-----BEGIN CERTIFICATE-----${nl}MA==${nl}-----END CERTIFICATE-----$nl")
            $at = Get-Pick @(0, $text.Length, $blocks[0].Index + $blocks[0].Length, $rng.Next($text.Length + 1))
            @{ Text = $text.Insert($at, $junk); Desc = "pem-junk: $(($junk -replace '[^\x20-\x7E]', '?').Substring(0, [Math]::Min(30, $junk.Length))) at $at" }
        }
        'newlines' {
            $what = Get-Pick @('crlf', 'cr', 'none', 'literal-backslash-n')
            $new = switch ($what) {
                'crlf' { $text.Replace("`r`n", "`n").Replace("`n", "`r`n") }
                'cr' { $text.Replace("`r`n", "`n").Replace("`n", "`r") }
                'none' { $text.Replace("`r", '').Replace("`n", '') }
                'literal-backslash-n' { $text.Replace("`n", '\n') }
            }
            @{ Text = $new; Desc = "newlines: $what" }
        }
        'pem-flood' {
            $k = Get-Pick @(1000, 5001)
            $flood = ("-----BEGIN CERTIFICATE-----${nl}MAA=${nl}-----END CERTIFICATE-----$nl") * $k
            @{ Text = $text + $nl + $flood; Desc = "pem-flood: $k tiny CERTIFICATE blocks appended" }
        }
        'pem-repeat' {
            $k = Get-Pick @(2, 5, 30)
            @{ Text = (@($text) * $k) -join $nl; Desc = "pem-repeat: whole text x$k" }
        }
    }
}

$JsonStringPattern = [regex]'"(?<name>(?:[^"\\]|\\.)*)"\s*:\s*"(?<value>(?:[^"\\]|\\.)*)"'

function Invoke-JsonMutation([byte[]] $Bytes, [string] $Op) {
    $text = ConvertTo-Text $Bytes
    $strings = @($JsonStringPattern.Matches($text))
    switch ($Op) {
        'json-quote' {
            $q = @([regex]::Matches($text, '"'))
            if ($q.Count -eq 0) { return $null }
            $m = Get-Pick $q
            @{ Text = $text.Remove($m.Index, 1); Desc = "json-quote: quote at $($m.Index) removed" }
        }
        'json-brace' {
            $q = @([regex]::Matches($text, '[{}\[\]]'))
            if ($q.Count -eq 0) { return $null }
            $m = Get-Pick $q
            $what = Get-Pick @('drop', 'double')
            $new = if ($what -eq 'drop') { $text.Remove($m.Index, 1) } else { $text.Insert($m.Index, $m.Value) }
            @{ Text = $new; Desc = "json-brace: '$($m.Value)' at $($m.Index) $what" }
        }
        'json-escape' {
            $what = Get-Pick @('double-backslash-n', 'real-newlines', 'no-newlines', 'crlf-escapes', 'one-field-double', 'bad-escape', 'unicode')
            $new = switch ($what) {
                'double-backslash-n' { $text.Replace('\n', '\\n') }
                'real-newlines' { $text.Replace('\n', "`n") }
                'no-newlines' { $text.Replace('\n', '') }
                'crlf-escapes' { $text.Replace('\n', '\r\n') }
                'one-field-double' { if (-not $strings.Count) { return $null }; $m = Get-Pick $strings; $g = $m.Groups['value']; $text.Substring(0, $g.Index) + $g.Value.Replace('\n', '\\n') + $text.Substring($g.Index + $g.Length) }
                'bad-escape' { if (-not $strings.Count) { return $null }; $g = (Get-Pick $strings).Groups['value']; $text.Insert($g.Index + $rng.Next($g.Length + 1), (Get-Pick @('\x', '\u12', '\', '\uD800', '\u0000'))) }
                'unicode' { $text.Replace('-----BEGIN', '\u002d\u002d\u002d\u002d\u002dBEGIN') }
            }
            @{ Text = $new; Desc = "json-escape: $what" }
        }
        'json-truncate-string' {
            if (-not $strings.Count) { return $null }
            $m = Get-Pick $strings
            $g = $m.Groups['value']
            $cut = $rng.Next($g.Length + 1)
            @{ Text = $text.Substring(0, $g.Index + $cut) + $text.Substring($g.Index + $g.Length); Desc = "json-truncate-string: ""$($m.Groups['name'].Value)"" cut to $cut of $($g.Length) chars" }
        }
        'json-field' {
            if (-not $strings.Count) { return $null }
            $m = Get-Pick $strings
            $name = $m.Groups['name'].Value
            $what = Get-Pick @('rename', 'remove-value', 'null', 'number', 'array', 'object', 'true', 'empty', 'duplicate', 'huge')
            $g = $m.Groups['value']
            $before = $text.Substring(0, $m.Index); $after = $text.Substring($m.Index + $m.Length)
            $new = switch ($what) {
                'rename' { $before + """${name}x"": ""$($g.Value)""" + $after }
                'remove-value' { $before + """$name"":" + $after }
                'null' { $before + """$name"": null" + $after }
                'number' { $before + """$name"": 1e400" + $after }
                'array' { $before + """$name"": [""$($g.Value)""]" + $after }
                'object' { $before + """$name"": {}" + $after }
                'true' { $before + """$name"": true" + $after }
                'empty' { $before + """$name"": """"" + $after }
                'duplicate' { $before + $m.Value + ', ' + """$name"": ""other""" + $after }
                'huge' { $before + """$name"": """ + ('A' * (Get-Pick @(100000, 1000000))) + '"' + $after }
            }
            @{ Text = $new; Desc = "json-field: ""$name"" $what" }
        }
        'json-swap' {
            $cert = @($strings | Where-Object { $_.Groups['name'].Value -eq 'certificate' })
            $key = @($strings | Where-Object { $_.Groups['name'].Value -eq 'key' })
            if (-not $cert.Count -or -not $key.Count) { return $null }
            $c = $cert[0].Groups['value']; $k = $key[0].Groups['value']
            $first, $second = if ($c.Index -lt $k.Index) { $c, $k } else { $k, $c }
            $new = $text.Substring(0, $first.Index) + $second.Value + $text.Substring($first.Index + $first.Length, $second.Index - $first.Index - $first.Length) + $first.Value + $text.Substring($second.Index + $second.Length)
            @{ Text = $new; Desc = 'json-swap: certificate and key values swapped' }
        }
        'json-nest' {
            $k = Get-Pick @(10, 64, 1000, 10000)
            $what = Get-Pick @('array', 'object')
            $new = if ($what -eq 'array') { ('[' * $k) + $text + (']' * $k) } else { ('{"a":' * $k) + $text + ('}' * $k) }
            @{ Text = $new; Desc = "json-nest: wrapped in $k ${what}s" }
        }
        'json-wrap' {
            $what = Get-Pick @('cf-line', 'credentials', 'bom', 'trailing-garbage', 'two-documents')
            $new = switch ($what) {
                'cf-line' { "Getting key cert-key for service instance cpi as fuzz@example.com...`n`n" + $text }
                'credentials' { '{"credentials": ' + $text + '}' }
                'bom' { [string][char]0xFEFF + $text }
                'trailing-garbage' { $text + '}}} garbage' }
                'two-documents' { $text + "`n" + $text }
            }
            @{ Text = $new; Desc = "json-wrap: $what" }
        }
    }
}

#endregion

#region Seeds

function Invoke-Tool([string] $Exe, [string[]] $Arguments) {
    $ErrorActionPreference = 'Continue'
    $out = & $Exe @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed ($LASTEXITCODE): $($out -join "`n")" }
}

# Seeds: Kind picks the mutations, Password whether -Password is given, Text whether ConvertFrom-ServiceKey runs,
# Expect what the unmutated seed must give ('key': a bundle with its private key, 'cert': a bundle, 'any': a
# categorised outcome).
function New-FuzzSeeds([string] $Dir) {
    $marker = Join-Path $Dir 'seeds.json'
    if (Test-Path -LiteralPath $marker) {
        return @(Get-Content -LiteralPath $marker -Raw | ConvertFrom-Json | ForEach-Object {
                $_.File = Join-Path $Dir $_.File; $_ })
    }
    $null = New-Item -ItemType Directory -Path $Dir -Force
    $f = { param($n) Join-Path $Dir $n }
    # The test helpers of tests/common.ps1 (Get-TestPki, New-TestServiceKey, New-TestClientCertificate), here only:
    # dot-sourced, they import the repository's build into this session (after the fuzzing runspace imported
    # -ModulePath, so that copy stays the one that runs) and make $TestFolder, removed below.
    . (Join-Path $repo 'tests/common.ps1')
    # The test PKI of tests/common.ps1 (root CA -> intermediate CA -> RSA client, PKCS#8 and PKCS#1 keys), made in the
    # seed folder, and an EC client certificate of the same intermediate.
    $savedPki = $env:CERTINTEGRATION_TEST_PKI
    $env:CERTINTEGRATION_TEST_PKI = Join-Path $Dir 'pki'
    try { $pki = Get-TestPki } finally { $env:CERTINTEGRATION_TEST_PKI = $savedPki }
    $ecClient = New-TestClientCertificate -Pki $pki -Folder $Dir -Name 'ec' -CommonName 'Fuzz EC Client' -KeyType Ec
    $ssl = { param([string[]] $a) Invoke-Tool openssl $a }
    & $ssl @('pkcs8', '-topk8', '-in', $pki.LeafKey, '-v2', 'aes-256-cbc', '-passout', "pass:$FuzzPassword", '-out', (& $f 'leaf.enc.key'))

    $pem = { param($n) (Get-Content -LiteralPath $n -Raw) -replace "`r`n", "`n" }
    $chain = & $pem $pki.ChainFile
    $full = & $pem $pki.FullChainFile

    $seeds = [System.Collections.Generic.List[object]]::new()
    $add = { param($Name, $File, $Kind, $Password, $Text, $Expect) $seeds.Add([pscustomobject]@{ Name = $Name; File = $File; Kind = $Kind; Password = $Password; Text = $Text; Expect = $Expect }) }
    $p12 = @('pkcs12', '-export', '-in', $pki.LeafCert, '-inkey', $pki.LeafKey, '-certfile', $pki.ChainFile, '-passout', "pass:$FuzzPassword")
    & $ssl ($p12 + @('-out', (& $f 'pfx-aes.pfx'))); & $add 'pfx-aes' 'pfx-aes.pfx' 'pfx' $true $false 'key'
    & $ssl ($p12 + @('-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-out', (& $f 'pfx-3des.pfx'))); & $add 'pfx-3des' 'pfx-3des.pfx' 'pfx' $true $false 'key'
    try { & $ssl ($p12 + @('-legacy', '-out', (& $f 'pfx-rc2.pfx'))); & $add 'pfx-rc2' 'pfx-rc2.pfx' 'pfx' $true $false 'key' }
    catch { Write-Warning "openssl pkcs12 -legacy failed, no RC2-40 seed: $_" }
    & $ssl ($p12 + @('-keypbe', 'NONE', '-certpbe', 'NONE', '-out', (& $f 'pfx-noenc.pfx'))); & $add 'pfx-noenc' 'pfx-noenc.pfx' 'pfx' $true $false 'key'

    Set-Content -LiteralPath (& $f 'pem-chain-key.pem') -Value ($full + (& $pem $pki.LeafKey)) -NoNewline -Encoding Ascii
    & $add 'pem-chain-key' 'pem-chain-key.pem' 'pem' $false $true 'key'
    Set-Content -LiteralPath (& $f 'pem-ec.pem') -Value ((& $pem $ecClient.Cert) + $chain + (& $pem $ecClient.Key)) -NoNewline -Encoding Ascii
    & $add 'pem-ec' 'pem-ec.pem' 'pem' $false $true 'key'
    Set-Content -LiteralPath (& $f 'pem-enc-pk8.pem') -Value ($full + (& $pem (& $f 'leaf.enc.key'))) -NoNewline -Encoding Ascii
    & $add 'pem-enc-pk8' 'pem-enc-pk8.pem' 'pem' $true $true 'key'

    & $ssl @('crl2pkcs7', '-nocrl', '-certfile', $pki.FullChainFile, '-outform', 'DER', '-out', (& $f 'p7b-der.p7b')); & $add 'p7b-der' 'p7b-der.p7b' 'der' $false $false 'cert'
    & $ssl @('crl2pkcs7', '-nocrl', '-certfile', $pki.FullChainFile, '-out', (& $f 'p7b-pem.p7b')); & $add 'p7b-pem' 'p7b-pem.p7b' 'pem' $false $true 'cert'
    & $ssl @('x509', '-in', $pki.LeafCert, '-outform', 'DER', '-out', (& $f 'cert-der.cer')); & $add 'cert-der' 'cert-der.cer' 'der' $false $false 'cert'

    $kt = { param([string[]] $a) Invoke-Tool keytool $a }
    & $kt @('-importkeystore', '-noprompt', '-srckeystore', (& $f 'pfx-3des.pfx'), '-srcstoretype', 'PKCS12', '-srcstorepass', $FuzzPassword,
        '-destkeystore', (& $f 'jks-key.jks'), '-deststoretype', 'JKS', '-deststorepass', $FuzzPassword, '-destkeypass', $FuzzPassword)
    & $add 'jks-key' 'jks-key.jks' 'jks' $true $false 'key'
    foreach ($ca in @($pki.RootCert, $pki.IntermediateCert)) {
        & $kt @('-importcert', '-noprompt', '-alias', [System.IO.Path]::GetFileNameWithoutExtension($ca), '-file', $ca, '-keystore', (& $f 'jks-trust.jks'), '-storetype', 'JKS', '-storepass', $FuzzPassword)
    }
    & $add 'jks-trust' 'jks-trust.jks' 'jks' $true $false 'cert'

    # A service key as the BTP cockpit downloads it (tests/common.ps1), and the same as `cf service-key` prints it.
    Move-Item -LiteralPath (New-TestServiceKey -Name 'fuzz-service-key.json' -Pki $pki) -Destination (& $f 'service-key.json') -Force
    $credentials = (Get-Content -LiteralPath (& $f 'service-key.json') -Raw | ConvertFrom-Json).oauth
    & $add 'service-key' 'service-key.json' 'json' $false $true 'key'
    $cf = "Getting key cert-key for service instance cpi as fuzz@example.com...`n`n" + (@{ credentials = $credentials } | ConvertTo-Json -Depth 5)
    Set-Content -LiteralPath (& $f 'service-key-cf.txt') -Value $cf -Encoding utf8NoBOM
    & $add 'service-key-cf' 'service-key-cf.txt' 'json' $false $true 'any'

    Remove-TestFolder
    $seeds | ConvertTo-Json | Set-Content -LiteralPath $marker -Encoding utf8NoBOM
    @($seeds | ForEach-Object { $_.File = Join-Path $Dir $_.File; $_ })
}

# Mutation weights per kind of seed.
$Operators = @{
    pfx = [ordered]@{ 'bitflip' = 2; 'insert' = 1; 'delete' = 1; 'truncate' = 1; 'overwrite' = 1; 'asn1-length' = 3; 'iteration' = 4; 'integer' = 1; 'empty' = 2
        'bitstring-pad' = 0.5; 'tag' = 1; 'child' = 2; 'oid' = 2; 'nest' = 1; 'content-size' = 1; 'drop-mac' = 0.5 }
    der = [ordered]@{ 'bitflip' = 2; 'insert' = 1; 'delete' = 1; 'truncate' = 1; 'overwrite' = 1; 'asn1-length' = 3; 'integer' = 1; 'empty' = 2
        'bitstring-pad' = 0.5; 'tag' = 1; 'child' = 2; 'oid' = 2; 'nest' = 1; 'content-size' = 1 }
    jks = [ordered]@{ 'bitflip' = 2; 'insert' = 1; 'delete' = 1; 'truncate' = 1; 'overwrite' = 1; 'jks-field' = 3; 'jks-cert' = 4 }
    pem = [ordered]@{ 'pem-der' = 6; 'pem-dup' = 2; 'pem-reorder' = 1; 'pem-drop' = 1; 'pem-label' = 1; 'pem-armour' = 1; 'pem-base64' = 1; 'pem-headers' = 1
        'pem-junk' = 1; 'newlines' = 1; 'pem-flood' = 0.2; 'pem-repeat' = 0.3; 'bitflip' = 1; 'truncate' = 1; 'delete' = 0.5 }
    json = [ordered]@{ 'json-quote' = 1; 'json-brace' = 1; 'json-escape' = 2; 'json-truncate-string' = 2; 'json-field' = 2; 'json-swap' = 0.5; 'json-nest' = 0.5
        'json-wrap' = 1; 'pem-der' = 3; 'pem-dup' = 1; 'pem-reorder' = 1; 'pem-headers' = 0.5; 'pem-base64' = 0.5; 'bitflip' = 1; 'truncate' = 1 }
}

function Invoke-Mutation($SeedInfo, [byte[]] $Bytes) {
    $op = Get-Weighted $Operators[$SeedInfo.Kind]
    $r = $null
    try {
        $r = switch -Wildcard ($op) {
            'pem-*' { Invoke-PemMutation $Bytes $op }
            'newlines' { Invoke-PemMutation $Bytes $op }
            'json-*' { Invoke-JsonMutation $Bytes $op }
            'jks-*' { Invoke-JksMutation $Bytes $op }
            { $_ -in 'bitflip', 'insert', 'delete', 'truncate', 'overwrite' } { Invoke-RawMutation $Bytes $op }
            default { Invoke-DerMutation $Bytes $op }
        }
    }
    catch {
        $script:MutatorErrors++
        Write-Verbose "mutation $op failed: $_ ($($_.ScriptStackTrace))"
        $r = $null
    }
    if ($null -ne $r -and $r.ContainsKey('Text')) { $r = @{ Bytes = (ConvertTo-Utf8 $r.Text); Desc = $r.Desc } }
    if ($null -eq $r) {
        # Not applicable to these bytes (a former mutation broke the structure): flip bits instead.
        $r = Invoke-RawMutation $Bytes 'bitflip'
        $r.Desc = "($op n/a) $($r.Desc)"
    }
    if ($r.Desc.Length -gt 300) { $r.Desc = $r.Desc.Substring(0, 300) + '...' }
    $script:OperatorCounts[$op] = 1 + $(if ($script:OperatorCounts.Contains($op)) { $script:OperatorCounts[$op] } else { 0 })
    $r
}

#endregion

#region Running inputs

# Runs in the fuzzing runspace: the cmdlet calls of one input, each timed.
$InputScript = {
    param([string] $Path, [System.Security.SecureString] $Password, [bool] $Text, [bool] $VerboseDebug)
    $common = @{ ErrorAction = 'SilentlyContinue'; WarningAction = 'SilentlyContinue' }
    if ($VerboseDebug) { $common.Verbose = $true; $common.Debug = $true }
    $import = @{ LiteralPath = $Path }
    if ($Password) { $import.Password = $Password }
    # Process CPU time beside the Stopwatch: this process does nothing else meanwhile, so it tells the module's own
    # cost from waiting for a CPU on a loaded machine.
    $process = [System.Diagnostics.Process]::GetCurrentProcess()
    $ev = $null; $wv = $null; $out = $null; $term = $null
    $cpu = $process.TotalProcessorTime
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    try { $out = @(Import-CertificateBundle @import @common -ErrorVariable ev -WarningVariable wv) } catch { $term = $_ }
    $sw.Stop()
    $process.Refresh()
    [pscustomobject]@{ Cmdlet = 'Import-CertificateBundle'; Output = @($out); Errors = @($ev); Warnings = @($wv); Terminating = $term; Blank = $false; Ms = $sw.Elapsed.TotalMilliseconds
        CpuMs = ($process.TotalProcessorTime - $cpu).TotalMilliseconds }
    if ($Text) {
        $content = [System.IO.File]::ReadAllText($Path)
        $ev = $null; $wv = $null; $out = $null; $term = $null
        $cpu = $process.TotalProcessorTime
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        try { $out = @($content | ConvertFrom-ServiceKey @common -ErrorVariable ev -WarningVariable wv) } catch { $term = $_ }
        $sw.Stop()
        $process.Refresh()
        [pscustomobject]@{ Cmdlet = 'ConvertFrom-ServiceKey'; Output = @($out); Errors = @($ev); Warnings = @($wv); Terminating = $term
            Blank = [string]::IsNullOrWhiteSpace($content); Ms = $sw.Elapsed.TotalMilliseconds
            CpuMs = ($process.TotalProcessorTime - $cpu).TotalMilliseconds }
    }
}

# Sent as text, so that it is parsed in the fuzzing runspace and has no tie to this script's session state.
$InputScriptText = $InputScript.ToString()

function New-FuzzRunspace {
    $rs = [runspacefactory]::CreateRunspace()
    $rs.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $rs
    try {
        $null = $ps.AddScript('param($m) Import-Module $m -ErrorAction Stop; (Get-Command Import-CertificateBundle, ConvertFrom-ServiceKey).Count').AddArgument($ModulePath).Invoke()
        if ($ps.HadErrors) { throw "Import-Module $ModulePath failed: $($ps.Streams.Error -join '; ')" }
    }
    finally { $ps.Dispose() }
    $rs
}

function Get-ExceptionChain([Exception] $Exception) {
    $seen = [System.Collections.Generic.List[Exception]]::new()
    $queue = [System.Collections.Generic.Queue[Exception]]::new()
    if ($Exception) { $queue.Enqueue($Exception) }
    while ($queue.Count -gt 0 -and $seen.Count -lt 50) {
        $e = $queue.Dequeue()
        if ($seen.Contains($e)) { continue }
        $seen.Add($e)
        if ($e -is [AggregateException]) { foreach ($i in $e.InnerExceptions) { $queue.Enqueue($i) } }
        elseif ($e.InnerException) { $queue.Enqueue($e.InnerException) }
        if ($e -is [System.Management.Automation.IContainsErrorRecord] -and $e.ErrorRecord -and $e.ErrorRecord.Exception -and -not [object]::ReferenceEquals($e.ErrorRecord.Exception, $e)) {
            $queue.Enqueue($e.ErrorRecord.Exception)
        }
    }
    , $seen
}

function Get-StackTop([Exception] $Exception, [int] $Frames = 4) {
    if (-not $Exception -or -not $Exception.StackTrace) { return '' }
    (@($Exception.StackTrace -split "`r?`n" | ForEach-Object { $_.Trim() } | Select-Object -First $Frames)) -join ' | '
}

function Get-ShortMessage([string] $Message, [int] $Max = 300) {
    if (-not $Message) { return '' }
    $m = $Message -replace '\s+', ' '
    if ($m.Length -gt $Max) { $m.Substring(0, $Max) + "... ($($Message.Length) characters)" } else { $m }
}

# Failures of one error record: an ID that is not ours or UnexpectedError, crash types in the exception chain.
function Test-ErrorRecord([System.Management.Automation.ErrorRecord] $Record, [string] $Cmdlet, [bool] $Terminating) {
    $fqid = [string]$Record.FullyQualifiedErrorId
    $id = $fqid.Split(',')[0]
    $chain = Get-ExceptionChain $Record.Exception
    $types = ($chain | ForEach-Object { $_.GetType().Name }) -join ' <- '
    $base = @{ Cmdlet = $Cmdlet; ErrorId = $fqid; Exceptions = $types; Message = (Get-ShortMessage $Record.Exception.Message) }
    if ($Terminating) {
        [pscustomobject](@{ Kind = 'Terminating'; StackTop = (Get-StackTop $chain[-1]) } + $base)
    }
    if ($id -eq 'UnexpectedError') {
        [pscustomobject](@{ Kind = 'UnexpectedError'; StackTop = (Get-StackTop $chain[-1]) } + $base)
    }
    elseif (-not $KnownIds.Contains($id)) {
        [pscustomobject](@{ Kind = 'UnknownErrorId'; StackTop = (Get-StackTop $chain[-1]) } + $base)
    }
    foreach ($e in $chain) {
        foreach ($t in $CrashTypes) {
            if ($e -is $t) {
                [pscustomobject](@{ Kind = "CrashType:$($t.Name)"; StackTop = (Get-StackTop $e) } + $base)
                break
            }
        }
    }
}

$script:Runspace = $null
$script:Abandoned = 0

# Runs one input; returns the calls, the failures and the outcome per cmdlet.
function Invoke-FuzzInput([string] $Path, $SeedInfo, [bool] $VerboseDebug) {
    $limitMs = $TimeLimitSec * 1000
    $ps = [powershell]::Create()
    $ps.Runspace = $script:Runspace
    $null = $ps.AddScript($InputScriptText).AddArgument($Path).AddArgument($(if ($SeedInfo.Password) { $SecurePassword } else { $null })).AddArgument([bool]$SeedInfo.Text).AddArgument($VerboseDebug)
    $outer = [System.Diagnostics.Stopwatch]::StartNew()
    $handle = $ps.BeginInvoke()
    $failures = [System.Collections.Generic.List[object]]::new()
    $calls = @()
    if (-not $handle.AsyncWaitHandle.WaitOne([int]($limitMs * 10))) {
        $failures.Add([pscustomobject]@{ Kind = 'Hang'; Cmdlet = ''; ErrorId = ''; Exceptions = ''; Message = "still running after $([int]$outer.Elapsed.TotalSeconds) s; stopped"; StackTop = '' })
        $stop = $ps.BeginStop($null, $null)
        if (-not $stop.AsyncWaitHandle.WaitOne(5000)) {
            # The thread does not stop: leave it and its runspace behind, go on in a new one.
            $script:Abandoned++
            $script:Runspace = New-FuzzRunspace
        }
        else { $ps.Dispose() }
        return @{ Calls = @(); Failures = $failures; Outcomes = @('hang'); Ms = $outer.Elapsed.TotalMilliseconds; CpuMs = 0.0 }
    }
    try { $calls = @($ps.EndInvoke($handle)) }
    catch {
        $failures.Add([pscustomobject]@{ Kind = 'Terminating'; Cmdlet = '(script)'; ErrorId = "$($_.FullyQualifiedErrorId)"; Exceptions = $_.Exception.GetType().Name; Message = (Get-ShortMessage $_.Exception.Message); StackTop = (Get-StackTop $_.Exception) })
    }
    foreach ($e in $ps.Streams.Error) {
        $failures.Add([pscustomobject]@{ Kind = 'HarnessError'; Cmdlet = '(script)'; ErrorId = "$($e.FullyQualifiedErrorId)"; Exceptions = $e.Exception.GetType().Name; Message = (Get-ShortMessage $e.Exception.Message); StackTop = '' })
    }
    $ps.Dispose()
    $outcomes = @()
    $totalMs = 0.0
    $cpuMs = 0.0
    foreach ($c in $calls) {
        $totalMs += $c.Ms
        $cpuMs += $c.CpuMs
        foreach ($r in $c.Errors) { if ($r -is [System.Management.Automation.ErrorRecord]) { foreach ($f in @(Test-ErrorRecord $r $c.Cmdlet $false)) { $failures.Add($f) } } }
        if ($c.Terminating) {
            $already = @($c.Errors | Where-Object { [object]::ReferenceEquals($_, $c.Terminating) -or ($_ -is [System.Management.Automation.ErrorRecord] -and [object]::ReferenceEquals($_.Exception, $c.Terminating.Exception)) }).Count
            foreach ($f in @(Test-ErrorRecord $c.Terminating $c.Cmdlet $true)) { if ($f.Kind -eq 'Terminating' -or -not $already) { $failures.Add($f) } }
        }
        $ids = @($c.Errors | ForEach-Object { "$($_.FullyQualifiedErrorId)".Split(',')[0] } | Select-Object -Unique)
        $outcome = if ($c.Output.Count -gt 0 -and $ids.Count -eq 0) { 'read' }
        elseif ($c.Output.Count -gt 0) { 'read+' + ($ids -join '+') }
        elseif ($ids.Count -gt 0) { $ids -join '+' }
        elseif ($c.Terminating) { 'terminating' }
        elseif ($c.Blank) { 'nothing (blank text)' }
        else { 'nothing' }
        # Blank piped text giving nothing is PowerShell's convention (as '' | ConvertFrom-Json); any other input must
        # give a bundle or an error.
        if ($outcome -eq 'nothing') {
            $failures.Add([pscustomobject]@{ Kind = 'NoOutcome'; Cmdlet = $c.Cmdlet; ErrorId = ''; Exceptions = ''; Message = 'neither output nor error'; StackTop = '' })
        }
        $c | Add-Member -NotePropertyName Outcome -NotePropertyValue $outcome -Force
        $outcomes += $outcome
    }
    @{ Calls = $calls; Failures = $failures; Outcomes = $outcomes; Ms = $totalMs; CpuMs = $cpuMs }
}

# Runs one input and judges its time. Over the limit counts only in CPU time of this process, which does nothing else
# meanwhile: a loaded machine stretches the wall-clock time, not the work. An input over the limit in CPU time runs
# again alone, twice more, and is Slow only when it is over every time; over in wall-clock time only, it is counted
# (WallOnlyOverLimit), not failed. A hang (10 times the limit in wall-clock time) fails at once.
function Invoke-TimedFuzzInput([string] $Path, $SeedInfo, [bool] $VerboseDebug) {
    $limitMs = $TimeLimitSec * 1000
    $run = Invoke-FuzzInput $Path $SeedInfo $VerboseDebug
    if ($run.Ms -lt $limitMs -or @($run.Calls).Count -eq 0) { return $run }
    $attempts = [System.Collections.Generic.List[string]]::new()
    $attempts.Add(('{0:N0} ms, CPU {1:N0} ms' -f $run.Ms, $run.CpuMs))
    $slowEveryTime = $run.CpuMs -ge $limitMs
    for ($a = 0; $a -lt 2 -and $slowEveryTime; $a++) {
        $script:Retries++
        $again = Invoke-FuzzInput $Path $SeedInfo $VerboseDebug
        $attempts.Add(('{0:N0} ms, CPU {1:N0} ms' -f $again.Ms, $again.CpuMs))
        $slowEveryTime = $again.CpuMs -ge $limitMs -and @($again.Calls).Count -gt 0
    }
    if ($slowEveryTime) {
        $per = ($run.Calls | ForEach-Object { '{0} {1:N0} ms, CPU {2:N0} ms ({3})' -f $_.Cmdlet, $_.Ms, $_.CpuMs, $_.Outcome }) -join '; '
        $run.Failures.Add([pscustomobject]@{ Kind = 'Slow'; Cmdlet = ''; ErrorId = ''; Exceptions = ''
                Message = ('CPU time >= {0:N0} ms in each of {1} runs ({2}); first run: {3}' -f $limitMs, $attempts.Count, ($attempts -join ' / '), $per); StackTop = '' })
    }
    else { $script:WallOnlyOver++ }
    $run
}

#endregion

#region Main

$commit = try { (& git -C $repo rev-parse --short HEAD 2>$null) } catch { '' }
# The main commit the module's code comes from: where this branch last took main in.
$mainCommit = try { (& git -C $repo merge-base HEAD main 2>$null) } catch { '' }
if ($mainCommit) { $mainCommit = "$mainCommit".Substring(0, [Math]::Min(7, "$mainCommit".Length)) }
$dirty = try { [bool](& git -C $repo status --porcelain --untracked-files=no 2>$null) } catch { $false }
$started = Get-Date
$ownSeedFolder = -not $SeedFolder
$work = Join-Path ([System.IO.Path]::GetTempPath()) ('certintegration-fuzz-' + [guid]::NewGuid().ToString('N').Substring(0, 10))
$null = New-Item -ItemType Directory -Path $work
if (-not $SeedFolder) { $SeedFolder = Join-Path $work 'seeds' }
if (-not $KeepFailures) { $KeepFailures = Join-Path $repo "TestResults/fuzz-failures-seed$Seed" }

$script:MutatorErrors = 0
$script:Retries = 0
$script:WallOnlyOver = 0
$script:OperatorCounts = [ordered]@{}
$results = [System.Collections.Generic.List[object]]::new()
$counts = @{}        # "format`tcmdlet`toutcome" -> n
$idCounts = @{}      # error ID -> n
$timeByFormat = @{}  # format -> list of ms
$longestMessage = 0
$longestMessageInput = ''
$failureList = [System.Collections.Generic.List[object]]::new()
$SeedChecks = [System.Collections.Generic.List[object]]::new()
$Slowest = [System.Collections.Generic.List[object]]::new()
$Mixed = [System.Collections.Generic.List[object]]::new()

function Add-Result([int] $Index, [string] $Format, [string] $Description, [bool] $VerboseDebug, $Run, [byte[]] $Bytes, [string] $Extension) {
    if ($Index -lt 0) {
        # A seed check: reported on its own, not counted with the fuzzed inputs.
        $script:SeedChecks.Add([pscustomobject]@{ Format = $Format; Outcomes = @($Run.Calls | ForEach-Object { "$($_.Cmdlet): $($_.Outcome)" }); Ms = [Math]::Round($Run.Ms, 1) })
    }
    foreach ($c in $(if ($Index -ge 0) { $Run.Calls })) {
        $key = "$Format`t$($c.Cmdlet)`t$($c.Outcome)"
        $counts[$key] = 1 + $(if ($counts.ContainsKey($key)) { $counts[$key] } else { 0 })
        foreach ($e in $c.Errors) {
            $id = "$($e.FullyQualifiedErrorId)".Split(',')[0]
            $idCounts[$id] = 1 + $(if ($idCounts.ContainsKey($id)) { $idCounts[$id] } else { 0 })
            if ($e.Exception -and $e.Exception.Message.Length -gt $script:longestMessage) {
                $script:longestMessage = $e.Exception.Message.Length
                $script:longestMessageInput = "$Format #$Index ($Description): $id"
            }
        }
    }
    if ($Index -ge 0 -and @($Run.Calls).Count -eq 0) {
        $key = "$Format`t-`thang"
        $counts[$key] = 1 + $(if ($counts.ContainsKey($key)) { $counts[$key] } else { 0 })
    }
    if ($Index -ge 0) {
        $script:Slowest.Add([pscustomobject]@{ Ms = [Math]::Round($Run.Ms, 1); CpuMs = [Math]::Round($Run.CpuMs, 1); Input = "$Format #$Index"; Mutation = $Description; Outcomes = @($Run.Calls | ForEach-Object { "$($_.Cmdlet): $($_.Outcome)" }) -join '; ' })
        if ($script:Slowest.Count -gt 20) { $script:Slowest = [System.Collections.Generic.List[object]]::new([object[]]@($script:Slowest | Sort-Object Ms -Descending | Select-Object -First 5)) }
        if (-not $timeByFormat.ContainsKey($Format)) { $timeByFormat[$Format] = [System.Collections.Generic.List[double]]::new() }
        $timeByFormat[$Format].Add($Run.Ms)
    }
    $entry = [pscustomobject]@{
        Index = $Index; Format = $Format; Mutation = $Description; VerboseDebug = $VerboseDebug; Ms = [Math]::Round($Run.Ms, 1); CpuMs = [Math]::Round($Run.CpuMs, 1)
        Outcomes = @($Run.Calls | ForEach-Object { "$($_.Cmdlet): $($_.Outcome)" }); Failures = @($Run.Failures); SavedAs = $null
    }
    if ($Index -ge 0 -and $script:Mixed.Count -lt 20 -and @($Run.Calls | Where-Object { $_.Outcome -like 'read+*' }).Count) {
        # Bundles and errors from one input: allowed (a file with two service keys), but worth a look.
        $script:Mixed.Add([pscustomobject]@{ Input = "$Format #$Index"; Mutation = $Description; Outcomes = $entry.Outcomes -join '; ' })
    }
    if ($Run.Failures.Count -gt 0) {
        if ($KeepFailures -and $null -ne $Bytes) {
            $kinds = (@($Run.Failures | ForEach-Object { ($_.Kind -split ':')[-1] } | Select-Object -Unique)) -join '+'
            $name = '{0}-{1:D5}-{2}-{3}{4}' -f $Seed, $Index, $Format, $kinds, $Extension
            $null = New-Item -ItemType Directory -Path $KeepFailures -Force
            $saved = Join-Path $KeepFailures $name
            [System.IO.File]::WriteAllBytes($saved, $Bytes)
            $about = @("input: $Format #$Index (seed $Seed) $(if ($VerboseDebug) { 'with -Verbose -Debug' })", "mutation: $Description", "outcomes: $($entry.Outcomes -join '; ')",
                "replay: pwsh build/fuzz.ps1 -Replay '$saved'") +
            @($Run.Failures | ForEach-Object { "failure: $($_.Kind) $($_.Cmdlet) $($_.ErrorId) [$($_.Exceptions)] $($_.Message) @ $($_.StackTop)" })
            Set-Content -LiteralPath "$saved.txt" -Value $about -Encoding utf8NoBOM
            $entry.SavedAs = $saved
        }
        $failureList.Add($entry)
    }
}

$runStart = $null
$fuzzCount = 0
$mutateWatch = [System.Diagnostics.Stopwatch]::new()
try {
    $script:Runspace = New-FuzzRunspace
    $inputs = [System.Collections.Generic.List[object]]::new()

    if ($Replay) {
        # From bash, "pwsh -File fuzz.ps1 -Replay a,b" passes one string "a,b".
        foreach ($r in @($Replay | ForEach-Object { $_ -split ',' } | Where-Object { $_ })) {
            $items = if (Test-Path -LiteralPath $r -PathType Container) { Get-ChildItem -LiteralPath $r -File | Where-Object { $_.Name -notmatch '\.(md|txt)$' -or $_.Name -match '\.(pem|json)\.txt$' } | Sort-Object Name } else { Get-Item -LiteralPath $r }
            foreach ($it in $items) {
                $bytes = [System.IO.File]::ReadAllBytes($it.FullName)
                $head = Get-Slice $bytes 0 ([Math]::Min(4096, $bytes.Length))
                $isText = $head.Length -gt 0 -and -not ($head -contains [byte]0) -and (@($head | Where-Object { $_ -lt 9 -or ($_ -gt 13 -and $_ -lt 32) }).Count -eq 0)
                $text = if ($isText) { ConvertTo-Text $bytes } else { '' }
                $needsPassword = $it.Extension -in '.pfx', '.p12', '.jks', '.keystore' -or $text -match 'ENCRYPTED'
                $info = [pscustomobject]@{ Name = $it.Name; File = $it.FullName; Kind = 'replay'; Password = $needsPassword; Text = $isText; Expect = 'any' }
                $inputs.Add(@{ Info = $info; VerboseDebug = $false })
                $inputs.Add(@{ Info = $info; VerboseDebug = $true })
            }
        }
        Write-Host "[fuzz] replaying $($inputs.Count / 2) files (each plainly and with -Verbose -Debug)"
        # One unrecorded call first, so that loading the cmdlets is not counted against the first file.
        $warm = Join-Path $work 'warm-up.txt'
        Set-Content -LiteralPath $warm -Value 'warm-up' -Encoding Ascii
        $null = Invoke-FuzzInput $warm ([pscustomobject]@{ Password = $false; Text = $true }) $false
        $runStart = [System.Diagnostics.Stopwatch]::StartNew()
        $i = 0
        foreach ($in in $inputs) {
            $run = Invoke-TimedFuzzInput $in.Info.File $in.Info $in.VerboseDebug
            Add-Result $i $in.Info.Name $(if ($in.VerboseDebug) { 'replay with -Verbose -Debug' } else { 'replay' }) $in.VerboseDebug $run $null ''
            $i++
        }
        $fuzzCount = $inputs.Count
    }
    else {
        $seedWatch = [System.Diagnostics.Stopwatch]::StartNew()
        $seeds = @(New-FuzzSeeds $SeedFolder)
        foreach ($s in $seeds) { $s | Add-Member -NotePropertyName Bytes -NotePropertyValue ([System.IO.File]::ReadAllBytes($s.File)) -Force }
        Write-Host ("[fuzz] {0} seeds in {1:N1} s: {2}" -f $seeds.Count, $seedWatch.Elapsed.TotalSeconds, (($seeds | ForEach-Object Name) -join ', '))
        $script:RemacOk = $true
        foreach ($s in $seeds | Where-Object Kind -eq 'pfx') {
            $again = Update-Pkcs12Mac $s.Bytes
            if ($null -eq $again -or [Convert]::ToBase64String($again) -ne [Convert]::ToBase64String($s.Bytes)) {
                Write-Warning "Recomputing the MAC of $($s.Name) does not give the MAC openssl wrote: PKCS#12 inputs are not re-MACed."
                $script:RemacOk = $false
            }
        }
        foreach ($s in $seeds | Where-Object Kind -eq 'jks') {
            if ([Convert]::ToBase64String((Update-JksDigest $s.Bytes)) -ne [Convert]::ToBase64String($s.Bytes)) {
                Write-Warning "Recomputing the digest of $($s.Name) does not give keytool's: JKS inputs are not re-digested."
                $script:RemacOk = $false
            }
        }

        # The seeds as made (this also loads every code path once before the clock matters).
        foreach ($s in $seeds) {
            $run = Invoke-FuzzInput $s.File $s $false
            $run = Invoke-FuzzInput $s.File $s $false
            foreach ($c in $run.Calls) {
                $want = if ($c.Cmdlet -eq 'ConvertFrom-ServiceKey' -and $s.Kind -ne 'json') { 'any' } else { $s.Expect }
                $ok = switch ($want) {
                    'key' { $c.Outcome -eq 'read' -and @($c.Output | Where-Object { $_.HasPrivateKey }).Count -ge 1 }
                    'cert' { $c.Outcome -eq 'read' }
                    default { $true }
                }
                if (-not $ok) {
                    $run.Failures.Add([pscustomobject]@{ Kind = 'SeedNotRead'; Cmdlet = $c.Cmdlet; ErrorId = ''; Exceptions = ''; Message = "the unmutated seed gave $($c.Outcome), expected $want"; StackTop = '' })
                }
            }
            Add-Result -1 $s.Name 'seed (unmutated)' $false $run $s.Bytes ([System.IO.Path]::GetExtension($s.File))
        }

        $current = Join-Path $work 'current.txt'
        $runStart = [System.Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt $Count; $i++) {
            $s = $seeds[$i % $seeds.Count]
            $bytes = $s.Bytes
            $k = Get-Weighted ([ordered]@{ '1' = 6; '2' = 2.5; '3' = 1.5 })
            $descs = [System.Collections.Generic.List[string]]::new()
            $mutateWatch.Start()
            for ($j = 0; $j -lt [int]$k; $j++) {
                $m = Invoke-Mutation $s $bytes
                $bytes = $m.Bytes
                $descs.Add($m.Desc)
            }
            if ($script:RemacOk -and $s.Kind -eq 'pfx' -and (Test-Chance 0.5)) {
                $again = Update-Pkcs12Mac $bytes
                if ($null -ne $again) { $bytes = $again; $descs.Add('MAC recomputed') }
            }
            if ($script:RemacOk -and $s.Kind -eq 'jks' -and (Test-Chance 0.6)) {
                $again = Update-JksDigest $bytes
                if ($null -ne $again) { $bytes = $again; $descs.Add('JKS digest recomputed') }
            }
            $vd = Test-Chance 0.1
            $mutateWatch.Stop()
            $ext = [System.IO.Path]::GetExtension($s.File)
            $file = Join-Path $work ("input-$i$ext")
            [System.IO.File]::WriteAllBytes($file, $bytes)
            $desc = $descs -join '; then '
            Set-Content -LiteralPath $current -Value "seed $Seed input $i ($($s.Name)$(if ($vd) { ', -Verbose -Debug' })): $desc`n$file"
            $run = Invoke-TimedFuzzInput $file $s $vd
            Add-Result $i $s.Name $desc $vd $run $bytes $ext
            Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
            if ((($i + 1) % 250) -eq 0) {
                Write-Host ('[fuzz] {0}/{1} inputs, {2} failing, {3:N1} inputs/s' -f ($i + 1), $Count, @($failureList | Where-Object Index -ge 0).Count, (($i + 1) / $runStart.Elapsed.TotalSeconds))
            }
            if ($script:Abandoned -ge 5) {
                Write-Warning 'Five inputs hung and would not stop; the run ends here.'
                $i++
                break
            }
        }
        $fuzzCount = $i
    }
}
finally {
    if ($script:Runspace -and $script:Abandoned -eq 0) { $script:Runspace.Dispose() }
}

$elapsed = if ($runStart) { $runStart.Elapsed.TotalSeconds } else { 0 }
$rate = if ($elapsed -gt 0) { $fuzzCount / $elapsed } else { 0 }

# Summary.
$formats = @($counts.Keys | ForEach-Object { ($_ -split "`t")[0] } | Select-Object -Unique | Sort-Object)
$countRows = @($counts.Keys | Sort-Object | ForEach-Object {
        $p = $_ -split "`t"
        [pscustomobject]@{ Format = $p[0]; Cmdlet = $p[1]; Outcome = $p[2]; Count = $counts[$_] }
    })
$timeRows = @($formats | ForEach-Object {
        $t = @($timeByFormat[$_] | Sort-Object)
        [pscustomobject]@{ Format = $_; Inputs = $t.Count; MedianMs = [Math]::Round($t[[int][Math]::Floor(($t.Count - 1) / 2)], 1); MaxMs = [Math]::Round($t[-1], 1) }
    })
$summary = [ordered]@{
    Seed = $Seed; Count = $fuzzCount; Replay = [bool]$Replay; TimeLimitSec = $TimeLimitSec
    Commit = "$commit$(if ($dirty) { '+changes' })"; MainCommit = "$mainCommit"; Started = $started.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    Machine = "$([Environment]::ProcessorCount) cores, $([System.Runtime.InteropServices.RuntimeInformation]::OSDescription), pwsh $($PSVersionTable.PSVersion)"
    FuzzSeconds = [Math]::Round($elapsed, 1); MutateSeconds = [Math]::Round($mutateWatch.Elapsed.TotalSeconds, 1); InputsPerSecond = [Math]::Round($rate, 1)
    FailureCount = $failureList.Count
    FailureKinds = [ordered]@{}
    SeedChecks = @($SeedChecks)
    Counts = $countRows
    ErrorIds = [ordered]@{}
    Times = $timeRows
    SlowestInputs = @($Slowest | Sort-Object Ms -Descending | Select-Object -First 5)
    MixedOutcomes = @($Mixed)
    Mutations = $script:OperatorCounts
    MutatorErrors = $script:MutatorErrors
    TimeRetries = $script:Retries
    WallOnlyOverLimit = $script:WallOnlyOver
    LongestErrorMessage = $longestMessage
    LongestErrorMessageInput = $longestMessageInput
    AbandonedRunspaces = $script:Abandoned
    Failures = @($failureList)
}
foreach ($id in ($idCounts.Keys | Sort-Object)) { $summary.ErrorIds[$id] = $idCounts[$id] }
foreach ($f in $failureList) { foreach ($k in @($f.Failures | ForEach-Object Kind | Select-Object -Unique)) { $summary.FailureKinds[$k] = 1 + $(if ($summary.FailureKinds.Contains($k)) { $summary.FailureKinds[$k] } else { 0 }) } }

$md = [System.Collections.Generic.List[string]]::new()
$md.Add("# Mutation fuzzing: $(if ($Replay) { "replay of $($fuzzCount / 2) files" } else { "seed $Seed, $fuzzCount inputs" })")
$md.Add('')
$md.Add("Commit $($summary.Commit)$(if ($mainCommit) { " (main $mainCommit)" }), $($summary.Started), $($summary.Machine). $($summary.FuzzSeconds) s ($($summary.MutateSeconds) s of it making the inputs), $($summary.InputsPerSecond) inputs/s; time limit $TimeLimitSec s of CPU time per input ($($script:WallOnlyOver) over it in wall-clock time only, $($script:Retries) reruns of inputs over it in CPU time).")
$md.Add('')
if ($SeedChecks.Count) {
    $md.Add('Seeds as made: ' + ((@($SeedChecks | ForEach-Object { "$($_.Format) ($($_.Outcomes -join ', '))" })) -join '; '))
    $md.Add('')
}
$md.Add('| format | cmdlet | outcome | inputs |')
$md.Add('|---|---|---|---:|')
foreach ($r in $countRows) { $md.Add("| $($r.Format) | $($r.Cmdlet) | $($r.Outcome) | $($r.Count) |") }
$md.Add('')
$md.Add('Distinct error IDs: ' + ((@($summary.ErrorIds.Keys | ForEach-Object { "$_ ($($summary.ErrorIds[$_]))" })) -join ', '))
$md.Add('')
$md.Add('| format | inputs | median ms | max ms |')
$md.Add('|---|---:|---:|---:|')
foreach ($r in $timeRows) { $md.Add("| $($r.Format) | $($r.Inputs) | $($r.MedianMs) | $($r.MaxMs) |") }
$md.Add('')
$md.Add('Slowest inputs:')
foreach ($x in $summary.SlowestInputs) { $md.Add("- $($x.Ms) ms (CPU $($x.CpuMs) ms): $($x.Input): $($x.Mutation) ($($x.Outcomes))") }
$md.Add('')
if ($Mixed.Count) {
    $md.Add('Inputs that gave bundles and errors:')
    foreach ($x in $Mixed) { $md.Add("- $($x.Input): $($x.Mutation) ($($x.Outcomes))") }
    $md.Add('')
}
if (-not $Replay) {
    $md.Add('Mutations: ' + ((@($script:OperatorCounts.Keys | ForEach-Object { "$_ $($script:OperatorCounts[$_])" })) -join ', ') + "; mutator errors: $($script:MutatorErrors). Longest error message: $longestMessage characters ($longestMessageInput).")
    $md.Add('')
}
$md.Add("Failing inputs: $($failureList.Count)" + $(if ($failureList.Count) { ' (' + ((@($summary.FailureKinds.Keys | ForEach-Object { "$_ $($summary.FailureKinds[$_])" })) -join ', ') + ')' }))
foreach ($f in $failureList) {
    $md.Add('')
    $md.Add("- $($f.Format) #$($f.Index)$(if ($f.VerboseDebug) { ' (-Verbose -Debug)' }): $($f.Mutation)")
    $md.Add("  outcome: $($f.Outcomes -join '; '), $($f.Ms) ms (CPU $($f.CpuMs) ms)$(if ($f.SavedAs) { "; saved as $($f.SavedAs)" })")
    foreach ($x in $f.Failures) { $md.Add("  - $($x.Kind) $($x.Cmdlet) $($x.ErrorId) [$($x.Exceptions)] $($x.Message)$(if ($x.StackTop) { " at $($x.StackTop)" })") }
}
$md -join "`n" | Write-Output

if ($OutFile) {
    $dir = Split-Path -Parent ([System.IO.Path]::GetFullPath($OutFile))
    if ($dir) { $null = New-Item -ItemType Directory -Path $dir -Force }
    if ($OutFile -like '*.md') { Set-Content -LiteralPath $OutFile -Value ($md -join "`n") -Encoding utf8NoBOM }
    else { $summary | ConvertTo-Json -Depth 6 | Set-Content -LiteralPath $OutFile -Encoding utf8NoBOM }
}

if ($script:Abandoned -eq 0) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
elseif ($ownSeedFolder) { Write-Warning "Hung inputs still run; $work is left behind." }
if ($failureList.Count -gt 0) { exit 1 }
exit 0

#endregion
