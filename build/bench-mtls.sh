#!/usr/bin/env bash
# Benchmark (not a test): Test-MtlsEndpoint at scale against a local HTTPS server (build/bench: server, Kestrel) that
# requires the client certificate and answers each request after CI_BENCH_DELAY_MS (default 100 ms).
#   ours:     Test-MtlsEndpoint -Uri <N URLs> -Certificate <service key bundle> -ThrottleLimit T -Quiet, one pwsh per
#             configuration (time in-process, after a one-endpoint warm-up), for 200 x T = 1, 8, 32, 64 and 1000 x 64
#   baseline: a shell loop of `curl --cert --key` over the same 200 URLs
# Rounds alternate ours / baseline, so machine load hits them alike; medians are printed with the load average.
#   build/bench-mtls.sh
#   CI_BENCH_ROUNDS=5 CI_BENCH_DELAY_MS=100 CI_BENCH_CONFIGS="200:1 200:32" build/bench-mtls.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${CI_BENCH_ROUNDS:-3}"
delay="${CI_BENCH_DELAY_MS:-100}"
configs="${CI_BENCH_CONFIGS:-200:1 200:8 200:32 200:64 1000:64}"
loopn="${CI_BENCH_LOOP_COUNT:-200}"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for tool in curl jq openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench-mtls: $tool is needed" >&2; exit 2; }
done
eval "$("$root/build/tools.sh" --print)"
pwsh="$CERTINTEGRATION_PWSH"
"$root/build/build.sh" >/dev/null
dotnet build "$root/build/bench/Bench.csproj" -c Release -nologo -v q >/dev/null
harness="$root/build/bench/bin/Release/net8.0/CertIntegration.Bench.dll"

# The client: a demo service key (root -> intermediate -> leaf with clientAuth); curl gets its PEM through jq.
"$root/examples/new-demo-service-key.sh" "$work/demo" >/dev/null
key="$work/demo/cpi-cert-key.json"
jq -r .oauth.certificate "$key" > "$work/client.pem"
jq -r .oauth.key "$key" > "$work/client.key"
# The server: its own CA and a certificate for 127.0.0.1 (RSA 2048, like the load balancer's).
( cd "$work"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout sca.key -out server-ca.pem -days 30 -subj "/CN=Bench Server CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > ext.cnf
  openssl x509 -req -in server.csr -CA server-ca.pem -CAkey sca.key -CAcreateserial -out server.pem -days 30 -extfile ext.cnf 2>/dev/null )

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkfifo "$work/server.in"
dotnet "$harness" server "$port" "$work/server.pem" "$work/server.key" "$work/client.pem" "$delay" < "$work/server.in" > "$work/server.out" 2>&1 &
server_pid=$!
exec 4> "$work/server.in"   # the server runs until this closes
for _ in $(seq 1 100); do grep -q LISTENING "$work/server.out" 2>/dev/null && break; sleep 0.2; done
grep -q LISTENING "$work/server.out" || { echo "the server did not start:" >&2; cat "$work/server.out" >&2; exit 1; }

curl_loop() { # $1 = count: what a user writes
  local ok=0 i code
  for i in $(seq 1 "$1"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cert "$work/client.pem" --key "$work/client.key" --cacert "$work/server-ca.pem" "https://127.0.0.1:$port/bench/$i")
    [ "$code" = 200 ] && ok=$((ok + 1))
  done
  echo "$ok"
}
[ "$(curl_loop 1)" = 1 ] || { echo "curl cannot reach the server with the client certificate" >&2; exit 1; }
curl -s -o /dev/null --cacert "$work/server-ca.pem" "https://127.0.0.1:$port/x" && { echo "the server answered without a client certificate" >&2; exit 1; }

load() { cut -d' ' -f1 /proc/loadavg; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "machine: $(nproc) cores, $(uname -sr), $(openssl version | cut -d' ' -f1-2), $(curl --version | head -1 | cut -d' ' -f1-2), pwsh $("$pwsh" -NoProfile -Command '$PSVersionTable.PSVersion.ToString()')"
echo "server: Kestrel on 127.0.0.1:$port, client certificate required, $delay ms per request; $rounds rounds, alternating"
: > "$work/r.load"; : > "$work/r.curl"
for c in $configs; do : > "$work/r.$c"; done
for r in $(seq 1 "$rounds"); do
  load >> "$work/r.load"
  for c in $configs; do
    n=${c%%:*}; t=${c##*:}
    out=$(/usr/bin/time -f '%M' -o "$work/rss" "$pwsh" -NoProfile -NonInteractive -File "$root/build/bench-mtls.ps1" "$key" "$work/server-ca.pem" "$port" "$n" "$t")
    read -r _ ms passed peak <<<"$(grep '^OURS_MS' <<<"$out")"
    [ "$passed" = "$n" ] || { echo "ours: $passed of $n endpoints passed ($c)" >&2; exit 1; }
    echo "$ms $(awk '{ printf "%.0f", $1 / 1024 }' "$work/rss")" >> "$work/r.$c"
  done
  start=$(date +%s%N)
  ok=$(curl_loop "$loopn")
  end=$(date +%s%N)
  [ "$ok" = "$loopn" ] || { echo "curl: $ok of $loopn passed" >&2; exit 1; }
  echo $(( (end - start) / 1000000 )) >> "$work/r.curl"
  load >> "$work/r.load"
done
curl_ms=$(median < "$work/r.curl")
one=$(cut -d' ' -f1 "$work/r.200:1" 2>/dev/null | median || echo -)
echo
echo "load average 1 min during the rounds: $(tr '\n' ' ' < "$work/r.load")"
printf '  %-40s %8s ms\n' "baseline: curl --cert --key loop, $loopn" "$curl_ms"
for c in $configs; do
  n=${c%%:*}; t=${c##*:}
  ms=$(cut -d' ' -f1 "$work/r.$c" | median); rss=$(cut -d' ' -f2 "$work/r.$c" | median)
  ideal=$(( n * delay / t ))
  extra=""
  [ "$one" != "-" ] && [ "$n" = 200 ] && extra="$(awk -v a="$one" -v b="$ms" 'BEGIN { printf "%.1fx throttle 1", a / b }'), "
  [ "$n" = "$loopn" ] && extra="$extra$(awk -v a="$curl_ms" -v b="$ms" 'BEGIN { printf "%.2fx curl", a / b }'), "
  printf '  %-40s %8s ms  %s%s x ideal (%s ms), peak RSS %s MB\n' "ours: $n endpoints, -ThrottleLimit $t" "$ms" "$extra" "$(awk -v a="$ms" -v b="$ideal" 'BEGIN { printf "%.2f", a / b }')" "$ideal" "$rss"
done
echo "  raw rounds (ms rss): $(for c in $configs; do printf '%s [%s] ' "$c" "$(tr '\n' ';' < "$work/r.$c")"; done) curl [$(tr '\n' ' ' < "$work/r.curl")]"
