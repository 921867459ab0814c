#!/usr/bin/env bash
# Runs every test: the xunit suites (unit, real PowerShell engine, interop with openssl/keytool/TLS servers)
# and, where pwsh and Pester exist, the Pester files in tests/. Ends with one line: "N passed, N failed[, N skipped]".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

dotnet test CertIntegration.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The machine runs in UTC; users do not. Run the time-zone-sensitive tests again far from UTC.
if [ "$status" -eq 0 ]; then
  echo "Time-zone tests again under TZ=Pacific/Auckland:"
  TZ=Pacific/Auckland dotnet test tests/CertIntegration.Tests/CertIntegration.Tests.csproj -c Release --no-build --nologo \
    --filter "Category=TimeZone" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

passed=0; failed=0; skipped=0
while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
done < <(sed -n -E 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+), Skipped:[[:space:]]*([0-9]+).*/\1 \2 \3/p' "$log")

if command -v pwsh >/dev/null 2>&1 && pwsh -NoProfile -Command 'if (Get-Module -ListAvailable Pester) { exit 0 } else { exit 1 }' >/dev/null 2>&1; then
  pwsh -NoProfile -Command '$c = New-PesterConfiguration; $c.Run.Path = "tests"; $c.Run.PassThru = $true; $r = Invoke-Pester -Configuration $c; "PESTER {0} {1} {2}" -f $r.PassedCount, $r.FailedCount, $r.SkippedCount' 2>&1 | tee -a "$log"
  read -r pp pf ps < <(sed -n -E 's/^PESTER ([0-9]+) ([0-9]+) ([0-9]+)$/\1 \2 \3/p' "$log" | tail -1)
  passed=$((passed + ${pp:-0})); failed=$((failed + ${pf:-0})); skipped=$((skipped + ${ps:-0}))
  [ "${pf:-0}" -eq 0 ] || status=1
else
  echo "Pester tests (tests/*.Tests.ps1) skipped: pwsh with the Pester module is not installed on this machine."
fi

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; echo "The build or test run failed before tests could report."; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
