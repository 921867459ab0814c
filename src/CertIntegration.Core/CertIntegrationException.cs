using System;

namespace CertIntegration.Core;

/// <summary>
/// What kind of failure an error is, in the core's own terms. The cmdlet layer maps each kind to a PowerShell
/// ErrorCategory in one place (CertIntegration.Commands.ErrorMapping), so the core needs no PowerShell.
/// </summary>
internal enum FailureKind
{
    InvalidArgument,
    InvalidData,
    InvalidType,
    LimitsExceeded,
    NotImplemented,
    AuthenticationError,
    ObjectNotFound,
    ResourceExists,
    ReadError,
    WriteError,
    PermissionDenied,
    ConnectionError,
    OperationTimeout,
    ProtocolError,
    InvalidOperation,
}

/// <summary>
/// A failure with a stable PascalCase error ID (<see cref="ErrorIds"/>) and a <see cref="FailureKind"/>. The message
/// never contains secret material, and is at most <see cref="Messages.MaxMessage"/> characters long, however much of
/// the input (a 500-deep name, a 2,000-arc OID) it quotes.
/// </summary>
internal sealed class CertIntegrationException : Exception
{
    public CertIntegrationException(string errorId, FailureKind kind, string message, Exception? inner = null)
        : base(Messages.Bound(message), inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    public string ErrorId { get; }

    public FailureKind Kind { get; }
}
