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

    /// <summary>
    /// Most key-derivation work spent on one input (one PEM text, PKCS#12 file...), counted from the declared
    /// parameters before any derivation runs. One unit is about one PBKDF2-HMAC-SHA256 iteration (1-2 µs with
    /// BouncyCastle on one x64 core); KdfGuard weighs other digests (SHA-512 and SHA-3 2, MD2 20) and scrypt
    /// (N * r * p / 2). 4,000,000 units: one key at the <see cref="MaxKdfIterations"/> maximum even with SHA-512
    /// (2,000,000), a PKCS#12 file at that maximum in its MAC, certificate safe and key (3,000,000, 4,000,000 when the
    /// empty password's two encodings are both tried), or four PEM keys at 1,000,000 pass. Real files are far below:
    /// OpenSSL 3 and Windows write 2048 / 2000 iterations (about 6,000 units per file), an encrypted PKCS#8 key at
    /// 600,000 is 600,000, OpenSSL's scrypt default (N=16384, r=8, p=1) is 65,536. Refused in milliseconds: 100 or 5
    /// PEM keys at 1,000,000 (100,000,000 / 5,000,000), 40 PKCS#12 key bags at 1,000,000, PBES1-MD2 at 1,000,000
    /// (20,000,000). Java keystores have no iteration count: their key protection and integrity check are one SHA-1
    /// pass over at most <see cref="MaxInputBytes"/>, so they need no budget.
    /// </summary>
    public const long MaxKdfWorkPerInput = 4_000_000;

    /// <summary>
    /// Most memory scrypt may ask for when reading, 128 * r * (N + p) bytes: 256 MiB, eight times OpenSSL's own default
    /// ceiling (32 MiB) and 16 times what `openssl pkcs8 -scrypt` uses (N=16384, r=8: 16 MiB).
    /// </summary>
    public const long MaxScryptMemoryBytes = 256L * 1024 * 1024;
}
