#!/usr/bin/env bash
# Makes sure the tools the Pester tests need are installed, installing what is missing:
#   pwsh 7.6.9    as a dotnet global tool (~/.dotnet/tools), unless a pwsh 7.4+ is on PATH or already there;
#   Pester 5.7.1  into the NuGet global packages folder (NUGET_PACKAGES if set), by restoring build/tools/Tools.proj.
# Usage: ./build/tools.sh            install what is missing; prints nothing when everything is present
#        ./build/tools.sh --print    the same, then prints the tools it found, as shell assignments:
#            eval "$(./build/tools.sh --print)"   sets CERTINTEGRATION_PWSH, CERTINTEGRATION_PESTER (Pester.psd1)
#                                                 and DOTNET_ROOT (so the pwsh tool finds its runtime)
# Progress and errors go to stderr, so stdout holds only the assignments. Exits nonzero when a tool is missing
# and cannot be installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pwsh_version=7.6.9
pester_version=5.7.1

print=0
case "${1:-}" in
  --print) print=1 ;;
  "") ;;
  *) echo "usage: $0 [--print]" >&2; exit 2 ;;
esac

say() { echo "tools: $*" >&2; }
fail() { echo "tools: error: $*" >&2; exit 1; }

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
command -v dotnet >/dev/null 2>&1 || fail "dotnet is not on PATH; install the .NET SDK first."
# A dotnet global tool starts through an apphost that looks for the runtime in DOTNET_ROOT; point it at this dotnet.
if [ -z "${DOTNET_ROOT:-}" ]; then
  DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  export DOTNET_ROOT
fi
tools_dir="${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools"

# Prints the version of the pwsh at $1 when it runs and is 7.4 or later (the module's net8.0 build needs .NET 8).
usable_pwsh() {
  local v
  v="$("$1" -NoLogo -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null)" || return 1
  v="${v%%$'\r'}"
  [[ "$v" =~ ^([0-9]+)\.([0-9]+) ]] || return 1
  [ "${BASH_REMATCH[1]}" -gt 7 ] || { [ "${BASH_REMATCH[1]}" -eq 7 ] && [ "${BASH_REMATCH[2]}" -ge 4 ]; }
}

find_pwsh() {
  local candidate
  for candidate in "$(command -v pwsh 2>/dev/null || true)" "$tools_dir/pwsh"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && usable_pwsh "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! pwsh_path="$(find_pwsh)"; then
  if [ -x "$tools_dir/pwsh" ]; then
    say "updating the pwsh in $tools_dir to PowerShell $pwsh_version (dotnet global tool)"
    verb=update
  else
    say "installing PowerShell $pwsh_version as a dotnet global tool into $tools_dir"
    verb=install
  fi
  if ! out="$(dotnet tool "$verb" --global PowerShell --version "$pwsh_version" 2>&1)"; then
    echo "$out" >&2
    fail "could not $verb PowerShell $pwsh_version (dotnet tool $verb --global PowerShell --version $pwsh_version)."
  fi
  [ -x "$tools_dir/pwsh" ] || fail "dotnet tool $verb reported success but $tools_dir/pwsh does not exist."
  usable_pwsh "$tools_dir/pwsh" || fail "$tools_dir/pwsh was installed but does not run (is DOTNET_ROOT=$DOTNET_ROOT right?)."
  pwsh_path="$tools_dir/pwsh"
fi

# The NuGet global packages folder as NuGet itself resolves it (NUGET_PACKAGES, NuGet.config, or ~/.nuget/packages).
packages="$(dotnet nuget locals global-packages --list 2>/dev/null | sed -n 's/^global-packages: *//p' | head -1)"
packages="${packages:-${NUGET_PACKAGES:-$HOME/.nuget/packages}}"
packages="${packages%/}"
pester_psd1="$packages/pester/$pester_version/tools/Pester.psd1"
if [ ! -f "$pester_psd1" ]; then
  say "downloading Pester $pester_version into $packages"
  if ! out="$(dotnet restore "$root/build/tools/Tools.proj" --nologo -v quiet 2>&1)"; then
    echo "$out" >&2
    fail "could not download Pester $pester_version (dotnet restore build/tools/Tools.proj)."
  fi
  [ -f "$pester_psd1" ] || fail "the restore succeeded but $pester_psd1 does not exist."
fi

if [ "$print" -eq 1 ]; then
  printf 'export CERTINTEGRATION_PWSH=%q\n' "$pwsh_path"
  printf 'export CERTINTEGRATION_PESTER=%q\n' "$pester_psd1"
  printf 'export DOTNET_ROOT=%q\n' "$DOTNET_ROOT"
fi
