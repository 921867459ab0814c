namespace CertIntegration.TestSupport;

/// <summary>
/// What the outside-written corpora (../shared/corpora) say about their files: the password of each protected file
/// (from each folder's README), the PKCS#12 oracle (PKCS12_ORACLE.tsv) and BoringSSL's PEM verdicts (EXPECTED.tsv).
/// </summary>
public static class CorpusCatalog
{
    /// <summary>The corpus folders walked by the corpus tests.</summary>
    public static readonly string[] Folders = { "bc-csharp", "boringssl", "golang-go", "golang-x-crypto", "pyca-cryptography", "wycheproof" };

    /// <summary>Every file of the walked folders, as corpus-relative paths with '/' separators, sorted.</summary>
    public static List<string> Files(string corpora) =>
        Folders.Where(f => Directory.Exists(Path.Combine(corpora, f)))
            .SelectMany(f => Directory.EnumerateFiles(Path.Combine(corpora, f), "*", SearchOption.AllDirectories))
            .Select(p => Path.GetRelativePath(corpora, p).Replace('\\', '/'))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();

    /// <summary>The documented password of a file, or null when it has none (or none is documented).</summary>
    public static string? PasswordFor(string corpora, string rel)
    {
        string name = Path.GetFileName(rel);
        if (Oracle(corpora).TryGetValue(rel, out OracleRow? row))
        {
            return row.Password;
        }

        if (rel.StartsWith("bc-csharp/pkcs12-embedded/", StringComparison.Ordinal))
        {
            return null;
        }

        if (rel.StartsWith("bc-csharp/files/openssl/", StringComparison.Ordinal))
        {
            return name switch
            {
                "test.pem" => "secret",
                "enckey.pem" or "pkcs8test.pem" => "password",
                _ => "changeit",
            };
        }

        if (rel.StartsWith("bc-csharp/files/keys/", StringComparison.Ordinal))
        {
            return "12345678a";
        }

        if (rel.StartsWith("bc-csharp/files/rsa3/", StringComparison.Ordinal) && name.EndsWith(".p12", StringComparison.Ordinal))
        {
            return string.Empty;
        }

        if (rel == "bc-csharp/files/jks/cacerts.jks")
        {
            return "changeit";
        }

        if (rel == "bc-csharp/jks-embedded/Test1.jks")
        {
            return "fredfred";
        }

        if (rel == "bc-csharp/jks-embedded/Test2.jks")
        {
            return "samsam";
        }

        if (rel.StartsWith("boringssl/pem-cases/BadHeader_", StringComparison.Ordinal))
        {
            return "password";
        }

        if (rel.StartsWith("boringssl/pkcs8/test/", StringComparison.Ordinal))
        {
            if (name.StartsWith("empty_password", StringComparison.Ordinal) || name.StartsWith("null_password", StringComparison.Ordinal) || name.StartsWith("bad", StringComparison.Ordinal))
            {
                return string.Empty;
            }

            return name.StartsWith("unicode_password", StringComparison.Ordinal) ? "Hello, 世界" : "foo";
        }

        if (rel.StartsWith("golang-x-crypto/pkcs12/", StringComparison.Ordinal))
        {
            return string.Empty;
        }

        if (rel == "pyca-cryptography/PKCS8/ed25519-pkcs8-enc.pem")
        {
            return "password";
        }

        return null;
    }

    public sealed record OracleRow(string File, string? Password, string Pyca, string OpenSsl, string OpenSslLegacy)
    {
        public bool MustRead => Pyca.StartsWith("OK", StringComparison.Ordinal) || OpenSslLegacy.StartsWith("OK", StringComparison.Ordinal);

        /// <summary>Key count expected from the pyca column: 0 for key=None, else 1.</summary>
        public int Keys => Pyca.Contains("key=None", StringComparison.Ordinal) ? 0 : 1;

        /// <summary>Certificates: the key's certificate (cert=y) plus the additional ones (extra=N).</summary>
        public int Certificates
        {
            get
            {
                int extra = 0;
                int i = Pyca.IndexOf("extra=", StringComparison.Ordinal);
                if (i >= 0)
                {
                    extra = int.Parse(new string(Pyca[(i + 6)..].TakeWhile(char.IsDigit).ToArray()), System.Globalization.CultureInfo.InvariantCulture);
                }

                return extra + (Pyca.Contains("cert=y", StringComparison.Ordinal) ? 1 : 0);
            }
        }
    }

    private static Dictionary<string, OracleRow>? _oracle;

    /// <summary>PKCS12_ORACLE.tsv by corpus-relative path. Password '(none)' becomes null; quotes are removed.</summary>
    public static Dictionary<string, OracleRow> Oracle(string corpora)
    {
        if (_oracle is not null)
        {
            return _oracle;
        }

        var d = new Dictionary<string, OracleRow>(StringComparer.Ordinal);
        string path = Path.Combine(corpora, "PKCS12_ORACLE.tsv");
        if (File.Exists(path))
        {
            foreach (string line in File.ReadAllLines(path).Skip(1))
            {
                string[] f = line.Split('\t');
                if (f.Length < 5)
                {
                    continue;
                }

                string? pw = f[1] == "(none)" ? null : f[1].Trim('\'');
                d[f[0]] = new OracleRow(f[0], pw, f[2], f[3], f[4]);
            }
        }

        return _oracle = d;
    }

    /// <summary>boringssl/pem-cases/EXPECTED.tsv: corpus-relative path → BoringSSL verdict ("OK" or a PEM_R_ reason).</summary>
    public static Dictionary<string, string> PemExpected(string corpora)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        string path = Path.Combine(corpora, "boringssl", "pem-cases", "EXPECTED.tsv");
        if (File.Exists(path))
        {
            foreach (string line in File.ReadAllLines(path).Skip(1))
            {
                string[] f = line.Split('\t');
                if (f.Length >= 2)
                {
                    d["boringssl/" + f[0]] = f[1].Split(' ')[0];
                }
            }
        }

        return d;
    }
}
