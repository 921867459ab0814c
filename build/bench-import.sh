#!/usr/bin/env bash
# Benchmark: what Import-Module CertIntegration adds to the start of a fresh pwsh
# (`pwsh -NoProfile -NonInteractive -Command 'Import-Module <manifest>'` against the same pwsh running '$null'), what
# the import loads (BouncyCastle and Newtonsoft.Json must not be among it), and, as the floor any module pays, the
# same for the smallest binary module (one cmdlet, build/bench-import/Floor.csproj) without and with CertIntegration's
# format file. Not part of the test run.
#
# Every command runs in turn in each round, so drift in the machine's load hits them alike; the figures are the
# median and the minimum of wall-clock time and of CPU time (user + system, from bash's `time`), and the load
# average says how much to trust them. Wall-clock is what a user waits for; CPU time suffers less from other
# processes on a busy machine. Also counted, independent of load: the methods the JIT compiles in each command
# (DOTNET_JitStdOutFile with DOTNET_JitDisasmSummary; "n/a" where the runtime does not write them), which is where
# a fresh pwsh's time goes when System.Management.Automation is not precompiled (the dotnet global tool's is not).
#   build/bench-import.sh                       # build, then 31 rounds
#   CI_BENCH_RUNS=61 build/bench-import.sh
#   CI_BENCH_NO_BUILD=1 build/bench-import.sh   # the module as it is in out/ (the floor module is still built)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${CI_BENCH_RUNS:-31}"
eval "$("$root/build/tools.sh" --print)"
pwsh="$CERTINTEGRATION_PWSH"
manifest="$root/out/CertIntegration/CertIntegration.psd1"

if [ -z "${CI_BENCH_NO_BUILD:-}" ]; then
  "$root/build/build.sh" >/dev/null
fi
[ -f "$manifest" ] || { echo "The module is not built at $manifest" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The floor: the one-cmdlet module, once as it is and once with CertIntegration's format file.
dotnet build "$root/build/bench-import/Floor.csproj" -c Release -nologo -v quiet -o "$work/floor-bin" \
  "-p:BaseIntermediateOutputPath=$work/floor-obj/" >/dev/null
for v in floor floor-format; do
  mkdir -p "$work/$v/ImportFloor"
  cp "$work/floor-bin/ImportFloor.dll" "$work/$v/ImportFloor/"
done
cp "$root/out/CertIntegration/CertIntegration.Format.ps1xml" "$work/floor-format/ImportFloor/"
floor_manifest() { # $1: extra manifest lines
  printf "@{\n    ModuleVersion = '1.0.0'\n    GUID = '3c1f3d2e-8a57-4a55-9a0e-6d4d3c0b2f11'\n    RootModule = 'ImportFloor.dll'\n%s    CmdletsToExport = @('Get-ImportFloor')\n    FunctionsToExport = @()\n    VariablesToExport = @()\n    AliasesToExport = @()\n}\n" "$1"
}
floor_manifest '' >"$work/floor/ImportFloor/ImportFloor.psd1"
floor_manifest "    FormatsToProcess = @('CertIntegration.Format.ps1xml')
" >"$work/floor-format/ImportFloor/ImportFloor.psd1"

quote() { local s="${1//\'/\'\'}"; printf "'%s'" "$s"; }
names=('pwsh alone' 'floor module' 'floor + format file' 'CertIntegration')
commands=('$null'
  "Import-Module $(quote "$work/floor/ImportFloor/ImportFloor.psd1")"
  "Import-Module $(quote "$work/floor-format/ImportFloor/ImportFloor.psd1")"
  "Import-Module $(quote "$manifest")")

# One import first: it must succeed (a failing import would be a fast one), and it says what the import loaded.
"$pwsh" -NoProfile -NonInteractive -Command "
  \$ErrorActionPreference = 'Stop'
  \$before = @([AppDomain]::CurrentDomain.GetAssemblies())
  Import-Module $(quote "$manifest")
  \$after = [AppDomain]::CurrentDomain.GetAssemblies()
  \$base = Split-Path -Parent $(quote "$manifest")
  \$new = @(\$after | Where-Object { \$before -notcontains \$_ })
  'pwsh {0} on .NET {1}; loaded by Import-Module: {2}' -f \$PSVersionTable.PSVersion, [Environment]::Version, ((\$new | ForEach-Object {
    '{0} ({1})' -f \$_.GetName().Name, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(\$_).Name } | Sort-Object) -join ', ')
  foreach (\$dependency in 'BouncyCastle.Cryptography', 'Newtonsoft.Json') {
    \$ours = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { \$_.GetName().Name -eq \$dependency -and \$_.Location.StartsWith(\$base) })
    '{0} of the module loaded after Import-Module: {1}' -f \$dependency, \$(if (\$ours) { 'yes' } else { 'no' })
  }
"

# Methods JIT-compiled by each command's process (first compilations, not the background re-compilations at tier 1),
# three runs each: the
# lowest count, as the first runs with a new module path may add a module-analysis pass.
jit_count() {
  local best='' i n f="$work/jit.txt"
  for i in 1 2 3; do
    rm -f "$f"
    DOTNET_JitStdOutFile="$f" DOTNET_JitDisasmSummary=1 "$pwsh" -NoProfile -NonInteractive -Command "$1" >/dev/null 2>&1 || true
    [ -s "$f" ] || { echo 'n/a'; return; }
    n=$(grep 'JIT compiled' "$f" | grep -cv 'Tier1\|OSR' || true)   # first compilations; the background tier-1 ones vary
    if [ -z "$best" ] || [ "$n" -lt "$best" ]; then best=$n; fi
  done
  echo "$best"
}
jits=()
for c in "${commands[@]}"; do jits+=("$(jit_count "$c")"); done

# Two warm-up rounds, then the measured rounds; bash's `time` gives wall-clock, user and system seconds.
for _ in 1 2; do for c in "${commands[@]}"; do "$pwsh" -NoProfile -NonInteractive -Command "$c" >/dev/null; done; done
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
TIMEFORMAT='%R %U %S'
for _ in $(seq 1 "$runs"); do
  for i in "${!commands[@]}"; do
    { time "$pwsh" -NoProfile -NonInteractive -Command "${commands[$i]}" >/dev/null 2>&1; } 2>>"$work/times.$i"
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

stats() { # "wall-median wall-min cpu-median cpu-min" in ms from "real user sys" lines
  awk '{ print $1 * 1000, ($2 + $3) * 1000 }' "$1" | sort -n -k1,1 | awk '{ w[NR] = $1; c[NR] = $2 } END {
    n = NR; m = (n % 2) ? w[(n + 1) / 2] : (w[n / 2] + w[n / 2 + 1]) / 2
    # CPU sorted on its own
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
    cm = (n % 2) ? c[(n + 1) / 2] : (c[n / 2] + c[n / 2 + 1]) / 2
    printf "%.0f %.0f %.0f %.0f\n", m, w[1], cm, c[1] }'
}
echo "$runs alternating rounds after 2 warm-up rounds; load average $load_before before, $load_after after, on $(nproc 2>/dev/null || echo '?') CPUs"
printf '%-22s %10s %10s %10s %10s %10s %12s\n' '' 'wall med' 'wall min' 'CPU med' 'CPU min' 'JIT methods' 'added wall/CPU med'
read -r bw bwm bc bcm < <(stats "$work/times.0")
for i in "${!commands[@]}"; do
  read -r w wm c cm < <(stats "$work/times.$i")
  added=''
  [ "$i" -gt 0 ] && added="+$((w - bw)) / +$((c - bc)) ms"
  printf '%-22s %7s ms %7s ms %7s ms %7s ms %11s %s\n' "${names[$i]}" "$w" "$wm" "$c" "$cm" "${jits[$i]}" "$added"
done
echo "Import-Module CertIntegration adds (medians): $((${w} - bw)) ms wall-clock, $((${c} - bc)) ms CPU; (minimums): $((wm - bwm)) ms wall-clock, $((cm - bcm)) ms CPU"
