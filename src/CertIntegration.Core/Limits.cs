namespace CertIntegration.Core;

/// <summary>
/// Bounds on work done for untrusted input, so a crafted file cannot hold a CPU or memory for long.
/// Generous next to anything real: OpenSSL 3 and Windows use 2048 and 2000 iterations, service keys are a few KB.
/// </summary>
internal static class Limits
{
    /// <summary>Largest file or text accepted as a certificate container or service key.</summary>
    public const int MaxInputBytes = 16 * 1024 * 1024;

    /// <summary>Most PEM blocks read from one input.</summary>
    public const int MaxPemBlocks = 5000;

    /// <summary>Most certificates in one chain (leaf to root).</summary>
    public const int MaxChainLength = 16;

    /// <summary>Highest PBKDF2 / PKCS#12 KDF iteration count accepted when reading.</summary>
    public const int MaxKdfIterations = 1_000_000;

    /// <summary>Iterations used when writing (PKCS#12 and encrypted PKCS#8); at least 2048 as the issue asks.</summary>
    public const int WriteKdfIterations = 2048;

    /// <summary>Largest scrypt cost parameter N accepted when reading.</summary>
    public const int MaxScryptN = 1 << 20;
}
