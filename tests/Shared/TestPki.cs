using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Org.BouncyCastle.X509.Extension;

namespace CertIntegration.TestSupport;

/// <summary>One issued certificate with its key.</summary>
public sealed class Issued
{
    public required X509Certificate Certificate { get; init; }
    public required AsymmetricCipherKeyPair Keys { get; init; }

    public string CertificatePem => TestPki.ToPem(Certificate);

    /// <summary>PKCS#1 (BEGIN RSA PRIVATE KEY) for RSA, SEC1 (BEGIN EC PRIVATE KEY) for EC: what OpenSSL's traditional format writes.</summary>
    public string KeyPemTraditional => TestPki.ToPem(Keys.Private);

    public string KeyPemPkcs8 => TestPki.ToPem(new Pkcs8Generator(Keys.Private).Generate());

    public string Thumbprint => Convert.ToHexString(DigestUtilities.CalculateDigest("SHA-1", Certificate.GetEncoded()));

    public byte[] Der => Certificate.GetEncoded();
}

/// <summary>
/// A test PKI made with BouncyCastle at run time, shaped like SAP's service-key chains: root CA, intermediate CA,
/// client leaf with the Client Authentication EKU. Generated once per test process (RSA key generation is slow).
/// </summary>
public sealed class TestPki
{
    private static readonly Lazy<TestPki> DefaultPki = new(() => new TestPki("CertIntegration Test"));
    private static readonly SecureRandom Random = new();
    private static int _serial = 1000;

    public static TestPki Default => DefaultPki.Value;

    public TestPki(string name, bool ecLeaf = false)
    {
        Root = IssueCa($"CN={name} Root CA,O=CertIntegration Tests,C=DE", null, rsa: true);
        Intermediate = IssueCa($"CN={name} Intermediate CA,O=CertIntegration Tests,C=DE", Root, rsa: true);
        Leaf = IssueLeaf($"CN={name} Client {Guid.NewGuid():N},OU=Tests,O=CertIntegration Tests,C=DE", Intermediate, ecLeaf ? KeyKind.EcP256 : KeyKind.Rsa2048);
        Server = IssueServer("CN=localhost", Intermediate, "localhost", "127.0.0.1");
    }

    public Issued Root { get; }
    public Issued Intermediate { get; }
    public Issued Leaf { get; }
    public Issued Server { get; }

    /// <summary>Leaf, intermediate, root: the order SAP's service key uses.</summary>
    public IReadOnlyList<Issued> Chain => new[] { Leaf, Intermediate, Root };

    public string ChainPem(params Issued[] order) => string.Concat((order.Length == 0 ? Chain : order).Select(i => i.CertificatePem));

    public enum KeyKind { Rsa2048, EcP256 }

    public static AsymmetricCipherKeyPair NewKeys(KeyKind kind)
    {
        if (kind == KeyKind.EcP256)
        {
            var g = new ECKeyPairGenerator("EC");
            g.Init(new ECKeyGenerationParameters(X9ObjectIdentifiers.Prime256v1, Random));
            return g.GenerateKeyPair();
        }

        var rsa = new RsaKeyPairGenerator();
        rsa.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(65537), Random, 2048, 25));
        return rsa.GenerateKeyPair();
    }

    public static Issued IssueCa(string subject, Issued? issuer, bool rsa = true) =>
        Issue(subject, issuer, NewKeys(rsa ? KeyKind.Rsa2048 : KeyKind.EcP256), ca: true, eku: null);

    public static Issued IssueLeaf(string subject, Issued issuer, KeyKind kind = KeyKind.Rsa2048, bool clientAuth = true, DateTime? notAfter = null) =>
        Issue(subject, issuer, NewKeys(kind), ca: false, eku: clientAuth ? new[] { KeyPurposeID.id_kp_clientAuth } : new[] { KeyPurposeID.id_kp_serverAuth }, notAfter: notAfter);

    public static Issued IssueServer(string subject, Issued issuer, params string[] names) =>
        Issue(subject, issuer, NewKeys(KeyKind.Rsa2048), ca: false, eku: new[] { KeyPurposeID.id_kp_serverAuth }, sans: names);

    public static Issued Issue(string subject, Issued? issuer, AsymmetricCipherKeyPair keys, bool ca, KeyPurposeID[]? eku,
        string[]? sans = null, DateTime? notAfter = null, DateTime? notBefore = null)
    {
        var gen = new X509V3CertificateGenerator();
        var subjectName = new X509Name(subject);
        gen.SetSerialNumber(BigInteger.ValueOf(Interlocked.Increment(ref _serial)));
        gen.SetSubjectDN(subjectName);
        gen.SetIssuerDN(issuer?.Certificate.SubjectDN ?? subjectName);
        gen.SetNotBefore(notBefore ?? DateTime.UtcNow.AddDays(-1));
        gen.SetNotAfter(notAfter ?? DateTime.UtcNow.AddDays(ca ? 3650 : 365));
        gen.SetPublicKey(keys.Public);
        gen.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(ca));
        gen.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(ca ? KeyUsage.KeyCertSign | KeyUsage.CrlSign : KeyUsage.DigitalSignature | KeyUsage.KeyEncipherment));
        gen.AddExtension(X509Extensions.SubjectKeyIdentifier, false, X509ExtensionUtilities.CreateSubjectKeyIdentifier(keys.Public));
        if (issuer is not null)
        {
            gen.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, X509ExtensionUtilities.CreateAuthorityKeyIdentifier(issuer.Certificate.GetPublicKey()));
        }

        if (eku is not null)
        {
            gen.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(eku));
        }

        if (sans is { Length: > 0 })
        {
            var names = sans.Select(n => System.Net.IPAddress.TryParse(n, out _) ? new GeneralName(GeneralName.IPAddress, n) : new GeneralName(GeneralName.DnsName, n)).ToArray();
            gen.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(names));
        }

        AsymmetricKeyParameter signingKey = issuer?.Keys.Private ?? keys.Private;
        string alg = signingKey is ECPrivateKeyParameters ? "SHA256WITHECDSA" : "SHA256WITHRSA";
        X509Certificate cert = gen.Generate(new Asn1SignatureFactory(alg, signingKey, Random));
        return new Issued { Certificate = cert, Keys = keys };
    }

    public static string ToPem(object obj)
    {
        var sw = new StringWriter();
        var w = new PemWriter(sw);
        w.WriteObject(obj);
        w.Writer.Flush();
        return sw.ToString().Replace("\r\n", "\n");
    }

    /// <summary>A service key of key-type certificate as the BTP cockpit downloads it: fields under "oauth", PEM with \n escapes.</summary>
    public string ServiceKeyJson(string shape = "oauth", string? certificate = null, string? key = null, string keyField = "key", string clientIdField = "clientid")
    {
        string cert = certificate ?? ChainPem();
        string k = key ?? Leaf.KeyPemTraditional;
        var fields = new StringBuilder();
        fields.Append($"\"{clientIdField}\": \"sb-1a2b3c4d-cert!b1234|it-rt-tenant!b5678\",\n");
        fields.Append($"\"certificate\": {JsonString(cert)},\n");
        if (k.Length > 0)
        {
            fields.Append($"\"{keyField}\": {JsonString(k)},\n");
        }

        fields.Append("\"url\": \"https://tenant.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com\",\n");
        fields.Append("\"tokenurl\": \"https://tenant.authentication.cert.eu10.hana.ondemand.com/oauth/token\"");
        return shape switch
        {
            "oauth" => "{\n\"oauth\": {\n" + fields + "\n}\n}",
            "credentials" => "{\n\"credentials\": {\n" + fields + "\n}\n}",
            "root" => "{\n" + fields + "\n}",
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
    }

    /// <summary>A JSON string literal: newlines become the two characters \n, as in a real service key.</summary>
    public static string JsonString(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\r", "\\r").Replace("\n", "\\n") + "\"";
}
