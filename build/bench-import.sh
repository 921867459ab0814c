#!/usr/bin/env bash
# Benchmark: what Import-Module CertIntegration adds to the start of a fresh pwsh (median of N runs of
# `pwsh -NoProfile -NonInteractive -Command 'Import-Module <manifest>'` against the same pwsh running '$null'),
# and whether the import loads BouncyCastle (it should not: BouncyCastle is loaded on first use).
# Uses hyperfine when installed, else (or with CI_BENCH_LOOP=1) a plain loop that alternates the two commands, which
# suits a busy machine better. Prints median and minimum; the load average says how much to trust them.
# Not part of the test run.
#   build/bench-import.sh                      # build, then 15 runs each
#   CI_BENCH_RUNS=41 CI_BENCH_LOOP=1 build/bench-import.sh
#   CI_BENCH_NO_BUILD=1 build/bench-import.sh  # the module as it is in out/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${CI_BENCH_RUNS:-15}"
eval "$("$root/build/tools.sh" --print)"
pwsh="$CERTINTEGRATION_PWSH"
manifest="$root/out/CertIntegration/CertIntegration.psd1"

if [ -z "${CI_BENCH_NO_BUILD:-}" ]; then
  "$root/build/build.sh" >/dev/null
fi
[ -f "$manifest" ] || { echo "The module is not built at $manifest" >&2; exit 1; }

quoted="'${manifest//\'/\'\'}'"
alone='$null'
import="Import-Module $quoted"

# One import first: it must succeed (a failing import would be a fast one), and it says what the import loaded.
"$pwsh" -NoProfile -NonInteractive -Command "
  \$ErrorActionPreference = 'Stop'
  Import-Module $quoted
  \$ours = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { \$_.GetName().Name -like 'CertIntegration*' -or \$_.GetName().Name -eq 'BouncyCastle.Cryptography' }
  'pwsh {0}; loaded by Import-Module: {1}' -f \$PSVersionTable.PSVersion, ((\$ours | ForEach-Object {
    '{0} ({1})' -f \$_.GetName().Name, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(\$_).Name } | Sort-Object) -join ', ')
  'BouncyCastle.Cryptography loaded after Import-Module: {0}' -f \$(if (\$ours | Where-Object { \$_.GetName().Name -eq 'BouncyCastle.Cryptography' }) { 'yes' } else { 'no' })
"

stats() { # milliseconds, one number a line on stdin -> "median minimum"
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f\n", m, v[1] }'
}

if [ -z "${CI_BENCH_LOOP:-}" ] && command -v hyperfine >/dev/null 2>&1; then
  json="$(mktemp)" err="$(mktemp)"
  trap 'rm -f "$json" "$err"' EXIT
  hyperfine --shell=none --warmup 2 --runs "$runs" --style none --export-json "$json" \
    --command-name 'pwsh alone' "$pwsh -NoProfile -NonInteractive -Command $alone" \
    --command-name 'pwsh + Import-Module' "$pwsh -NoProfile -NonInteractive -Command \"$import\"" >/dev/null 2>"$err" \
    || { cat "$err" >&2; exit 1; }
  grep -q outliers "$err" && echo "hyperfine saw statistical outliers: the machine is busy"
  # hyperfine reports seconds; the two results come in the order of the commands.
  seconds() { grep -o "\"$1\": *[0-9.eE+-]*" "$json" | awk -F: '{ printf "%.1f\n", $2 * 1000 }'; }
  mapfile -t medians < <(seconds median)
  mapfile -t mins < <(seconds min)
  how="hyperfine $(hyperfine --version | awk '{ print $2 }'), $runs runs each after 2 warm-up runs"
else
  a=() b=()
  for _ in 1 2; do "$pwsh" -NoProfile -NonInteractive -Command "$alone" >/dev/null; "$pwsh" -NoProfile -NonInteractive -Command "$import" >/dev/null; done
  for _ in $(seq 1 "$runs"); do # alternate the two, so drift in the machine's load hits both alike
    t0=$(date +%s%N); "$pwsh" -NoProfile -NonInteractive -Command "$alone" >/dev/null
    t1=$(date +%s%N); "$pwsh" -NoProfile -NonInteractive -Command "$import" >/dev/null
    t2=$(date +%s%N)
    a+=("$(( (t1 - t0) / 1000 ))") b+=("$(( (t2 - t1) / 1000 ))")
  done
  read -r ma na < <(printf '%s\n' "${a[@]}" | awk '{ print $1 / 1000 }' | stats)
  read -r mb nb < <(printf '%s\n' "${b[@]}" | awk '{ print $1 / 1000 }' | stats)
  medians=("$ma" "$mb") mins=("$na" "$nb")
  how="plain loop (no hyperfine), $runs runs each after 2 warm-up runs"
fi

diff() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
echo "$how; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') on $(nproc 2>/dev/null || echo '?') CPUs"
printf '%-22s %9s %9s\n' '' 'median' 'min'
printf '%-22s %6.1f ms %6.1f ms\n' 'pwsh alone' "${medians[0]}" "${mins[0]}"
printf '%-22s %6.1f ms %6.1f ms\n' 'pwsh + Import-Module' "${medians[1]}" "${mins[1]}"
printf '%-22s %6.1f ms %6.1f ms\n' 'Import-Module adds' "$(diff "${medians[0]}" "${medians[1]}")" "$(diff "${mins[0]}" "${mins[1]}")"
