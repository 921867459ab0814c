#!/usr/bin/env bash
# Benchmark: N service keys -> N PFX files, CertIntegration against a shell loop around openssl (the blog-post way:
# unescape the \n in the JSON, write cert.pem and key.key, openssl pkcs12 -export). Not part of the test run.
#   build/bench-keys.sh            # 200 keys
#   CI_BENCH_COUNT=500 build/bench-keys.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${CI_BENCH_COUNT:-200}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
eval "$("$root/build/tools.sh" --print)"
pwsh="$CERTINTEGRATION_PWSH"
"$root/build/build.sh" >/dev/null
"$root/examples/new-demo-service-key.sh" "$work/demo" >/dev/null
mkdir -p "$work/keys" "$work/pfx" "$work/openssl"
for i in $(seq 1 "$n"); do cp "$work/demo/cpi-cert-key.json" "$work/keys/key-$i.json"; done
echo "$n service keys"

start=$(date +%s%N)
"$pwsh" -NoProfile -NonInteractive -File "$root/build/bench-keys.ps1" "$work/keys" "$work/pfx"
end=$(date +%s%N)
echo "CertIntegration (whole command, host start-up included): $(( (end - start) / 1000000 )) ms"

field() { # $1 = JSON field name, $2 = file: the string value with \n turned into line breaks
  sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$2" | sed 's/\\n/\n/g'
}
start=$(date +%s%N)
for f in "$work"/keys/*.json; do
  b="$work/openssl/$(basename "$f" .json)"
  field certificate "$f" > "$b.pem"
  field key "$f" > "$b.key"
  openssl pkcs12 -export -inkey "$b.key" -in "$b.pem" -out "$b.pfx" -passout pass:bench-password 2>/dev/null
done
end=$(date +%s%N)
echo "shell loop around openssl: $(( (end - start) / 1000000 )) ms"
echo "PFX files: CertIntegration $(ls "$work/pfx" | wc -l), openssl $(ls "$work/openssl"/*.pfx | wc -l)"
