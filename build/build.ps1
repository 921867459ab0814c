#!/usr/bin/env pwsh
# Builds the module into out/CertIntegration (psd1, dlls for both editions, format file, help).
# Usage: ./build/build.ps1 [-Configuration Debug|Release]
param([ValidateSet('Debug', 'Release')][string] $Configuration = 'Release')
$ErrorActionPreference = 'Stop'
dotnet build (Join-Path $PSScriptRoot '../src/CertIntegration/CertIntegration.csproj') -c $Configuration -nologo -v minimal
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed with exit code $LASTEXITCODE" }
