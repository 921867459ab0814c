using System.Collections.Generic;

namespace CertIntegration.Core.Chains;

/// <summary>
/// Every code Test-CertificateBundle reports, in one place: users filter on them in scripts
/// (<c>$r.Findings.Code -contains 'ExpiresSoon'</c>), so a code never changes once released. The help
/// (docs/en-US/Test-CertificateBundle.md) lists the same codes; a unit test keeps the two in step.
/// </summary>
internal static class CertificateFindingCodes
{
    /// <summary>The leaf's NotAfter is before the moment tested.</summary>
    public const string Expired = nameof(Expired);

    /// <summary>The leaf's NotBefore is after the moment tested.</summary>
    public const string NotYetValid = nameof(NotYetValid);

    /// <summary>The leaf expires within -MinimumDaysValid days of the moment tested.</summary>
    public const string ExpiresSoon = nameof(ExpiresSoon);

    /// <summary>-Purpose Client: the EKU leaves out Client Authentication (1.3.6.1.5.5.7.3.2).</summary>
    public const string ClientAuthenticationMissing = nameof(ClientAuthenticationMissing);

    /// <summary>-Purpose Server: the EKU leaves out Server Authentication (1.3.6.1.5.5.7.3.1).</summary>
    public const string ServerAuthenticationMissing = nameof(ServerAuthenticationMissing);

    /// <summary>The private key given with the certificate belongs to another certificate.</summary>
    public const string KeyCertificateMismatch = nameof(KeyCertificateMismatch);

    /// <summary>The chain stops below a root, and the missing issuer is not among -TrustedCertificate either.</summary>
    public const string ChainIncomplete = nameof(ChainIncomplete);

    /// <summary>The file or service key lists the chain in another order than leaf first, then each issuer.</summary>
    public const string ChainOutOfOrder = nameof(ChainOutOfOrder);

    /// <summary>A CA certificate of the chain expires before the leaf.</summary>
    public const string IntermediateExpiresFirst = nameof(IntermediateExpiresFirst);

    /// <summary>The chain's root is not among -TrustedCertificate (only checked when that is given).</summary>
    public const string RootNotTrusted = nameof(RootNotTrusted);

    /// <summary>A certificate of the chain has an RSA key below 2048 bits.</summary>
    public const string WeakRsaKey = nameof(WeakRsaKey);

    /// <summary>A certificate below the root is signed with SHA-1.</summary>
    public const string Sha1Signature = nameof(Sha1Signature);

    /// <summary>A service key's certificatedetails (issuerdn, subjectdn, serialnumber, validuntil) disagree with its certificate.</summary>
    public const string ServiceKeyDetailsMismatch = nameof(ServiceKeyDetailsMismatch);

    /// <summary>Every code with its severity, in the order results list them.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> All = new[]
    {
        Pair(Expired, CertificateFinding.Error),
        Pair(NotYetValid, CertificateFinding.Error),
        Pair(ExpiresSoon, CertificateFinding.Error),
        Pair(ClientAuthenticationMissing, CertificateFinding.Error),
        Pair(ServerAuthenticationMissing, CertificateFinding.Error),
        Pair(KeyCertificateMismatch, CertificateFinding.Error),
        Pair(ChainIncomplete, CertificateFinding.Error),
        Pair(ChainOutOfOrder, CertificateFinding.Warning),
        Pair(IntermediateExpiresFirst, CertificateFinding.Warning),
        Pair(RootNotTrusted, CertificateFinding.Error),
        Pair(WeakRsaKey, CertificateFinding.Error),
        Pair(Sha1Signature, CertificateFinding.Error),
        Pair(ServiceKeyDetailsMismatch, CertificateFinding.Error),
    };

    private static KeyValuePair<string, string> Pair(string code, string severity) => new(code, severity);
}
