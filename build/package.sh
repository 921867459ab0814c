#!/usr/bin/env bash
# Packs the built module into out/CertIntegration.<version>.nupkg (see build/package.ps1; build first: ./build/build.sh).
# Usage: ./build/package.sh [-ModulePath DIR] [-OutputPath DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pwsh="$(command -v pwsh || true)"
[ -n "$pwsh" ] || [ ! -x "$HOME/.dotnet/tools/pwsh" ] || pwsh="$HOME/.dotnet/tools/pwsh"
if [ -z "$pwsh" ]; then
  echo "package.sh needs pwsh 7.4 or later (it ships Microsoft.PowerShell.PSResourceGet); none found on PATH or in ~/.dotnet/tools." >&2
  exit 1
fi
exec "$pwsh" -NoProfile -NonInteractive -File "$root/build/package.ps1" "$@"
