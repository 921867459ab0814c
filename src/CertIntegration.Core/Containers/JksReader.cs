using System;
using System.Collections.Generic;
using System.IO;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Containers;

/// <summary>
/// Reads Java keystores (JKS) with BouncyCastle's <see cref="JksStore"/>, after walking the file's layout here so that
/// every length field is checked against the bytes that remain (the store would otherwise allocate what a crafted
/// length asks for) and every embedded certificate passes <see cref="Asn1Guard"/>. The store's SHA-1 integrity
/// check is bounded by the file size.
/// </summary>
internal static class JksReader
{
    public const uint JksMagic = 0xFEEDFEED;
    public const uint JceksMagic = 0xCECECECE;

    /// <summary>Most entries read from one keystore.</summary>
    public const int MaxEntries = 10_000;

    public static bool IsJks(byte[] bytes) => bytes.Length >= 4 && ReadUInt32(bytes, 0) == JksMagic;

    public static bool IsJceks(byte[] bytes) => bytes.Length >= 4 && ReadUInt32(bytes, 0) == JceksMagic;

    public static ContainerContents Read(byte[] bytes, string source, char[]? password, Action<string>? verbose, Action<string>? warning = null)
    {
        CheckLayout(bytes, source);
        var store = new JksStore();
        try
        {
            using var ms = new MemoryStream(bytes, false);
            store.Load(ms, password);
        }
        catch (IOException ex) when (password is not null && ex.Message.IndexOf("password", StringComparison.OrdinalIgnoreCase) >= 0)
        {
            throw new CertIntegrationException(ErrorIds.KeyStorePasswordIncorrect, FailureKind.AuthenticationError,
                $"{source}: wrong password for the Java keystore (its integrity check does not match; either the password is wrong or the file is corrupted).", ex);
        }
        catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex))
        {
            throw Asn1Guard.Corrupt(source, $"the Java keystore is invalid ({Messages.Clause(ex.Message)})", ex);
        }

        if (password is null)
        {
            // Its certificates are readable without the password, but nothing proves the file is the one its owner saved.
            (warning ?? verbose)?.Invoke($"{source}: the Java keystore was read without its password, so its integrity was not checked; give -Password to check it.");
        }
        else
        {
            verbose?.Invoke($"{source}: Java keystore integrity check passed.");
        }

        var certs = new List<BcX509>();
        var keys = new List<PrivateKeyMaterial>();
        var names = new List<KeyValuePair<BcX509, string>>();
        foreach (string alias in store.Aliases)
        {
            if (store.IsKeyEntry(alias))
            {
                if (password is null)
                {
                    throw new CertIntegrationException(ErrorIds.KeyStorePasswordRequired, FailureKind.AuthenticationError,
                        $"{source}: the Java keystore holds a private key (alias '{alias}'); give the keystore password with -Password.");
                }

                AsymmetricKeyParameter? key;
                try
                {
                    key = store.GetKey(alias, password);
                }
                catch (IOException ex) when (ex.Message.IndexOf("recover", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    throw new CertIntegrationException(ErrorIds.KeyStorePasswordIncorrect, FailureKind.AuthenticationError,
                        $"{source}: the private key with alias '{alias}' is protected by a password different from the keystore password; " +
                        "re-save it with one password (keytool -keypasswd) or convert the keystore to PKCS#12.", ex);
                }
                catch (IOException ex) when (ex.Message.IndexOf("unknown", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                        $"{source}: the private key with alias '{alias}' uses a key protection algorithm other than the JKS one ({Messages.Clause(ex.Message)}).", ex);
                }
                catch (Exception ex) when (ex is SecurityUtilityException)
                {
                    throw new CertIntegrationException(ErrorIds.UnsupportedAlgorithm, FailureKind.NotImplemented,
                        $"{source}: the private key with alias '{alias}' uses an unsupported algorithm ({Messages.Clause(ex.Message)}).", ex);
                }
                catch (Exception ex) when (Pkcs12Reader.IsFormatError(ex))
                {
                    throw new CertIntegrationException(ErrorIds.PrivateKeyMalformed, FailureKind.InvalidData,
                        $"{source}: the private key with alias '{alias}' is malformed ({ex.GetType().Name}).", ex);
                }

                if (key is not null)
                {
                    keys.Add(new PrivateKeyMaterial(key));
                }

                BcX509[]? chain = store.GetCertificateChain(alias);
                if (chain is not null)
                {
                    certs.AddRange(chain);
                    if (chain.Length > 0)
                    {
                        names.Add(new KeyValuePair<BcX509, string>(chain[0], alias));
                    }
                }
            }
            else if (store.GetCertificate(alias) is { } cert)
            {
                certs.Add(cert);
                names.Add(new KeyValuePair<BcX509, string>(cert, alias));
            }
        }

        var contents = new ContainerContents("JKS", certs, keys);
        foreach (KeyValuePair<BcX509, string> n in names)
        {
            contents.Name(n.Key, n.Value);
        }

        return contents;
    }

    /// <summary>Walks magic, version, entries and the trailing 20-byte digest, checking every length before use.</summary>
    private static void CheckLayout(byte[] b, string source)
    {
        int pos = 0;
        uint magic = U32(b, ref pos, source);
        uint version = U32(b, ref pos, source);
        if (magic != JksMagic || (version != 1 && version != 2))
        {
            throw Asn1Guard.Corrupt(source, $"the Java keystore has version {version}; versions 1 and 2 are read");
        }

        uint count = U32(b, ref pos, source);
        if (count > MaxEntries)
        {
            throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                $"{source}: the Java keystore claims {count} entries; at most {MaxEntries} are read.");
        }

        for (uint i = 0; i < count; i++)
        {
            uint tag = U32(b, ref pos, source);
            Skip(b, ref pos, U16(b, ref pos, source), source); // alias
            Date(b, ref pos, source);
            if (tag == 1)
            {
                Skip(b, ref pos, U32(b, ref pos, source), source); // protected key
                uint chain = U32(b, ref pos, source);
                if (chain > Limits.MaxPemBlocks)
                {
                    throw new CertIntegrationException(ErrorIds.LimitExceeded, FailureKind.LimitsExceeded,
                        $"{source}: a Java keystore entry claims a chain of {chain} certificates.");
                }

                for (uint c = 0; c < chain; c++)
                {
                    Certificate(b, ref pos, version, source);
                }
            }
            else if (tag == 2)
            {
                Certificate(b, ref pos, version, source);
            }
            else
            {
                throw Asn1Guard.Corrupt(source, $"a Java keystore entry has the unknown type {tag}");
            }
        }

        if (b.Length - pos != 20)
        {
            throw Asn1Guard.Corrupt(source, $"the Java keystore has {b.Length - pos} bytes after its entries where a 20-byte digest belongs");
        }
    }

    private static void Certificate(byte[] b, ref int pos, uint version, string source)
    {
        if (version == 2)
        {
            Skip(b, ref pos, U16(b, ref pos, source), source); // "X.509"
        }

        uint len = U32(b, ref pos, source);
        int start = pos;
        Skip(b, ref pos, len, source);
        if (len > 0)
        {
            Asn1Guard.Check(b, start, start + (int)len, source);
        }
    }

    /// <summary>
    /// An entry's creation date, milliseconds since 1970 as a signed 64-bit number: BouncyCastle turns it into a
    /// DateTime and fails with an ArgumentOutOfRangeException outside the years 0001 to 9999.
    /// </summary>
    private static void Date(byte[] b, ref int pos, string source)
    {
        long ms = ((long)U32(b, ref pos, source) << 32) | U32(b, ref pos, source);
        if (ms < MinDateMs || ms > MaxDateMs)
        {
            throw Asn1Guard.Corrupt(source, $"a Java keystore entry's creation date ({ms} ms since 1970) is outside the years 0001 to 9999");
        }
    }

    private const long MinDateMs = -62_135_596_800_000; // 0001-01-01

    private const long MaxDateMs = 253_402_300_799_999; // 9999-12-31 23:59:59.999

    private static void Skip(byte[] b, ref int pos, uint n, string source)
    {
        if (n > (uint)(b.Length - pos))
        {
            throw Asn1Guard.Corrupt(source, $"a Java keystore field claims {n} bytes but only {b.Length - pos} remain (truncated file?)");
        }

        pos += (int)n;
    }

    private static uint U32(byte[] b, ref int pos, string source)
    {
        if (b.Length - pos < 4)
        {
            throw Asn1Guard.Corrupt(source, "the Java keystore ends early (truncated file?)");
        }

        uint v = ReadUInt32(b, pos);
        pos += 4;
        return v;
    }

    private static uint U16(byte[] b, ref int pos, string source)
    {
        if (b.Length - pos < 2)
        {
            throw Asn1Guard.Corrupt(source, "the Java keystore ends early (truncated file?)");
        }

        uint v = (uint)((b[pos] << 8) | b[pos + 1]);
        pos += 2;
        return v;
    }

    private static uint ReadUInt32(byte[] b, int pos) => (uint)((b[pos] << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]);
}
