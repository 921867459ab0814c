using System;
using System.Management.Automation;

namespace CertIntegration.Internal;

/// <summary>
/// A failure with a stable PascalCase error ID and a PowerShell category. Cmdlets turn it into an
/// <see cref="ErrorRecord"/>; the message never contains secret material.
/// </summary>
internal sealed class CertIntegrationException : Exception
{
    public CertIntegrationException(string errorId, ErrorCategory category, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
    }

    public string ErrorId { get; }

    public ErrorCategory Category { get; }

    public ErrorRecord ToErrorRecord(object? target) => new(this, ErrorId, Category, target);
}

/// <summary>Stable error IDs, one place so tests and docs can name them.</summary>
internal static class ErrorIds
{
    public const string ServiceKeyNotJson = nameof(ServiceKeyNotJson);
    public const string ServiceKeyIsClientSecret = nameof(ServiceKeyIsClientSecret);
    public const string ServiceKeyNoCertificate = nameof(ServiceKeyNoCertificate);
    public const string ServiceKeyUnsupportedInput = nameof(ServiceKeyUnsupportedInput);
    public const string PemMalformed = nameof(PemMalformed);
    public const string PemNoCertificate = nameof(PemNoCertificate);
    public const string PemNoPrivateKey = nameof(PemNoPrivateKey);
    public const string CertificateMalformed = nameof(CertificateMalformed);
    public const string PrivateKeyMalformed = nameof(PrivateKeyMalformed);
    public const string PrivateKeyPasswordRequired = nameof(PrivateKeyPasswordRequired);
    public const string PrivateKeyPasswordIncorrect = nameof(PrivateKeyPasswordIncorrect);
    public const string KeyCertificateMismatch = nameof(KeyCertificateMismatch);
    public const string UnsupportedAlgorithm = nameof(UnsupportedAlgorithm);
    public const string LimitExceeded = nameof(LimitExceeded);
    public const string MultipleLeafCertificates = nameof(MultipleLeafCertificates);
    public const string FileExists = nameof(FileExists);
    public const string FileNotFound = nameof(FileNotFound);
    public const string FileWriteFailed = nameof(FileWriteFailed);
    public const string FileReadFailed = nameof(FileReadFailed);
    public const string BundleHasNoPrivateKey = nameof(BundleHasNoPrivateKey);
    public const string OutputPathAmbiguous = nameof(OutputPathAmbiguous);
    public const string PasswordEmpty = nameof(PasswordEmpty);
}
