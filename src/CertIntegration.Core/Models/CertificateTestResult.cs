using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;

namespace CertIntegration;

/// <summary>
/// The outcome of Test-CertificateBundle for one input: what was tested (subject, thumbprint, expiry, source) and
/// what is wrong with it, as findings with stable codes. Only text, number, date and boolean properties and the
/// findings, so ConvertTo-Json and Export-Csv give readable records (no certificate dumps).
/// </summary>
public sealed class CertificateTestResult
{
    /// <summary>True when no finding has severity Error.</summary>
    public bool Passed { get; internal set; }

    /// <summary>Common name of the tested certificate, or its whole subject when it has none.</summary>
    public string CommonName { get; internal set; } = string.Empty;

    public string Subject { get; internal set; } = string.Empty;

    public string Issuer { get; internal set; } = string.Empty;

    public string Thumbprint { get; internal set; } = string.Empty;

    /// <summary>Serial number of the tested certificate, hex.</summary>
    public string SerialNumber { get; internal set; } = string.Empty;

    /// <summary>Start of validity, local time (like X509Certificate2.NotBefore).</summary>
    public DateTime NotBefore { get; internal set; }

    /// <summary>Expiry, local time (like X509Certificate2.NotAfter).</summary>
    public DateTime NotAfter { get; internal set; }

    /// <summary>Whole days from <see cref="TestedAt"/> to expiry (negative once expired), counted in UTC.</summary>
    public int DaysRemaining { get; internal set; }

    /// <summary>The moment the certificate was evaluated at (now, or -At), local time.</summary>
    public DateTime TestedAt { get; internal set; }

    /// <summary>Client or Server: the use the certificate was tested for.</summary>
    public string Purpose { get; internal set; } = string.Empty;

    /// <summary>The -MinimumDaysValid window the expiry was checked against.</summary>
    public int MinimumDaysValid { get; internal set; }

    /// <summary>Number of certificates in the tested chain (leaf first).</summary>
    public int ChainLength { get; internal set; }

    public bool HasPrivateKey { get; internal set; }

    /// <summary>The file the certificate was read from, when it came from a file.</summary>
    public string? Source { get; internal set; }

    /// <summary>Client ID of the service key the certificate came from, when it came from one.</summary>
    public string? ClientId { get; internal set; }

    /// <summary>Every finding: errors first, then warnings, then information.</summary>
    public CertificateFindingCollection Findings { get; internal set; } = new(Array.Empty<CertificateFinding>());

    public override string ToString() =>
        $"{(Passed ? "PASSED" : "FAILED")} {CommonName} ({NotAfter:yyyy-MM-dd}, {DaysRemaining} days){(Findings.Count > 0 ? ": " + Findings : string.Empty)}";
}

/// <summary>One problem (or note) about a tested certificate; <see cref="Code"/> is stable, see CertificateFindingCodes.</summary>
public sealed class CertificateFinding
{
    public const string Error = nameof(Error);
    public const string Warning = nameof(Warning);
    public const string Info = nameof(Info);

    internal CertificateFinding(string severity, string code, string message, string? certificate)
    {
        Severity = severity;
        Code = code;
        Message = message;
        Certificate = certificate;
    }

    /// <summary>Error (the certificate will fail), Warning (it may fail, or will soon) or Info.</summary>
    public string Severity { get; }

    /// <summary>Stable PascalCase code, e.g. ExpiresSoon or ChainIncomplete.</summary>
    public string Code { get; }

    /// <summary>What is wrong and what to do next.</summary>
    public string Message { get; }

    /// <summary>Subject of the certificate of the chain the finding is about (the leaf, an intermediate, the root).</summary>
    public string? Certificate { get; }

    public override string ToString() => $"{Severity} {Code}: {Message}";
}

/// <summary>
/// The findings of a result. A list for scripts and ConvertTo-Json; as text (Export-Csv, string interpolation) the
/// codes with their severity, "Error:ExpiresSoon; Warning:ChainOutOfOrder".
/// </summary>
public sealed class CertificateFindingCollection : ReadOnlyCollection<CertificateFinding>
{
    internal CertificateFindingCollection(IList<CertificateFinding> findings)
        : base(findings)
    {
    }

    public override string ToString() => string.Join("; ", this.Select(f => $"{f.Severity}:{f.Code}"));
}
