using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Security;
using BcX509 = Org.BouncyCastle.X509.X509Certificate;

namespace CertIntegration.Core.Keystores;

/// <summary>What one keystore entry is.</summary>
internal enum KeystoreEntryKind
{
    /// <summary>A private key with its certificate chain (keytool: PrivateKeyEntry).</summary>
    Key,

    /// <summary>A certificate without a key (keytool: trustedCertEntry).</summary>
    TrustedCertificate,
}

/// <summary>One entry of a keystore to be written.</summary>
internal sealed class KeystoreEntry
{
    public KeystoreEntry(KeystoreEntryKind kind, IReadOnlyList<X509Certificate2> chain, PrivateKeyMaterial? key, int input)
    {
        Kind = kind;
        Chain = chain;
        Key = key;
        Input = input;
    }

    public KeystoreEntryKind Kind { get; }

    /// <summary>The certificate (a trusted entry has one; a key entry its leaf first, then its issuers).</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    public X509Certificate2 Certificate => Chain[0];

    public PrivateKeyMaterial? Key { get; }

    /// <summary>The input (0-based) the entry came from.</summary>
    public int Input { get; }

    public string Alias { get; internal set; } = string.Empty;

    /// <summary>True when the alias was made from the subject, not given or kept from the container.</summary>
    public bool AliasDerived { get; internal set; }

    public string Describe() => Kind == KeystoreEntryKind.Key
        ? $"key entry '{Alias}' ({Certificate.Subject}, chain of {Chain.Count})"
        : $"trusted certificate '{Alias}' ({Certificate.Subject})";
}

/// <summary>One input of a keystore: a bundle (with or without key) and the alias given for it, if any.</summary>
internal sealed class KeystoreInput
{
    public KeystoreInput(CertificateBundle bundle, string? alias, object? target)
    {
        Bundle = bundle;
        Alias = alias;
        Target = target;
    }

    public CertificateBundle Bundle { get; }

    public string? Alias { get; }

    public object? Target { get; }
}

/// <summary>
/// Turns inputs into keystore entries and the entries into a JKS or PKCS#12 file. A bundle with a key becomes a key
/// entry with its chain; a bundle without one becomes a trusted-certificate entry per certificate of its chain. The
/// alias of an input's leaf is the one given (-Alias), else the one its container gave it (JKS alias, PKCS#12
/// friendlyName), else made from its common name; the CA certificates of a chain without key are named after their
/// common names. Given and kept aliases are checked against the tenant's rules (<see cref="TenantKeystore"/>) and
/// must be unique ignoring case (JKS aliases are case-insensitive); made ones are fitted around them, with the first
/// 8 hex digits of the thumbprint when a name is taken. The same certificate reached twice as the same kind of entry
/// is one entry.
/// </summary>
internal static class KeystoreBuilder
{
    /// <summary>
    /// The entries of <paramref name="inputs"/>, in input order. A failing input is handed to <paramref name="fail"/>
    /// with its target and contributes no entry (<paramref name="fail"/> may rethrow to stop).
    /// </summary>
    public static List<KeystoreEntry> Plan(
        IReadOnlyList<KeystoreInput> inputs,
        KeystoreFormat format,
        Action<Exception, object?> fail,
        Action<string>? verbose = null,
        Action<string>? warning = null)
    {
        var entries = new List<KeystoreEntry>();
        var taken = new Dictionary<string, KeystoreEntry>(StringComparer.OrdinalIgnoreCase);
        var seen = new Dictionary<string, KeystoreEntry>(StringComparer.Ordinal);

        // First the aliases given or kept (they are what the user asked for), then the made ones fitted around them.
        for (int n = 0; n < inputs.Count; n++)
        {
            KeystoreInput input = inputs[n];
            try
            {
                var pending = new List<(KeystoreEntry Entry, string? Alias)>();
                CertificateBundle bundle = input.Bundle;
                string? explicitAlias = input.Alias ?? bundle.Alias;
                string what = input.Alias is not null ? "-Alias" : "the name the keystore or PKCS#12 file gave it";
                if (explicitAlias is not null)
                {
                    TenantKeystore.CheckAlias(explicitAlias, what);
                }

                if (bundle.HasPrivateKey)
                {
                    PrivateKeyMaterial key = KeyOf(bundle);
                    PrivateKeyMaterial.EnsureMatches(key, bundle.Certificate);
                    pending.Add((new KeystoreEntry(KeystoreEntryKind.Key, bundle.Chain, key, n), explicitAlias));
                }
                else
                {
                    X509Certificate2[] chain = bundle.Chain;
                    for (int i = 0; i < chain.Length; i++)
                    {
                        pending.Add((new KeystoreEntry(KeystoreEntryKind.TrustedCertificate, new[] { chain[i] }, null, n), i == 0 ? explicitAlias : null));
                    }
                }

                var names = new Dictionary<string, KeystoreEntry>(StringComparer.OrdinalIgnoreCase);
                var accepted = new List<(KeystoreEntry Entry, string? Alias)>();
                foreach ((KeystoreEntry entry, string? alias) in pending)
                {
                    string identity = Identity(entry);
                    if (seen.TryGetValue(identity, out KeystoreEntry? earlier) || accepted.Any(a => Identity(a.Entry) == identity))
                    {
                        string where = earlier is { Alias.Length: > 0 } ? $" as '{earlier.Alias}'" : string.Empty;
                        string text = $"'{entry.Certificate.Subject}' is already in the keystore{where}; it is written once.";
                        if (alias is not null && earlier is { Alias.Length: > 0 } && !string.Equals(alias, earlier.Alias, StringComparison.OrdinalIgnoreCase))
                        {
                            warning?.Invoke(text + $" The alias '{alias}' is not used.");
                        }
                        else
                        {
                            verbose?.Invoke(text);
                        }

                        continue;
                    }

                    if (alias is not null)
                    {
                        string final = format == KeystoreFormat.Jks ? alias.ToLowerInvariant() : alias;
                        if (taken.TryGetValue(final, out KeystoreEntry? owner) || names.TryGetValue(final, out owner))
                        {
                            throw new CertIntegrationException(ErrorIds.KeystoreAliasDuplicate, FailureKind.InvalidArgument,
                                $"The alias '{alias}' of '{entry.Certificate.Subject}' is already taken by '{owner.Certificate.Subject}' (aliases compare ignoring case, as in a JKS). Give each entry its own alias with -Alias.");
                        }

                        if (!string.Equals(final, alias, StringComparison.Ordinal))
                        {
                            verbose?.Invoke($"A Java keystore keeps aliases in lowercase: '{alias}' is written as '{final}'.");
                        }

                        names[final] = entry;
                        accepted.Add((entry, final));
                    }
                    else
                    {
                        accepted.Add((entry, null));
                    }
                }

                foreach ((KeystoreEntry entry, string? alias) in accepted)
                {
                    if (alias is not null)
                    {
                        entry.Alias = alias;
                        taken[alias] = entry;
                    }

                    seen[Identity(entry)] = entry;
                    entries.Add(entry);
                }
            }
            catch (Exception ex)
            {
                // The caller reports it as the input's error (an unforeseen one as UnexpectedError) and goes on.
                fail(ex, input.Target);
            }
        }

        foreach (KeystoreEntry entry in entries.Where(e => e.Alias.Length == 0))
        {
            entry.Alias = MadeAlias(entry.Certificate, taken);
            entry.AliasDerived = true;
            taken[entry.Alias] = entry;
        }

        return entries;
    }

    /// <summary>The keystore file of <paramref name="entries"/> under one password (store and every key alike).</summary>
    public static byte[] Build(IReadOnlyList<KeystoreEntry> entries, KeystoreFormat format, char[] password)
    {
        if (entries.Count == 0)
        {
            throw new ArgumentException("The keystore has no entries.", nameof(entries));
        }

        if (format == KeystoreFormat.Pkcs12)
        {
            // TripleDesSha1: the profile Java 8, Windows and STRUST all read, as New-PfxFromPem's default.
            return Pkcs12Writer.BuildStore(
                entries.Where(e => e.Kind == KeystoreEntryKind.Key).Select(e => new Pkcs12KeyEntry(e.Alias, e.Key!, e.Chain.Select(Bc).ToList())).ToList(),
                entries.Where(e => e.Kind == KeystoreEntryKind.TrustedCertificate).Select(e => new Pkcs12TrustedEntry(e.Alias, Bc(e.Certificate))).ToList(),
                password,
                PfxEncryption.TripleDesSha1);
        }

        var store = new JksStore();
        foreach (KeystoreEntry e in entries)
        {
            if (e.Kind == KeystoreEntryKind.Key)
            {
                // The key is protected with the store password: the Keystore Monitor expects one password for both.
                store.SetKeyEntry(e.Alias, e.Key!.Key, password, e.Chain.Select(Bc).ToArray());
            }
            else
            {
                store.SetCertificateEntry(e.Alias, Bc(e.Certificate));
            }
        }

        using var ms = new MemoryStream();
        store.Save(ms, password);
        return ms.ToArray();
    }

    /// <summary>Warnings for a keystore of <paramref name="size"/> bytes beyond what the tenant uploads.</summary>
    public static IEnumerable<string> SizeWarnings(long size, KeystoreFormat format, string path)
    {
        if (format == KeystoreFormat.Jks && size > TenantKeystore.MaxJksUploadBytes)
        {
            yield return $"The keystore '{path}' is {size:N0} bytes; the tenant's Keystore Monitor uploads a whole .jks file of at most 2 MB " +
                $"({TenantKeystore.MaxJksUploadBytes:N0} bytes here; {TenantKeystore.LimitsSource}). Split the entries over several keystores and upload them with the Add action.";
        }

        if (size > TenantKeystore.MaxKeystoreBytes)
        {
            yield return $"The keystore '{path}' is {size:N0} bytes; the tenant keystore holds at most 6 MB in all " +
                $"({TenantKeystore.MaxKeystoreBytes:N0} bytes here; {TenantKeystore.LimitsSource}), so it cannot take these entries.";
        }
    }

    private static PrivateKeyMaterial KeyOf(CertificateBundle bundle)
    {
        if (bundle.Key is { } key)
        {
            return key;
        }

        throw new CertIntegrationException(ErrorIds.PrivateKeyNotExportable, FailureKind.PermissionDenied,
            $"The private key of '{bundle.Subject}' is held by the platform (e.g. a Windows certificate store) and may not be exported, so it cannot go into a keystore file. Export it from where it was created as exportable.");
    }

    private static string MadeAlias(X509Certificate2 cert, Dictionary<string, KeystoreEntry> taken)
    {
        string thumb = cert.Thumbprint.ToLowerInvariant();
        string stem = TenantKeystore.DeriveAlias(CertificateNames.CommonName(cert), TenantKeystore.MaxAliasLength - thumb.Length - 4);
        string[] candidates = { stem, stem + "-" + thumb.Substring(0, 8), stem + "-" + thumb };
        for (int n = 0; ; n++)
        {
            string alias = n < candidates.Length ? candidates[n] : stem + "-" + thumb.Substring(0, 8) + "-" + (n - candidates.Length + 2);
            if (!taken.ContainsKey(alias))
            {
                return alias;
            }
        }
    }

    // The same certificate as the same kind of entry is one entry, whatever its alias.
    private static string Identity(KeystoreEntry entry) => entry.Kind + ":" + entry.Certificate.Thumbprint;

    private static BcX509 Bc(X509Certificate2 cert) => new(cert.RawData);
}
