#!/usr/bin/env bash
# Runs every test: the xunit suites (unit, real PowerShell engine, interop with openssl/keytool/TLS servers) and the
# Pester files tests/*.Tests.ps1 in a real pwsh (pwsh 7.6.9 and Pester 5.7.1 are installed by build/tools.sh when
# missing). The time-zone-sensitive tests of both run a second time under TZ=Pacific/Auckland.
# Ends with one line for xunit and Pester together: "N passed, N failed, N skipped"; exits nonzero on any failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log="$(mktemp)"
plog="$(mktemp)"
trap 'rm -f "$log" "$plog"' EXIT
status=0
passed=0; failed=0; skipped=0

# pwsh and Pester for the Pester tests; without them the run fails (it does not quietly skip them).
have_tools=0
if tools="$(./build/tools.sh --print)"; then
  eval "$tools"
  have_tools=1
else
  echo "error: pwsh (7.4 or later) or Pester 5.7.1 is missing and could not be installed (build/tools.sh said why above); the Pester tests cannot run."
  status=1
fi

dotnet test CertIntegration.sln -c Release --nologo 2>&1 | tee "$log"
xunit_status=${PIPESTATUS[0]}

# The machine runs in UTC; users do not. Run the time-zone-sensitive tests again far from UTC.
if [ "$xunit_status" -eq 0 ]; then
  echo "Time-zone tests again under TZ=Pacific/Auckland:"
  TZ=Pacific/Auckland dotnet test tests/CertIntegration.Tests/CertIntegration.Tests.csproj -c Release --no-build --nologo \
    --filter "Category=TimeZone" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || xunit_status=1
fi
[ "$xunit_status" -eq 0 ] || status=1

while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
done < <(sed -n -E 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+), Skipped:[[:space:]]*([0-9]+).*/\1 \2 \3/p' "$log")

# Runs build/run-pester.ps1 (with TZ=$1 unless empty, the other arguments passed on) and adds its counts.
run_pester() {
  local tz="$1" rc pp="" pf="" ps=""
  shift
  env ${tz:+TZ="$tz"} "$CERTINTEGRATION_PWSH" -NoLogo -NoProfile -NonInteractive -File build/run-pester.ps1 "$@" 2>&1 | tee "$plog"
  rc=${PIPESTATUS[0]}
  read -r pp pf ps < <(sed -E $'s/\x1b\\[[0-9;]*[A-Za-z]//g; s/\r$//' "$plog" | sed -n -E 's/^PESTER ([0-9]+) ([0-9]+) ([0-9]+)$/\1 \2 \3/p' | tail -1)
  if [ -z "$pp" ]; then
    echo "error: build/run-pester.ps1 stopped (exit code $rc) before it reported its counts."
    failed=$((failed + 1)); status=1
    return
  fi
  passed=$((passed + pp)); failed=$((failed + pf)); skipped=$((skipped + ps))
  if [ "$rc" -ne 0 ] || [ "$pf" -ne 0 ]; then status=1; fi
}

if [ "$have_tools" -eq 1 ]; then
  echo "Pester tests (tests/*.Tests.ps1) with $CERTINTEGRATION_PWSH and $CERTINTEGRATION_PESTER:"
  run_pester "" -Output Detailed -ResultFile TestResults/pester.xml
  echo "Pester tests tagged TimeZone again under TZ=Pacific/Auckland:"
  run_pester Pacific/Auckland -Tag TimeZone -Output Normal -ResultFile TestResults/pester-timezone.xml
fi

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; echo "The build or test run failed before tests could report."; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
