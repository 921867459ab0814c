#!/usr/bin/env bash
# Builds the module into out/CertIntegration (psd1, dlls for both editions, format file, help).
# Usage: ./build/build.sh [Debug|Release]      (from bash; from pwsh: ./build/build.ps1)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build "$root/src/CertIntegration/CertIntegration.csproj" -c "${1:-Release}" -nologo -v minimal
