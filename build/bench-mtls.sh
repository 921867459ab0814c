#!/usr/bin/env bash
# Benchmark for Test-MtlsEndpoint: 200 endpoints in parallel against one endpoint, on an in-process fake Cloud
# Integration runtime (Kestrel on 127.0.0.1) whose requests take CI_BENCH_DELAY_MS (default 250) each.
# Prints the timings; not part of the normal test run.
#   build/bench-mtls.sh                 # 200 endpoints, 250 ms per request
#   CI_BENCH_COUNT=500 CI_BENCH_DELAY_MS=100 build/bench-mtls.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
CI_BENCH_MTLS=1 dotnet test tests/CertIntegration.Tests -c Release --nologo \
  --filter "FullyQualifiedName~TlsBenchmark" --logger "console;verbosity=detailed" 2>&1 \
  | grep -E "server delay|endpoints, -ThrottleLimit|Passed!|Failed!|error" || true
