namespace CertIntegration.Core;

/// <summary>Helpers for messages built from other messages (exceptions of .NET, Newtonsoft.Json, BouncyCastle).</summary>
internal static class Messages
{
    /// <summary>
    /// Another message as a clause inside ours: without its final period, so that "...: {clause}." and "({clause})."
    /// end in one period, not two. Newtonsoft's messages end in "position 0." and .NET's in a period as well.
    /// </summary>
    public static string Clause(string? message) => (message ?? string.Empty).Trim().TrimEnd('.').TrimEnd();
}
