using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>
/// The inputs mutation fuzzing found (../shared/fuzz-finds, password fuzzpw1) and two corpus decisions, through
/// <see cref="ContainerReader"/>: each gives its categorised error within milliseconds, with a short message, or is read.
/// </summary>
[Collection(Timing.Collection)]
public class FuzzFindTests
{
    public static TheoryData<string, string> Expected => new()
    {
        { "crash-nre-emptykey-cert.der", ErrorIds.CertificateMalformed },
        { "crash-nre-emptykey-cert.pem", ErrorIds.CertificateMalformed },
        { "crash-nre-pkcs12-fuzz.pfx", ErrorIds.CertificateMalformed },
        { "hang-bigint-mac-iter-160KB.pfx", ErrorIds.LimitExceeded },
        { "slow-bigint-mac-iter-40KB.pfx", ErrorIds.LimitExceeded },
        { "slow-bigint-pk8-iter-40KB.pem", ErrorIds.LimitExceeded },
        { "hang-pem-100x-enc1m.pem", ErrorIds.LimitExceeded },
        { "slow-pem-5x-enc1m.pem", ErrorIds.LimitExceeded },
        { "slow-pkcs12-40keybags-1m.pfx", ErrorIds.LimitExceeded },
        { "slow-pbes1-md2-1m.pem", ErrorIds.LimitExceeded },
        { "wrongid-scrypt-pk8.pem", "OK" },
        { "debug-prompt-chain+encpk8.pem", "OK" },
    };

    [SkippableTheory]
    [MemberData(nameof(Expected))]
    public void FuzzFindFailsFastWithItsIdOrIsRead(string file, string expected)
    {
        Skip.If(Repo.FuzzFinds is null, "../shared/fuzz-finds is absent");
        ContainerCorpusTests.Outcome o = default!;
        TimeSpan elapsed = Timing.Fastest(TimeSpan.FromSeconds(2), () => o = ContainerCorpusTests.Read(Repo.FuzzFinds!, file, Repo.FuzzPassword));
        if (expected == "OK")
        {
            Assert.True(o.Bundles is not null, o.ToString());
            Assert.True(Assert.Single(o.Bundles!).HasPrivateKey);
        }
        else
        {
            Assert.Equal((file, expected), (file, o.ErrorId));
            Assert.True(o.Error!.Message.Length < 300, $"{o.Error.Message.Length} characters: {o.Error.Message[..Math.Min(300, o.Error.Message.Length)]}");
        }

        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"{file} took {elapsed.TotalMilliseconds:F0} ms of CPU time at best of three runs");
    }

    [SkippableFact]
    public void EmptyRsaKeyMessageSaysWhatIsWrong()
    {
        Skip.If(Repo.FuzzFinds is null, "../shared/fuzz-finds is absent");
        ContainerCorpusTests.Outcome o = ContainerCorpusTests.Read(Repo.FuzzFinds!, "crash-nre-emptykey-cert.pem", null);
        Assert.Contains("RSA public key is empty", o.Error?.Message);
    }

    [SkippableFact]
    public void OneCertificateBesideUnrelatedKeysComesBackWithAWarning()
    {
        // bc-csharp openssl/test.pem: one certificate and three keys of other certificates (password "secret").
        Skip.If(Repo.Corpora is null, "../shared/corpora is absent");
        var warnings = new List<string>();
        string path = Path.Combine(Repo.Corpora!, "bc-csharp", "files", "openssl", "test.pem");
        IReadOnlyList<CertificateBundle> bundles = ContainerReader.ReadFile(path, new System.Net.NetworkCredential(string.Empty, "secret").SecurePassword, null, warnings.Add);
        CertificateBundle b = Assert.Single(bundles);
        Assert.False(b.HasPrivateKey);
        Assert.Contains(warnings, w => w.Contains("3 private key(s) that belong to none of its certificates", StringComparison.Ordinal) && w.Contains(ErrorIds.KeyCertificateMismatch, StringComparison.Ordinal));
    }

    [SkippableFact]
    public void CertificateWithTheYearZeroSaysItsDateCannotBeRead()
    {
        // BoringSSL's pss_*.pem test certificates are valid from the year 0000, which .NET and BouncyCastle cannot hold.
        Skip.If(Repo.Corpora is null, "../shared/corpora is absent");
        ContainerCorpusTests.Outcome o = ContainerCorpusTests.Read(Repo.Corpora!, "boringssl/x509/test/pss_sha256.pem", null);
        Assert.Equal(ErrorIds.CertificateMalformed, o.ErrorId);
        Assert.Contains("not a valid GeneralizedTime", o.Error!.Message);
        Assert.DoesNotContain("corrupted stream", o.Error.Message);
    }
}
