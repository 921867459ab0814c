using System;
using System.Collections.Generic;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.ServiceKeys;

/// <summary>A warning about the parameters that were made anyway, with its stable code.</summary>
internal sealed class ParameterWarning
{
    public ParameterWarning(string code, string message)
    {
        Code = code;
        Message = message;
    }

    public string Code { get; }

    public string Message { get; }

    /// <summary>As the cmdlets write it: the code first, so scripts can match it.</summary>
    public override string ToString() => Code + ": " + Message;
}

/// <summary>
/// Makes <see cref="ServiceKeyParameters"/> and checks what SAP documents for them: a validity of 1 to 365 days, one
/// certificate (not a chain) in "X.509", a certificate that is valid now. What SAP would refuse is an exception, what
/// it would take but likely fail with later (a chain cut down to its leaf, no Client Authentication EKU) a warning.
/// </summary>
internal static class ServiceKeyParameterBuilder
{
    public const int DefaultKeyLength = 2048;
    public const int MinValidity = 1;
    public const int MaxValidity = 365;

    /// <summary>Checks the arguments that do not depend on a certificate; the whole call fails on them.</summary>
    public static void CheckArguments(int? validity, int? keyLength)
    {
        if (validity is int v && (v < MinValidity || v > MaxValidity))
        {
            throw new CertIntegrationException(ErrorIds.ServiceKeyValidityOutOfRange, FailureKind.InvalidArgument,
                $"-Validity {v}: SAP accepts a validity of {MinValidity} to {MaxValidity} days for a service key's certificate.");
        }

        if (keyLength is int k && k < DefaultKeyLength)
        {
            throw new CertIntegrationException(ErrorIds.ServiceKeyKeyLengthInvalid, FailureKind.InvalidArgument,
                $"-KeyLength {k}: the key of a service key's certificate has at least {DefaultKeyLength} bits (SAP's default is {DefaultKeyLength}).");
        }
    }

    /// <summary>"key-type": "certificate": SAP makes the key pair; key-length always appears (default 2048).</summary>
    public static ServiceKeyParameters ForGeneratedCertificate(int? validity, int? keyLength)
    {
        CheckArguments(validity, keyLength);
        return new ServiceKeyParameters(ServiceKeyType.Certificate, null, validity, keyLength ?? DefaultKeyLength);
    }

    /// <summary>
    /// "key-type": "certificate_external" with the leaf of <paramref name="bundle"/> as one line of PEM. key-length
    /// appears only when given (SAP reads it from the certificate).
    /// </summary>
    public static ServiceKeyParameters ForExternalCertificate(CertificateBundle bundle, int? validity, int? keyLength, DateTime utcNow, List<ParameterWarning> warnings)
    {
        CheckArguments(validity, keyLength);
        X509Certificate2 leaf = bundle.Certificate;
        string name = $"'{leaf.Subject}' (thumbprint {leaf.Thumbprint})";
        if (leaf.NotAfter.ToUniversalTime() <= utcNow)
        {
            throw new CertIntegrationException(ErrorIds.ServiceKeyCertificateExpired, FailureKind.InvalidData,
                $"The certificate {name} expired on {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; SAP does not take an expired certificate for a service key. Use the renewed certificate.");
        }

        if (leaf.NotBefore.ToUniversalTime() > utcNow)
        {
            warnings.Add(new ParameterWarning(ErrorIds.ServiceKeyCertificateNotYetValid,
                $"The certificate {name} is not valid before {leaf.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; calls with it fail until then (or check this machine's clock)."));
        }

        if (bundle.ChainLength > 1)
        {
            warnings.Add(new ParameterWarning(ErrorIds.ServiceKeyChainReduced,
                $"The input holds a chain of {bundle.ChainLength} certificates; only the leaf {name} goes into \"X.509\", as SAP takes one certificate there, not the chain. The issuing CAs must be among the roots SAP's load balancer trusts."));
        }

        if (!ClientCredential.HasClientAuthEku(leaf))
        {
            warnings.Add(new ParameterWarning(ErrorIds.ServiceKeyNoClientAuthEku,
                $"The certificate {name} lacks the Client Authentication extended key usage (1.3.6.1.5.5.7.3.2); SAP's load balancers reject such certificates in the TLS handshake. Use a certificate issued for client authentication."));
        }

        return new ServiceKeyParameters(ServiceKeyType.CertificateExternal, CertificateExport.ToSingleLine(leaf.RawData), validity, keyLength);
    }
}
