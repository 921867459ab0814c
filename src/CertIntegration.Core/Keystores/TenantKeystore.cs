using System;
using System.Globalization;
using System.Linq;
using System.Text;

namespace CertIntegration.Core.Keystores;

/// <summary>
/// What the SAP Cloud Integration tenant keystore (its Keystore Monitor) accepts, in one place for every writer and
/// uploader of tenant keystore entries. From SAP's Integration Suite documentation ("Managing Keystore Entries",
/// "Uploading a Keystore", "Changing the Alias of a Keystore Entry"): aliases beginning with sap_ or
/// hcicertificate (and hcimsgcertificate) are SAP's own; an alias has at most 250 characters; one password protects
/// every private key and is the keystore password; a whole .jks upload is at most 2 MB; the tenant keystore holds
/// at most 6 MB.
/// </summary>
internal static class TenantKeystore
{
    /// <summary>Longest alias the tenant accepts ("The maximal length of a keystore alias is 250 characters").</summary>
    public const int MaxAliasLength = 250;

    /// <summary>
    /// Largest whole JKS upload: "If you upload a whole keystore (.jks file) to the tenant, the maximum keystore size
    /// is limited to 2 MB." Counted as 2,000,000 bytes, the smaller reading of "2 MB".
    /// </summary>
    public const long MaxJksUploadBytes = 2_000_000;

    /// <summary>Largest tenant keystore in all: "The maximum size of a keystore is 6 MB" (6,000,000 bytes here).</summary>
    public const long MaxKeystoreBytes = 6_000_000;

    /// <summary>Where the figures come from, for messages.</summary>
    public const string LimitsSource = "SAP Integration Suite documentation, Managing Keystore Entries";

    /// <summary>Alias beginnings SAP reserves for its own entries; the tenant refuses them in any case.</summary>
    public static readonly string[] ReservedPrefixes = { "sap_", "hcicertificate", "hcimsgcertificate" };

    /// <summary>The reserved beginning of <paramref name="alias"/> (compared ignoring case), or null.</summary>
    public static string? ReservedPrefixOf(string alias) =>
        ReservedPrefixes.FirstOrDefault(p => alias.StartsWith(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Checks an alias a user gave or a container kept: not empty, at most <see cref="MaxAliasLength"/> characters,
    /// none of SAP's reserved beginnings, and only ASCII letters, digits, '.', '_', '-' and inner spaces (what keytool and
    /// the tenant take without quoting or encoding trouble). Throws KeystoreAliasReserved, KeystoreAliasTooLong or
    /// KeystoreAliasInvalid; <paramref name="what"/> says where the alias came from ("-Alias", "the PKCS#12 name").
    /// </summary>
    public static void CheckAlias(string? alias, string what)
    {
        if (alias is null || alias.Trim().Length == 0)
        {
            throw new CertIntegrationException(ErrorIds.KeystoreAliasInvalid, FailureKind.InvalidArgument,
                $"The alias from {what} is empty; a keystore entry needs an alias.");
        }

        if (alias.Length > MaxAliasLength)
        {
            throw new CertIntegrationException(ErrorIds.KeystoreAliasTooLong, FailureKind.InvalidArgument,
                $"The alias from {what} has {alias.Length} characters; the tenant keystore takes at most {MaxAliasLength}. Give a shorter one with -Alias.");
        }

        if (ReservedPrefixOf(alias) is { } prefix)
        {
            throw new CertIntegrationException(ErrorIds.KeystoreAliasReserved, FailureKind.InvalidArgument,
                $"The alias '{alias}' from {what} begins with '{prefix}', which SAP Cloud Integration reserves for SAP-owned keystore entries " +
                "(as it does 'sap_', 'hcicertificate' and 'hcimsgcertificate', in any case); the Keystore Monitor refuses it. Give another alias with -Alias.");
        }

        int bad = -1;
        for (int i = 0; i < alias.Length && bad < 0; i++)
        {
            bad = IsAliasChar(alias[i]) ? -1 : i;
        }

        if (bad >= 0)
        {
            char c = alias[bad];
            throw new CertIntegrationException(ErrorIds.KeystoreAliasInvalid, FailureKind.InvalidArgument,
                $"The alias '{Printable(alias)}' from {what} contains {Describe(c)}; aliases take ASCII letters, digits, '.', '_', '-' and spaces between words. Give another alias with -Alias.");
        }

        if (alias[0] == ' ' || alias[alias.Length - 1] == ' ')
        {
            throw new CertIntegrationException(ErrorIds.KeystoreAliasInvalid, FailureKind.InvalidArgument,
                $"The alias '{alias}' from {what} begins or ends with a space. Give it without with -Alias.");
        }
    }

    /// <summary>
    /// An alias made from a name (a certificate's common name): lowercase ASCII letters, digits, '.', '_' and '-'
    /// (accents dropped, every other run of characters one '-'), no leading or trailing punctuation, at most
    /// <paramref name="maxLength"/> characters; "certificate" when nothing is left; "cert-" before a name that would
    /// begin with a reserved prefix (a partner CA called "SAP_Partner" stays usable).
    /// </summary>
    public static string DeriveAlias(string name, int maxLength = MaxAliasLength)
    {
        string decomposed = (name ?? string.Empty).Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        foreach (char ch in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            char c = char.ToLowerInvariant(ch);
            bool kept = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-';
            if (kept)
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[sb.Length - 1] != '-')
            {
                sb.Append('-');
            }
        }

        string s = sb.ToString().Trim('-', '.', '_');
        if (s.Length == 0)
        {
            s = "certificate";
        }

        if (ReservedPrefixOf(s) is not null)
        {
            s = "cert-" + s;
        }

        if (s.Length > maxLength)
        {
            s = s.Substring(0, maxLength).TrimEnd('-', '.', '_');
        }

        return s;
    }

    private static bool IsAliasChar(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-' or ' ';

    private static string Describe(char c) =>
        c < 0x20 || c == 0x7F || char.IsWhiteSpace(c) ? $"the control or space character U+{(int)c:X4}" : $"'{c}'";

    private static string Printable(string s) => new(s.Select(c => c < 0x20 || c == 0x7F ? '?' : c).ToArray());
}
