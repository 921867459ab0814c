using System.Diagnostics;
using CertIntegration.TestSupport;
using Org.BouncyCastle.OpenSsl;
using Xunit;

namespace CertIntegration.UnitTests;

public class PemTextTests
{
    private static TestPki Pki => TestPki.Default;

    private static CertIntegrationException Fails(string text, string source = "test") =>
        Assert.Throws<CertIntegrationException>(() => PemText.Read(text, source));

    // ---------------------------------------------------------------- Normalize

    [Theory]
    [InlineData("-----BEGIN X-----\\nQUJD\\n-----END X-----", "literal \\n")]
    [InlineData("-----BEGIN X-----\\\\nQUJD\\\\n-----END X-----", "doubled \\\\n")]
    [InlineData("-----BEGIN X-----\\r\\nQUJD\\r\\n-----END X-----", "literal \\r\\n")]
    [InlineData("-----BEGIN X-----\r\nQUJD\r\n-----END X-----\r\n", "CRLF")]
    [InlineData("-----BEGIN X-----\rQUJD\r-----END X-----", "CR")]
    [InlineData("-----BEGIN X-----QUJD-----END X-----", "one line")]
    [InlineData("  -----BEGIN X-----  \n\t QUJD \n\n   -----END X-----   \n\n", "spaces and blank lines")]
    [InlineData("\"-----BEGIN X-----\\nQUJD\\n-----END X-----\\n\",", "pasted with JSON quotes and comma")]
    public void NormalizeRestoresLineStructure(string input, string what)
    {
        Assert.True(PemText.Normalize(input) == "-----BEGIN X-----\nQUJD\n-----END X-----\n", what + ": " + PemText.Normalize(input));
    }

    [Fact]
    public void NormalizeSplitsEndRunIntoBegin()
    {
        Assert.Equal("-----END A-----\n-----BEGIN B-----\nQUJD\n", PemText.Normalize("-----END A----------BEGIN B-----QUJD"));
        // END with five and BEGIN with four: the BEGIN keeps its damage, so it can be reported.
        Assert.Equal("-----END A-----\n----BEGIN B-----\n", PemText.Normalize("-----END A---------BEGIN B-----"));
    }

    [Fact]
    public void NormalizeKeepsHeadersAndBase64Lines()
    {
        string pem = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nQUJD\n-----END RSA PRIVATE KEY-----\n";
        // The blank line after the headers goes; BouncyCastle's reader does not need it.
        Assert.Equal(pem.Replace("\n\n", "\n"), PemText.Normalize(pem));
    }

    [Fact]
    public void NormalizeRefusesHugeInput()
    {
        var e = Assert.Throws<CertIntegrationException>(() => PemText.Normalize(new string('A', Limits.MaxInputBytes + 1)));
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
    }

    // ---------------------------------------------------------------- Read: good input

    [Fact]
    public void ReadsChainAndKeysWithJunkAround()
    {
        string text = "Bag Attributes\n    friendlyName: x\nsubject=CN=foo\n" + Pki.ChainPem() + "some trailing words\n" + Pki.Leaf.KeyPemPkcs8 + "# comment\n";
        PemContents c = PemText.Read(text, "test");
        Assert.Equal(3, c.Certificates.Count);
        Assert.Equal(Pki.Leaf.Certificate, c.Certificates[0]);
        Assert.Single(c.Keys);
        Assert.True(c.Keys[0].Matches(Pki.Leaf.Certificate));
        Assert.Empty(c.Skipped);
    }

    [Theory]
    [InlineData("X509 CERTIFICATE")]
    [InlineData("TRUSTED CERTIFICATE")]
    public void OtherCertificateLabels(string label)
    {
        string pem = Pki.Root.CertificatePem.Replace("CERTIFICATE", label);
        Assert.Equal(Pki.Root.Certificate, Assert.Single(PemText.Read(pem, "t").Certificates));
    }

    [Fact]
    public void OtherBlocksAreSkippedAndNamed()
    {
        string pub = TestPki.ToPem(Pki.Leaf.Keys.Public);
        PemContents c = PemText.Read(pub + Pki.Root.CertificatePem, "t");
        Assert.Single(c.Certificates);
        Assert.Equal(new[] { "PUBLIC KEY" }, c.Skipped);
        Assert.Empty(c.Keys);
    }

    [Fact]
    public void EmptyOrNoPemGivesNothing()
    {
        Assert.Empty(PemText.Read(string.Empty, "t").Certificates);
        PemContents c = PemText.Read("just words, no armour", "t");
        Assert.Empty(c.Certificates);
        Assert.Empty(c.Keys);
    }

    [Fact]
    public void EcKeyInSec1AndPkcs8()
    {
        Issued ec = TestPki.IssueLeaf("CN=ec unit", Pki.Intermediate, TestPki.KeyKind.EcP256);
        Assert.True(Assert.Single(PemText.Read(ec.KeyPemTraditional, "t").Keys).Matches(ec.Certificate));
        Assert.True(Assert.Single(PemText.Read(ec.KeyPemPkcs8, "t").Keys).Matches(ec.Certificate));
        Assert.Equal("EC", PemText.Read(ec.KeyPemPkcs8, "t").Keys[0].Algorithm);
    }

    [Fact]
    public void EncryptedPkcs8NeedsItsPassword()
    {
        var gen = new Pkcs8Generator(Pki.Leaf.Keys.Private, Pkcs8Generator.PbeWithShaAnd3KeyTripleDesCbc) { Password = "pw".ToCharArray(), IterationCount = 2048 };
        string pem = TestPki.ToPem(gen.Generate());
        Assert.Contains("ENCRYPTED PRIVATE KEY", pem);

        var none = Assert.Throws<CertIntegrationException>(() => PemText.Read(pem, "t"));
        Assert.Equal(ErrorIds.PrivateKeyPasswordRequired, none.ErrorId);

        var wrong = Assert.Throws<CertIntegrationException>(() => PemText.Read(pem, "t", () => PasswordChars.FromChars("nope".ToCharArray())));
        Assert.Equal(ErrorIds.PrivateKeyPasswordIncorrect, wrong.ErrorId);

        PemContents ok = PemText.Read(pem, "t", () => PasswordChars.FromChars("pw".ToCharArray()));
        Assert.True(Assert.Single(ok.Keys).Matches(Pki.Leaf.Certificate));
    }

    [Fact]
    public void LegacyEncryptedKeyNeedsItsPassword()
    {
        var sw = new StringWriter();
        var w = new PemWriter(sw);
        w.WriteObject(new MiscPemGenerator(Pki.Leaf.Keys.Private, "AES-256-CBC", "pw".ToCharArray(), new Org.BouncyCastle.Security.SecureRandom()));
        w.Writer.Flush();
        string pem = sw.ToString();
        Assert.Contains("Proc-Type: 4,ENCRYPTED", pem);

        Assert.Equal(ErrorIds.PrivateKeyPasswordRequired, Assert.Throws<CertIntegrationException>(() => PemText.Read(pem, "t")).ErrorId);
        var wrong = Assert.Throws<CertIntegrationException>(() => PemText.Read(pem, "t", () => PasswordChars.FromChars("nope".ToCharArray())));
        Assert.Equal(ErrorIds.PrivateKeyPasswordIncorrect, wrong.ErrorId);
        PemContents ok = PemText.Read(pem.Replace("\n", "\\n"), "t", () => PasswordChars.FromChars("pw".ToCharArray()));
        Assert.True(Assert.Single(ok.Keys).Matches(Pki.Leaf.Certificate));
    }

    // ---------------------------------------------------------------- Read: damage named precisely

    [Fact]
    public void FourDashBeginIsNamedWithItsLine()
    {
        string text = Pki.Leaf.CertificatePem + Pki.Root.CertificatePem.Replace("-----BEGIN CERTIFICATE-----", "----BEGIN CERTIFICATE-----");
        int line = Pki.Leaf.CertificatePem.TrimEnd('\n').Split('\n').Length + 1;
        var e = Fails(text, "field 'certificate'");
        Assert.Equal(ErrorIds.PemMalformed, e.ErrorId);
        Assert.Contains($"field 'certificate', line {line}:", e.Message);
        Assert.Contains("BEGIN line has 4 dashes before 'BEGIN CERTIFICATE'", e.Message);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void LineNumbersAreTheInputsOwnLinesWhenItHasLineBreaks(string nl)
    {
        // Junk, blank lines and a block before the damage: the line named is the one an editor shows.
        string text = "Bag Attributes\n\n    friendlyName: x\n\n" + Pki.Leaf.CertificatePem + "\n\n"
            + Pki.Root.CertificatePem.Replace("-----BEGIN CERTIFICATE-----", "----BEGIN CERTIFICATE-----");
        string[] fileLines = text.Split('\n');
        int expected = Array.FindIndex(fileLines, l => l.StartsWith("----BEGIN", StringComparison.Ordinal)) + 1;
        var e = Fails(text.Replace("\n", nl), "file.pem");
        Assert.Contains($"file.pem, line {expected}:", e.Message);

        string noEnd = "x\n\n" + Pki.Root.CertificatePem.Replace("-----END CERTIFICATE-----", "-----END CERTIFICATE----");
        int endLine = noEnd.TrimEnd('\n').Split('\n').Length;
        Assert.Contains($"file.pem, line {endLine}:", Fails(noEnd.Replace("\n", nl), "file.pem").Message);
    }

    [Fact]
    public void LineNumbersCountRepairedLinesWhenThePemCameOnOneLine()
    {
        string text = (Pki.Leaf.CertificatePem + Pki.Root.CertificatePem.Replace("-----BEGIN CERTIFICATE-----", "----BEGIN CERTIFICATE-----")).Replace("\n", "\\n");
        Assert.DoesNotContain("\n", text);
        int expected = Pki.Leaf.CertificatePem.TrimEnd('\n').Split('\n').Length + 1;
        Assert.Contains($"field, line {expected}:", Fails(text, "field").Message);
    }

    [Theory]
    [InlineData("-----BEGIN CERTIFICATE----", "4 dashes after")]
    [InlineData("------BEGIN CERTIFICATE-----", "6 dashes before")]
    [InlineData("-----END CERTIFICATE---", "3 dashes after")]
    public void WrongDashCountsAreNamed(string line, string expected)
    {
        string pem = Pki.Root.CertificatePem;
        string damaged = line.Contains("BEGIN") ? pem.Replace("-----BEGIN CERTIFICATE-----", line) : pem.Replace("-----END CERTIFICATE-----", line);
        var e = Fails(damaged);
        Assert.Equal(ErrorIds.PemMalformed, e.ErrorId);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void StructuralDamageIsNamed()
    {
        string pem = Pki.Root.CertificatePem;
        Assert.Contains("has no END line", Fails(pem.Replace("-----END CERTIFICATE-----", string.Empty)).Message);
        Assert.Contains("has no END line before the next BEGIN line", Fails(pem.Replace("-----END CERTIFICATE-----", string.Empty) + pem).Message);
        Assert.Contains("has no BEGIN line before it", Fails(pem.Replace("-----BEGIN CERTIFICATE-----", string.Empty)).Message);
        Assert.Contains("begins as 'CERTIFICATE' but ends as 'PRIVATE KEY'", Fails(pem.Replace("END CERTIFICATE", "END PRIVATE KEY")).Message);
    }

    [Fact]
    public void InvalidBase64AndInvalidDerAreDifferentErrors()
    {
        string[] lines = Pki.Root.CertificatePem.Split('\n');
        lines[2] = "****" + lines[2].Substring(4);
        var b64 = Fails(string.Join("\n", lines));
        Assert.Contains(b64.ErrorId, new[] { ErrorIds.PemMalformed, ErrorIds.CertificateMalformed });

        string notDer = "-----BEGIN CERTIFICATE-----\nQUJDREVGR0g=\n-----END CERTIFICATE-----\n";
        Assert.Equal(ErrorIds.CertificateMalformed, Fails(notDer).ErrorId);

        string notKey = "-----BEGIN PRIVATE KEY-----\nQUJDREVGR0g=\n-----END PRIVATE KEY-----\n";
        Assert.Equal(ErrorIds.PrivateKeyMalformed, Fails(notKey).ErrorId);
    }

    [Fact]
    public void TooManyBlocksAreRefused()
    {
        string block = "-----BEGIN FOO-----\nQUJD\n-----END FOO-----\n";
        var sw = Stopwatch.StartNew();
        var e = Fails(string.Concat(Enumerable.Repeat(block, Limits.MaxPemBlocks + 1)));
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), sw.Elapsed.ToString());
    }

    [Fact]
    public void ErrorsNeverQuoteKeyMaterial()
    {
        string key = Pki.Leaf.KeyPemTraditional;
        string[] lines = key.Split('\n');
        string[] damaged =
        {
            key.Replace("-----END RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY----"),
            key.Replace("-----BEGIN RSA PRIVATE KEY-----", "----BEGIN RSA PRIVATE KEY-----"),
            string.Join("\n", lines.Select((l, i) => i == 3 ? l.Substring(0, 20) + "%%" + l.Substring(22) : l)),
            string.Join("\n", lines.Take(6)) + "\n" + lines[^2] + "\n",
        };
        foreach (string d in damaged)
        {
            var e = Fails(d);
            string all = e.ToString();
            foreach (string body in lines.Where(l => l.Length == 64))
            {
                Assert.DoesNotContain(body.Substring(10, 30), all);
            }
        }
    }

    // ---------------------------------------------------------------- outside-written corpora

    [SkippableTheory]
    [InlineData("golang-go/encoding-pem/bad_too_few_ending_dashes.pem", "4 dashes after")]
    [InlineData("golang-go/encoding-pem/bad_too_many_ending_dashes.pem", "6 dashes after")]
    [InlineData("golang-go/encoding-pem/bad_wrong_ending_type.pem", "ends as 'BAR'")]
    [InlineData("golang-go/encoding-pem/bad_missing_ending_space.pem", "has no END line")]
    public void GoCorpusBadArmourIsPemMalformed(string file, string expected)
    {
        Skip.If(Repo.Corpora is null, "../shared/corpora is not present");
        var e = Fails(File.ReadAllText(Path.Combine(Repo.Corpora!, file)), file);
        Assert.Equal(ErrorIds.PemMalformed, e.ErrorId);
        Assert.Contains(expected, e.Message);
    }

    [SkippableFact]
    public void PycaCorpusOldHeaderAndGarbage()
    {
        Skip.If(Repo.Corpora is null, "../shared/corpora is not present");
        string dir = Path.Combine(Repo.Corpora!, "pyca-cryptography", "x509");
        Assert.Single(PemText.Read(File.ReadAllText(Path.Combine(dir, "cryptography.io.old_header.pem")), "t").Certificates);

        // Decoy "PRIVATE KEY" blocks whose body is not a key: reported with their line rather than skipped, so a
        // damaged key next to a certificate is never mistaken for "no key".
        var e = Assert.Throws<CertIntegrationException>(() => PemText.Read(File.ReadAllText(Path.Combine(dir, "cryptography.io.with_garbage.pem")), "garbage.pem"));
        Assert.Equal(ErrorIds.PrivateKeyMalformed, e.ErrorId);
        Assert.Contains("garbage.pem, line 3:", e.Message);
        e = Assert.Throws<CertIntegrationException>(() => PemText.Read(File.ReadAllText(Path.Combine(dir, "cryptography.io.chain_with_garbage.pem")), "chain.pem"));
        Assert.Equal(ErrorIds.PrivateKeyMalformed, e.ErrorId);
    }

    [SkippableFact]
    public void PycaCorpusZeroIterationKeyIsRefusedBeforeDecrypting()
    {
        Skip.If(Repo.Corpora is null, "../shared/corpora is not present");
        string pem = File.ReadAllText(Path.Combine(Repo.Corpora!, "pyca-cryptography", "PKCS8", "enc-rsa-pkcs8-pbkdf2-0iter.pem"));
        bool asked = false;
        var e = Assert.Throws<CertIntegrationException>(() => PemText.Read(pem, "t", () =>
        {
            asked = true;
            return PasswordChars.FromChars("x".ToCharArray());
        }));
        Assert.Equal(ErrorIds.LimitExceeded, e.ErrorId);
        Assert.Contains("not a positive number", e.Message);
        Assert.False(asked, "the password was asked for before the parameters were checked");
    }
}
