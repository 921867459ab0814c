using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// Passwords outside ASCII: PBES2 takes them as UTF-8 (OpenSSL, Java, .NET), PKCS#12's own PBE as BMPString.
/// Files OpenSSL writes with such a password must open, and ours must open in OpenSSL.
/// </summary>
public class PasswordEncodingTests
{
    private const string Password = "pä$$wörd-€-汉字";

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void OpenSslPfxWithNonAsciiPasswordImports(bool legacy)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        var pki = TestPki.Default;
        using var tmp = new TempDir();
        string cert = tmp.Write("chain.pem", pki.ChainPem());
        string key = tmp.Write("key.pem", pki.Leaf.KeyPemPkcs8);
        string pfx = tmp.File("openssl.pfx");
        var args = new List<string> { "pkcs12", "-export", "-in", cert, "-inkey", key, "-out", pfx, "-passout", "pass:" + Password };
        if (legacy)
        {
            args.AddRange(new[] { "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1" });
        }

        ToolResult made = Tools.Run("openssl", args);
        Assert.True(made.ExitCode == 0, made.All);

        using var ps = new PsEngine();
        ps.SetVariable("pw", PsEngine.Secure(Password));
        PsResult r = ps.Run("Import-CertificateBundle -LiteralPath $args[0] -Password $pw", pfx);
        Assert.Empty(r.Errors);
        BundleView b = Assert.Single(BundleView.From(r));
        Assert.True(b.HasPrivateKey);
        Assert.Equal(pki.Leaf.Thumbprint, b.Thumbprint, StringComparer.OrdinalIgnoreCase);
    }

    [SkippableTheory]
    [InlineData("TripleDesSha1")]
    [InlineData("Aes256Sha256")]
    public void OurPfxWithNonAsciiPasswordOpensInOpenSsl(string encryption)
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        var pki = TestPki.Default;
        using var tmp = new TempDir();
        string key = tmp.Write("key.json", pki.ServiceKeyJson());
        string pfx = tmp.File("ours.pfx");
        using var ps = new PsEngine();
        ps.SetVariable("pw", PsEngine.Secure(Password));
        PsResult r = ps.Run("ConvertFrom-ServiceKey -LiteralPath $args[0] | New-PfxFromPem -OutFile $args[1] -Password $pw -Encryption $args[2]", key, pfx, encryption);
        Assert.Empty(r.Errors);

        ToolResult info = Tools.Run("openssl", new[] { "pkcs12", "-in", pfx, "-nodes", "-passin", "pass:" + Password });
        Assert.True(info.ExitCode == 0, info.All);
        Assert.Contains("PRIVATE KEY", info.StdOut);
        Assert.Equal(3, info.StdOut.Split("BEGIN CERTIFICATE").Length - 1);

        // And back in through our own reader.
        PsResult back = ps.Run("Import-CertificateBundle -LiteralPath $args[0] -Password $pw", pfx);
        Assert.Empty(back.Errors);
        Assert.True(Assert.Single(BundleView.From(back)).HasPrivateKey);
    }

    [SkippableFact]
    public void EncryptedPkcs8KeyFromOpenSslWithNonAsciiPasswordIsRead()
    {
        Skip.IfNot(Tools.Exists("openssl"), "openssl is not installed");
        var pki = TestPki.Default;
        using var tmp = new TempDir();
        string plain = tmp.Write("key.pem", pki.Leaf.KeyPemPkcs8);
        string enc = tmp.File("key.enc.pem");
        ToolResult made = Tools.Run("openssl", new[] { "pkcs8", "-topk8", "-in", plain, "-out", enc, "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-passout", "pass:" + Password });
        Assert.True(made.ExitCode == 0, made.All);
        string cert = tmp.Write("chain.pem", pki.ChainPem());

        using var ps = new PsEngine();
        ps.SetVariable("pw", PsEngine.Secure(Password));
        PsResult r = ps.Run("New-PfxFromPem -CertificatePath $args[0] -KeyPath $args[1] -KeyPassword $pw -OutFile $args[2] -Password $pw", cert, enc, tmp.File("x.pfx"));
        Assert.Empty(r.Errors);
        Assert.True(File.Exists(tmp.File("x.pfx")));
    }
}
