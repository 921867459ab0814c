using System;

namespace CertIntegration;

/// <summary>An entry of a tenant keystore as the Cloud Integration API lists it (KeystoreEntries).</summary>
public sealed class CpiKeystoreEntry
{
    /// <summary>system, KeyRenewal or backup_admin_system.</summary>
    public string Keystore { get; internal set; } = "system";

    public string Alias { get; internal set; } = string.Empty;

    /// <summary>The API's key of the entry: the hex of the alias's UTF-8 bytes.</summary>
    public string Hexalias { get; internal set; } = string.Empty;

    /// <summary>Key Pair or Certificate.</summary>
    public string? Type { get; internal set; }

    /// <summary>SAP or Tenant Administrator.</summary>
    public string? Owner { get; internal set; }

    public string? Subject { get; internal set; }

    public string? Issuer { get; internal set; }

    public string? SerialNumber { get; internal set; }

    /// <summary>Start of validity, UTC.</summary>
    public DateTime? NotBefore { get; internal set; }

    /// <summary>Expiry, UTC.</summary>
    public DateTime? NotAfter { get; internal set; }

    /// <summary>Whole days until expiry (negative once expired).</summary>
    public int? DaysRemaining => NotAfter is { } n ? CertificateBundle.DaysUntil(n, DateTime.UtcNow) : null;

    public string? KeyType { get; internal set; }

    public int? KeySize { get; internal set; }

    public string? SignatureAlgorithm { get; internal set; }

    public string? FingerprintSha1 { get; internal set; }

    public string? FingerprintSha256 { get; internal set; }

    public string? Status { get; internal set; }

    public string? LastModifiedBy { get; internal set; }

    public DateTimeOffset? LastModifiedTime { get; internal set; }

    /// <summary>The tenant the entry is on.</summary>
    public Uri? TenantUrl { get; internal set; }

    public override string ToString() => $"{Keystore}/{Alias} ({Type}, expires {NotAfter:yyyy-MM-dd})";
}

/// <summary>What a keystore import (Import-CpiKeystore) did to one entry: unchanged, changed, new, removed or notImported.</summary>
public sealed class CpiKeystoreImportResult
{
    public string Alias { get; internal set; } = string.Empty;

    public string Status { get; internal set; } = string.Empty;

    public string Mode { get; internal set; } = string.Empty;

    public Uri? TenantUrl { get; internal set; }

    public override string ToString() => $"{Alias}: {Status}";
}
