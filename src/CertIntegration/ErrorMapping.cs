using System;
using System.IO;
using System.Management.Automation;
using CertIntegration.Core;

namespace CertIntegration;

/// <summary>
/// The one place where failures become PowerShell ErrorRecords: the core's <see cref="FailureKind"/> maps to an
/// <see cref="ErrorCategory"/>, and the error ID (from <see cref="ErrorIds"/>) becomes the FullyQualifiedErrorId.
/// </summary>
internal static class ErrorMapping
{
    public static ErrorCategory CategoryOf(FailureKind kind) => kind switch
    {
        FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FailureKind.InvalidData => ErrorCategory.InvalidData,
        FailureKind.InvalidType => ErrorCategory.InvalidType,
        FailureKind.LimitsExceeded => ErrorCategory.LimitsExceeded,
        FailureKind.NotImplemented => ErrorCategory.NotImplemented,
        FailureKind.AuthenticationError => ErrorCategory.AuthenticationError,
        FailureKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        FailureKind.ResourceExists => ErrorCategory.ResourceExists,
        FailureKind.ReadError => ErrorCategory.ReadError,
        FailureKind.WriteError => ErrorCategory.WriteError,
        FailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
        FailureKind.ConnectionError => ErrorCategory.ConnectionError,
        FailureKind.OperationTimeout => ErrorCategory.OperationTimeout,
        FailureKind.ProtocolError => ErrorCategory.ProtocolError,
        FailureKind.InvalidOperation => ErrorCategory.InvalidOperation,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>The record for a per-item failure; its target is the input (or a redacted copy of it).</summary>
    public static ErrorRecord ToErrorRecord(Exception ex, object? target) => ex switch
    {
        CertIntegrationException cie => new ErrorRecord(cie, cie.ErrorId, CategoryOf(cie.Kind), target),
        IOException io => new ErrorRecord(io, ErrorIds.FileReadFailed, ErrorCategory.ReadError, target),
        UnauthorizedAccessException ua => new ErrorRecord(ua, ErrorIds.AccessDenied, ErrorCategory.PermissionDenied, target),
        _ => new ErrorRecord(ex, ErrorIds.UnexpectedError, ErrorCategory.NotSpecified, target),
    };

    /// <summary>A record for an argument problem found by the cmdlet layer itself.</summary>
    public static ErrorRecord Argument(string errorId, string message, object? target) =>
        new(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target);
}
