#!/usr/bin/env bash
# Benchmark (not a test): N service keys -> N PFX files.
#   ours:     Get-ChildItem *.json | ConvertFrom-ServiceKey | New-PfxFromPem -Destination ... in one pwsh, with the
#             default -Encryption TripleDesSha1 and with Aes256Sha256 (the profile openssl pkcs12 -export writes)
#   baseline: the loop a user writes: jq pulls the PEM out of each JSON, then openssl pkcs12 -export
#   floor:    only the key derivations those PFX files need (build/bench: kdf-floor), on every core
# Rounds alternate ours / baseline / floor, so machine load hits them alike; medians are printed with the load average.
#   build/bench-keys.sh                                 # N = 100, 1000, 5000; 3 rounds each
#   CI_BENCH_SIZES="100 1000" CI_BENCH_ROUNDS=5 build/bench-keys.sh
#   CI_BENCH_LOOP_MAX=1000 build/bench-keys.sh         # no baseline loop above 1,000 keys (it takes minutes)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes="${CI_BENCH_SIZES:-100 1000 5000}"
rounds="${CI_BENCH_ROUNDS:-3}"
loopmax="${CI_BENCH_LOOP_MAX:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for tool in jq openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench-keys: $tool is needed" >&2; exit 2; }
done
eval "$("$root/build/tools.sh" --print)"
pwsh="$CERTINTEGRATION_PWSH"
"$root/build/build.sh" >/dev/null
dotnet build "$root/build/bench/Bench.csproj" -c Release -nologo -v q >/dev/null
harness="$root/build/bench/bin/Release/net8.0/CertIntegration.Bench.dll"
"$root/examples/new-demo-service-key.sh" "$work/demo" >/dev/null

load() { cut -d' ' -f1 /proc/loadavg; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# runs "$@" under /usr/bin/time; prints "<wall ms> <max RSS MB> <CPU ms, user + system>" to fd 3, the command's
# stdout to stdout. CPU time is far less sensitive to other load on the machine than wall-clock time.
timed() {
  local t="$work/time.$$"
  /usr/bin/time -f '%e %M %U %S' -o "$t" "$@"
  awk '{ printf "%.0f %.0f %.0f\n", $1 * 1000, $2 / 1024, ($3 + $4) * 1000 }' "$t" >&3
}

loop() { # $1 = key folder, $2 = output folder: what a user writes
  local f b
  for f in "$1"/*.json; do
    b="$2/$(basename "$f" .json)"
    jq -r .oauth.certificate "$f" > "$b.pem"
    jq -r .oauth.key "$f" > "$b.key"
    openssl pkcs12 -export -in "$b.pem" -inkey "$b.key" -out "$b.pfx" -passout pass:bench-password
    rm -f "$b.pem" "$b.key"
  done
}
export -f loop

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(openssl version | cut -d' ' -f1-2), pwsh $("$pwsh" -NoProfile -Command '$PSVersionTable.PSVersion.ToString()'), .NET $(dotnet --list-runtimes | awk '/NETCore.App/ { v = $2 } END { print v }')"
echo "rounds: $rounds per size, alternating; times are wall-clock medians in ms"
for n in $sizes; do
  rm -rf "$work/keys"; mkdir -p "$work/keys"
  for i in $(seq 1 "$n"); do cp "$work/demo/cpi-cert-key.json" "$work/keys/key-$i.json"; done
  : > "$work/r.oursT"; : > "$work/r.oursA"; : > "$work/r.loop"; : > "$work/r.floorT"; : > "$work/r.floorA"; : > "$work/r.load"
  for r in $(seq 1 "$rounds"); do
    load >> "$work/r.load"
    for enc in TripleDesSha1 Aes256Sha256; do
      rm -rf "$work/pfx"
      out="$(timed "$pwsh" -NoProfile -NonInteractive -File "$root/build/bench-keys.ps1" "$work/keys" "$work/pfx" "$enc" 3>"$work/t")"
      read -r _ inproc files peak <<<"$(grep '^OURS_MS' <<<"$out")"
      [ "$files" = "$n" ] && [ "$(ls "$work/pfx" | wc -l)" = "$n" ] || { echo "ours wrote $files of $n PFX files" >&2; exit 1; }
      openssl pkcs12 -in "$work/pfx/key-1.pfx" -passin pass:bench-password -noout 2>/dev/null || { echo "openssl cannot read our PFX" >&2; exit 1; }
      echo "$(cut -d' ' -f1 "$work/t") $inproc $(cut -d' ' -f2 "$work/t") $(cut -d' ' -f3 "$work/t")" >> "$work/r.ours${enc:0:1}"
    done
    if [ -z "$loopmax" ] || [ "$n" -le "$loopmax" ]; then
      rm -rf "$work/ossl"; mkdir -p "$work/ossl"
      timed bash -c 'loop "$1" "$2" 2>/dev/null' _ "$work/keys" "$work/ossl" 3>"$work/t" >/dev/null
      [ "$(ls "$work/ossl"/*.pfx | wc -l)" = "$n" ] || { echo "the openssl loop wrote too few files" >&2; exit 1; }
      cat "$work/t" >> "$work/r.loop"
    fi
    for enc in TripleDesSha1 Aes256Sha256; do
      dotnet "$harness" kdf-floor "$n" "$enc" | awk '/^FLOOR_MS/ { printf "%s %s\n", $2, $3 }' >> "$work/r.floor${enc:0:1}"
    done
    load >> "$work/r.load"
  done
  o3=$(cut -d' ' -f1 "$work/r.oursT" | median); i3=$(cut -d' ' -f2 "$work/r.oursT" | median); m3=$(cut -d' ' -f3 "$work/r.oursT" | median); c3=$(cut -d' ' -f4 "$work/r.oursT" | median)
  oA=$(cut -d' ' -f1 "$work/r.oursA" | median); iA=$(cut -d' ' -f2 "$work/r.oursA" | median); mA=$(cut -d' ' -f3 "$work/r.oursA" | median); cA=$(cut -d' ' -f4 "$work/r.oursA" | median)
  lw=$(cut -d' ' -f1 "$work/r.loop" | median); lm=$(cut -d' ' -f2 "$work/r.loop" | median); lc=$(cut -d' ' -f3 "$work/r.loop" | median)
  f3=$(cut -d' ' -f1 "$work/r.floorT" | median); fA=$(cut -d' ' -f1 "$work/r.floorA" | median)
  fc3=$(cut -d' ' -f2 "$work/r.floorT" | median); fcA=$(cut -d' ' -f2 "$work/r.floorA" | median)
  la=$(tr '\n' ' ' < "$work/r.load")
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.1f", a / b }'; }
  echo
  echo "N = $n service keys (load average 1 min during the rounds: $la)"
  printf '  %-58s %14s ms  CPU %6s ms  %s\n' "ours, TripleDesSha1 (whole pwsh command / pipeline alone)" "$o3 / $i3" "$c3" "peak RSS $m3 MB"
  printf '  %-58s %14s ms  CPU %6s ms  %s\n' "ours, Aes256Sha256 (whole pwsh command / pipeline alone)" "$oA / $iA" "$cA" "peak RSS $mA MB"
  printf '  %-58s %14s ms  CPU %6s ms  %s\n' "baseline: jq + openssl pkcs12 -export loop" "$lw" "$lc" "peak RSS $lm MB (largest process)"
  printf '  %-58s %14s ms  CPU %6s ms\n' "KDF floor, TripleDesSha1 (derivations alone, all cores)" "$f3" "$fc3"
  printf '  %-58s %14s ms  CPU %6s ms\n' "KDF floor, Aes256Sha256 (derivations alone, all cores)" "$fA" "$fcA"
  echo "  loop / ours (whole command): TripleDesSha1 $(ratio "$lw" "$o3")x, Aes256Sha256 $(ratio "$lw" "$oA")x"
  echo "  pipeline / KDF floor: TripleDesSha1 $(ratio "$i3" "$f3")x, Aes256Sha256 $(ratio "$iA" "$fA")x (wall); whole command CPU / floor CPU: $(ratio "$c3" "$fc3")x, $(ratio "$cA" "$fcA")x"
  echo "  raw rounds (wall in-process rss): oursT [$(tr '\n' ';' < "$work/r.oursT")] oursA [$(tr '\n' ';' < "$work/r.oursA")] loop [$(tr '\n' ';' < "$work/r.loop")] floorT [$(tr '\n' ' ' < "$work/r.floorT")] floorA [$(tr '\n' ' ' < "$work/r.floorA")]"
done
