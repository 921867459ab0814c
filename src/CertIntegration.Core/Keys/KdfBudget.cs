namespace CertIntegration.Core.Keys;

/// <summary>
/// The key-derivation work one input may cost (<see cref="Limits.MaxKdfWorkPerInput"/>). Readers commit the cost
/// <see cref="KdfGuard"/> computes for every derivation they will run, all they can see before the first one, so a
/// file that declares too much fails before any work is done; what only shows later (key bags inside an encrypted
/// PKCS#12 safe, a second encoding of the empty password) is committed before it runs.
/// </summary>
internal sealed class KdfBudget
{
    private readonly string _source;
    private long _committed;

    public KdfBudget(string source) => _source = source;

    public void Commit(long units)
    {
        _committed += units;
        if (_committed > Limits.MaxKdfWorkPerInput)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"{_source}: decrypting it would take at least {_committed} units of key-derivation work (1 unit = 1 PBKDF2-SHA256 iteration; " +
                $"SHA-512 counts 2, MD2 20); at most {Limits.MaxKdfWorkPerInput} are spent on one input, so it was not decrypted.");
        }
    }
}
