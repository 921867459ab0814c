using System;
using System.Linq;

namespace CertIntegration;

/// <summary>
/// The <c>certificatedetails</c> object SAP puts beside the certificate in a service key: what the service says it
/// issued (issuer, subject, serial number, expiry) and the validity that was asked for. Test-CertificateBundle
/// compares it with the certificate itself (ServiceKeyDetailsMismatch). Plain text, number and date properties only,
/// so it reads well in JSON and CSV.
/// </summary>
public sealed class ServiceKeyCertificateDetails
{
    /// <summary>The issuer's distinguished name as the service key gives it (<c>issuerdn</c>).</summary>
    public string? IssuerDN { get; internal set; }

    /// <summary>The subject's distinguished name as the service key gives it (<c>subjectdn</c>).</summary>
    public string? SubjectDN { get; internal set; }

    /// <summary>The serial number as the service key gives it (<c>serialnumber</c>; hex or decimal).</summary>
    public string? SerialNumber { get; internal set; }

    /// <summary>The expiry the service key gives (<c>validuntil</c>), in UTC; null when absent or not a date.</summary>
    public DateTime? ValidUntil { get; internal set; }

    /// <summary>The requested validity (<c>validity</c>), e.g. 365.</summary>
    public int? Validity { get; internal set; }

    /// <summary>The unit of <see cref="Validity"/> (<c>validitytype</c>), e.g. DAYS.</summary>
    public string? ValidityType { get; internal set; }

    /// <summary><c>validuntil</c> as written, for messages when it is not a date.</summary>
    internal string? ValidUntilText { get; set; }

    public override string ToString() =>
        string.Join(", ", new[]
        {
            SubjectDN is null ? null : $"subject {SubjectDN}",
            IssuerDN is null ? null : $"issuer {IssuerDN}",
            SerialNumber is null ? null : $"serial {SerialNumber}",
            ValidUntil is null ? ValidUntilText is null ? null : $"valid until {ValidUntilText}" : $"valid until {ValidUntil:yyyy-MM-dd HH:mm} UTC",
            Validity is null ? null : $"validity {Validity} {ValidityType}".TrimEnd(),
        }.Where(s => s is not null));
}
