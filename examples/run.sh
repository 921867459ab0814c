#!/usr/bin/env bash
# Runs a PowerShell script with pwsh when it is installed, otherwise with the minimal host in build/ScriptHost
# (System.Management.Automation on .NET; only the Microsoft.PowerShell.Core commands exist there).
# Usage: ./examples/run.sh <script.ps1> [arguments...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if command -v pwsh >/dev/null 2>&1; then
  exec pwsh -NoProfile -NonInteractive -File "$@"
fi
host="$root/build/ScriptHost/bin/Release/net10.0/ScriptHost.dll"
# Build the host once, and again only when its sources change.
if [ ! -f "$host" ] || [ -n "$(find "$root/build/ScriptHost" -maxdepth 1 -newer "$host" \( -name '*.cs' -o -name '*.csproj' \))" ]; then
  dotnet build "$root/build/ScriptHost/ScriptHost.csproj" -c Release -nologo -v quiet >/dev/null
fi
exec dotnet "$host" "$@"
