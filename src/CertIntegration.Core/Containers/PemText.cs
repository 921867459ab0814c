using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using BcPemObject = Org.BouncyCastle.Utilities.IO.Pem.PemObject;
using BcPemReader = Org.BouncyCastle.Utilities.IO.Pem.PemReader;

namespace CertIntegration.Core.Containers;

/// <summary>What one PEM input held.</summary>
internal sealed class PemContents
{
    public List<X509Certificate> Certificates { get; } = new();

    public List<PrivateKeyMaterial> Keys { get; } = new();

    /// <summary>Block labels that were read but are neither certificates nor private keys (CSR, CRL, public key...).</summary>
    public List<string> Skipped { get; } = new();
}

/// <summary>
/// Repairs the ways PEM text gets mangled on its way through JSON, copy and paste, then hands each block to
/// BouncyCastle's PEM readers. The repair step only restores line structure; decoding stays with the library.
/// </summary>
internal static class PemText
{
    // Literal escape sequences left by JSON that was escaped twice, or pasted from a JSON viewer: \n, \\n, \r\n, \\r\\n.
    private static readonly Regex LiteralNewline = new(@"(?:\\+r)?\\+n", RegexOptions.CultureInvariant);

    // An armour line, tolerant about dash counts and spacing so that damage can be named rather than skipped.
    private static readonly Regex ArmourLine = new(
        @"^(?<lead>-+)\s*(?<kind>BEGIN|END)\s+(?<label>[A-Z0-9][A-Z0-9 ]*?)\s*(?<trail>-*)$",
        RegexOptions.CultureInvariant);

    private static readonly Regex ArmourAnywhere = new(
        @"-{3,}\s*(?:BEGIN|END)\s+[A-Z0-9][A-Z0-9 ]*?\s*-{3,}",
        RegexOptions.CultureInvariant);

    // An END line run into the next BEGIN line with no line break: "-----END X----------BEGIN Y-----". Without a split,
    // the END line would take all ten dashes and be reported as damaged.
    private static readonly Regex EndRunIntoBegin = new(
        @"(?<end>END\s+[A-Z0-9][A-Z0-9 ]*?)-{5}(?<rest>-+\s*BEGIN\s)",
        RegexOptions.CultureInvariant);

    public static bool LooksLikePem(string text) => text.IndexOf("-----BEGIN", StringComparison.Ordinal) >= 0
        || text.IndexOf("----BEGIN", StringComparison.Ordinal) >= 0;

    /// <summary>
    /// Restores line structure: literal and real CR/LF variants become LF, every armour line stands alone,
    /// lines are trimmed. Base64 that sits on the BEGIN line (single-line PEM) is moved to its own line.
    /// </summary>
    public static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length + 16);
        foreach ((string line, _) in NormalizeLines(text))
        {
            sb.Append(line).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// The non-empty normalized lines, each with the line of the input it came from (1-based, counted by real line
    /// breaks), so that damage in a file is reported at the line an editor shows.
    /// </summary>
    private static List<(string Text, int Origin)> NormalizeLines(string text)
    {
        if (text.Length > Limits.MaxInputBytes)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"The PEM text is {text.Length} characters long; at most {Limits.MaxInputBytes} are read.");
        }

        var result = new List<(string, int)>();
        string[] realLines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        for (int n = 0; n < realLines.Length; n++)
        {
            string s = LiteralNewline.Replace(realLines[n], "\n");

            // Put every armour line on a line of its own.
            s = EndRunIntoBegin.Replace(s, m => m.Groups["end"].Value + "-----\n" + m.Groups["rest"].Value);
            s = ArmourAnywhere.Replace(s, m => "\n" + m.Value + "\n");
            foreach (string raw in s.Split('\n'))
            {
                string line = raw.Trim().Trim('"', '\'', ',').Trim();
                if (line.Length > 0)
                {
                    result.Add((line, n + 1));
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Reads every block of the (already normalized or raw) text. <paramref name="source"/> names the input in messages,
    /// e.g. "field 'certificate'". <paramref name="password"/> is asked for only when an encrypted key is met.
    /// </summary>
    /// <remarks>
    /// With <paramref name="keyLeftOut"/>, a private-key block that cannot be read (malformed, encrypted without a password
    /// given, unsupported) is handed to it and skipped instead of failing the whole text. A wrong password still fails.
    /// </remarks>
    public static PemContents Read(string text, string source, Func<PasswordChars?>? password = null, Action<CertIntegrationException>? keyLeftOut = null)
    {
        List<(string Text, int Origin)> normalized = NormalizeLines(text);
        var result = new PemContents();
        string[] lines = normalized.Select(l => l.Text).ToArray();

        // Where the text has line breaks, name the input's own line; PEM that arrived on one line (literal \n in
        // JSON) is counted by its repaired lines instead.
        bool byOrigin = normalized.Count > 0 && normalized[normalized.Count - 1].Origin > normalized[0].Origin;
        int LineNo(int index) => byOrigin ? normalized[index].Origin : index + 1;
        int blocks = 0;
        int i = 0;
        var found = new List<(string BlockText, string Label, int Line)>();
        while (i < lines.Length)
        {
            string line = lines[i];
            Match m = ArmourLine.Match(line);
            if (!m.Success)
            {
                i++; // text around blocks (comments, "Bag Attributes", junk) is allowed
                continue;
            }

            int beginLine = LineNo(i);
            CheckArmour(m, line, beginLine, source);
            if (m.Groups["kind"].Value != "BEGIN")
            {
                throw Malformed(source, beginLine, $"an END line ('{line}') has no BEGIN line before it");
            }

            string label = m.Groups["label"].Value;
            int end = -1;
            for (int j = i + 1; j < lines.Length; j++)
            {
                Match e = ArmourLine.Match(lines[j]);
                if (!e.Success)
                {
                    continue;
                }

                CheckArmour(e, lines[j], LineNo(j), source);
                if (e.Groups["kind"].Value == "BEGIN")
                {
                    throw Malformed(source, beginLine, $"the block '{label}' has no END line before the next BEGIN line (line {LineNo(j)})");
                }

                if (e.Groups["label"].Value != label)
                {
                    throw Malformed(source, LineNo(j), $"the block begins as '{label}' but ends as '{e.Groups["label"].Value}'");
                }

                end = j;
                break;
            }

            if (end < 0)
            {
                throw Malformed(source, beginLine, $"the block '{label}' has no END line (the text may be truncated)");
            }

            if (++blocks > Limits.MaxPemBlocks)
            {
                throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                    $"{source} holds more than {Limits.MaxPemBlocks} PEM blocks; the rest was not read.");
            }

            found.Add((string.Join("\n", lines, i, end - i + 1) + "\n", label, beginLine));
            i = end + 1;
        }

        CommitKdfWork(found, source);
        foreach ((string blockText, string label, int beginLine) in found)
        {
            ReadBlock(blockText, label, beginLine, source, password, result, keyLeftOut);
        }

        return result;
    }

    /// <summary>
    /// Adds up what every encrypted PKCS#8 block will cost to decrypt, before the first is decrypted, so that a text
    /// of many keys at high iteration counts fails at once. Blocks that cannot be decoded are named when they are read.
    /// (Legacy "Proc-Type: 4,ENCRYPTED" keys derive with one MD5 pass and cost nothing worth counting.)
    /// </summary>
    private static void CommitKdfWork(List<(string BlockText, string Label, int Line)> blocks, string source)
    {
        var budget = new KdfBudget(source);
        foreach ((string blockText, string label, _) in blocks)
        {
            if (label != "ENCRYPTED PRIVATE KEY")
            {
                continue;
            }

            long cost;
            try
            {
                using var reader = new BcPemReader(new StringReader(blockText));
                BcPemObject? pem = reader.ReadPemObject();
                if (pem is null)
                {
                    continue;
                }

                cost = KdfGuard.Check(EncryptedPrivateKeyInfo.GetInstance(Asn1Guard.Parse(pem.Content, source)).EncryptionAlgorithm, source);
            }
            catch (CertIntegrationException ex) when (ex.ErrorId != ErrorIds.LimitExceeded)
            {
                continue;
            }
            catch (Exception ex) when (ex is IOException or FormatException or ArgumentException or InvalidCastException)
            {
                continue;
            }

            budget.Commit(cost);
        }
    }

    private static void CheckArmour(Match m, string line, int lineNo, string source)
    {
        string kind = m.Groups["kind"].Value;
        int lead = m.Groups["lead"].Length;
        int trail = m.Groups["trail"].Length;
        if (lead != 5 || trail != 5)
        {
            int bad = lead != 5 ? lead : trail;
            string side = lead != 5 ? "before" : "after";
            throw Malformed(source, lineNo,
                $"the {kind} line has {bad} dash{(bad == 1 ? string.Empty : "es")} {side} '{kind} {m.Groups["label"].Value}' instead of 5: '{line}'");
        }
    }

    private static void ReadBlock(string blockText, string label, int lineNo, string source, Func<PasswordChars?>? password, PemContents result, Action<CertIntegrationException>? keyLeftOut)
    {
        BcPemObject pem;
        try
        {
            using var reader = new BcPemReader(new StringReader(blockText));
            pem = reader.ReadPemObject();
        }
        catch (Exception ex) when (ex is IOException or FormatException or ArgumentException)
        {
            throw Malformed(source, lineNo, $"the block '{label}' is not valid Base64 ({Messages.Clause(ex.Message)})");
        }

        if (pem is null)
        {
            throw Malformed(source, lineNo, $"the block '{label}' could not be read");
        }

        switch (label)
        {
            case "CERTIFICATE":
            case "X509 CERTIFICATE":
            case "TRUSTED CERTIFICATE":
                result.Certificates.Add(ParseCertificate(pem.Content, source, lineNo, label));
                break;
            case "PRIVATE KEY":
            case "RSA PRIVATE KEY":
            case "EC PRIVATE KEY":
            case "DSA PRIVATE KEY":
            case "ENCRYPTED PRIVATE KEY":
                try
                {
                    result.Keys.Add(PrivateKeyMaterial.ReadWithoutModulusTest(() => ReadKey(blockText, pem, label, source, lineNo, password)));
                }
                catch (CertIntegrationException ex) when (keyLeftOut is not null && ex.ErrorId is ErrorIds.PrivateKeyMalformed or ErrorIds.PrivateKeyPasswordRequired or ErrorIds.UnsupportedAlgorithm)
                {
                    keyLeftOut(ex);
                }

                break;
            default:
                result.Skipped.Add(label);
                break;
        }
    }

    /// <summary>Parses one DER certificate; for TRUSTED CERTIFICATE the trust data after it is ignored.</summary>
    public static X509Certificate ParseCertificate(byte[] der, string source, int lineNo, string label)
    {
        try
        {
            using var asn1 = new Asn1InputStream(new MemoryStream(der, false), der.Length);
            Asn1Object first = asn1.ReadObject() ?? throw new IOException("empty");
            var cert = new X509Certificate(X509CertificateStructure.GetInstance(first));
            return cert;
        }
        catch (Exception ex) when (ex is not CertIntegrationException)
        {
            throw new CertIntegrationException(ErrorIds.CertificateMalformed, FailureKind.InvalidData,
                $"{Where(source, lineNo)}: the '{label}' block is not a valid X.509 certificate ({UnreadableTime(ex) ?? $"{ex.GetType().Name}: {Messages.Clause(ex.Message)}"}).", ex);
        }
    }

    /// <summary>
    /// What to say when a date inside the certificate cannot be read (BouncyCastle only reports "corrupted stream
    /// detected"): the year 0000 of some test certificates, or digits that are no date. Null for other damage.
    /// </summary>
    private static string? UnreadableTime(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            Type? thrower = e.TargetSite?.DeclaringType;
            if (thrower == typeof(Asn1GeneralizedTime) || thrower == typeof(Asn1UtcTime))
            {
                return $"one of its dates, such as the validity period, is not a valid {(thrower == typeof(Asn1UtcTime) ? "UTCTime" : "GeneralizedTime")}: " +
                    "a year outside 0001 to 9999 or digits that are no date";
            }
        }

        return null;
    }

    private static PrivateKeyMaterial ReadKey(string blockText, BcPemObject pem, string label, string source, int lineNo, Func<PasswordChars?>? password)
    {
        bool legacyEncrypted = false;
        foreach (object h in pem.Headers)
        {
            if (h is Org.BouncyCastle.Utilities.IO.Pem.PemHeader header
                && header.Name.Equals("Proc-Type", StringComparison.OrdinalIgnoreCase)
                && header.Value.IndexOf("ENCRYPTED", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                legacyEncrypted = true;
            }
        }

        try
        {
            if (label == "ENCRYPTED PRIVATE KEY")
            {
                var epki = EncryptedPrivateKeyInfo.GetInstance(Asn1Object.FromByteArray(pem.Content));
                KdfGuard.Check(epki.EncryptionAlgorithm, source);
                using PasswordChars pw = password?.Invoke() ?? throw PasswordRequired(source, label);
                PrivateKeyInfo info;
                char[] schemePassword = PbePassword.For(epki.EncryptionAlgorithm.Algorithm, pw.Chars);
                try
                {
                    info = ScryptPbes2.Uses(epki.EncryptionAlgorithm)
                        ? DecryptScrypt(epki, pw.Chars, source, label)
                        : PrivateKeyInfoFactory.CreatePrivateKeyInfo(schemePassword, epki);
                }
                catch (Exception ex) when (ex is InvalidCipherTextException or IOException or ArgumentException or InvalidCastException or InvalidOperationException)
                {
                    throw PasswordIncorrect(source, label, ex);
                }
                finally
                {
                    PbePassword.Release(schemePassword, pw.Chars);
                }

                // It decrypted to a PrivateKeyInfo, so the password was right: what is wrong now is the key itself.
                return PrivateKeyShape.FromPkcs8(info, Subject(source, lineNo, label));
            }

            if (legacyEncrypted)
            {
                PasswordChars? pw = password?.Invoke() ?? throw PasswordRequired(source, label);
                char[] bytePassword = PbePassword.Utf8AsChars(pw.Chars); // OpenSSL derives legacy PEM keys from the password's bytes
                try
                {
                    using var reader = new PemReader(new StringReader(blockText), new FixedPassword(bytePassword));
                    return FromPemObject(reader.ReadObject(), label, source, lineNo);
                }
                catch (Exception ex) when (ex is InvalidCipherTextException or PemException or IOException or ArgumentException or InvalidCastException)
                {
                    if (ex.Message.IndexOf("unknown", StringComparison.OrdinalIgnoreCase) >= 0 || ex.Message.IndexOf("not supported", StringComparison.OrdinalIgnoreCase) >= 0)
                    {
                        throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                            $"{Where(source, lineNo)}: the '{label}' block uses an encryption this module does not read ({Messages.Clause(ex.Message)}).", ex);
                    }

                    throw PasswordIncorrect(source, label, ex);
                }
                finally
                {
                    Array.Clear(bytePassword, 0, bytePassword.Length);
                    pw.Dispose();
                }
            }

            return PrivateKeyShape.FromPemBlock(label, pem.Content, Subject(source, lineNo, label));
        }
        catch (CertIntegrationException)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new CertIntegrationException(ErrorIds.PrivateKeyMalformed, FailureKind.InvalidData,
                $"{Where(source, lineNo)}: the '{label}' block is not a valid private key ({ex.GetType().Name}).", ex);
        }
    }

    private static PrivateKeyInfo DecryptScrypt(EncryptedPrivateKeyInfo epki, char[] password, string source, string label)
    {
        byte[] plain = ScryptPbes2.Decrypt(epki.EncryptionAlgorithm, epki.GetEncryptedData(), password, source);
        try
        {
            Asn1Guard.Check(plain, source);
            return PrivateKeyInfo.GetInstance(Asn1Object.FromByteArray(plain));
        }
        catch (CertIntegrationException ex) when (ex.ErrorId == ErrorIds.ContainerCorrupt)
        {
            throw PasswordIncorrect(source, label, ex); // the padding happened to fit; the rest is noise
        }
        finally
        {
            Array.Clear(plain, 0, plain.Length);
        }
    }

    private static PrivateKeyMaterial FromPemObject(object? obj, string label, string source, int lineNo) => obj switch
    {
        AsymmetricCipherKeyPair pair => new PrivateKeyMaterial(pair.Private),
        AsymmetricKeyParameter { IsPrivate: true } key => new PrivateKeyMaterial(key),
        _ => throw new CertIntegrationException(ErrorIds.PrivateKeyMalformed, FailureKind.InvalidData,
            $"{Where(source, lineNo)}: the '{label}' block did not contain a private key."),
    };

    private static CertIntegrationException PasswordRequired(string source, string label) =>
        new(ErrorIds.PrivateKeyPasswordRequired, FailureKind.AuthenticationError,
            $"{source}: the '{label}' is encrypted; supply its password (-KeyPassword or -Password).");

    private static CertIntegrationException PasswordIncorrect(string source, string label, Exception ex) =>
        new(ErrorIds.PrivateKeyPasswordIncorrect, FailureKind.AuthenticationError,
            $"{source}: the password for the encrypted '{label}' is wrong (or the key is damaged).", ex);

    private static string Where(string source, int lineNo) => $"{source}, line {lineNo}";

    private static string Subject(string source, int lineNo, string label) => $"{Where(source, lineNo)}: the '{label}' block";

    private static CertIntegrationException Malformed(string source, int lineNo, string what) =>
        new(ErrorIds.PemMalformed, FailureKind.InvalidData, $"Malformed PEM in {Where(source, lineNo)}: {what}.");

    private sealed class FixedPassword : IPasswordFinder
    {
        private readonly char[] _password;

        public FixedPassword(char[] password) => _password = password;

        public char[] GetPassword() => (char[])_password.Clone();
    }
}
