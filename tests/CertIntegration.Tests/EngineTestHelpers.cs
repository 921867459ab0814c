using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>
/// Helpers for engine tests. The test project does not reference the module assembly (the engine loads it from out/),
/// so bundles are read through their PowerShell properties.
/// </summary>
internal static class EngineTestHelpers
{
    public const string BundleType = "CertIntegration.CertificateBundle";

    public static List<PSObject> Bundles(this PsResult r) =>
        r.Output.Where(o => o?.BaseObject?.GetType().FullName == BundleType).ToList();

    public static object? P(this PSObject o, string name) => o.Properties[name]?.Value;

    public static string S(this PSObject o, string name) => Convert.ToString(o.P(name)) ?? string.Empty;

    /// <summary>
    /// Calls a method of the object (GetChain, GetCertificate, GetServerCertificateChain): the hidden properties
    /// Certificate, Chain and ServerCertificateChain are script properties, which run only on a thread of the session.
    /// </summary>
    public static object? M(this PSObject o, string method) => o.Methods[method].Invoke();

    public static X509Certificate2[] ChainOf(this PSObject bundle) => (X509Certificate2[])bundle.M("GetChain")!;

    public static string[] ChainThumbprints(this PSObject bundle) => bundle.ChainOf().Select(c => c.Thumbprint).ToArray();

    /// <summary>Fails with everything the engine said when the run did not go cleanly.</summary>
    public static void AssertClean(this PsResult r)
    {
        Assert.True(r.Terminating is null && r.Errors.Count == 0,
            "Expected no errors, got: " + r.Terminating + "\n" + string.Join("\n", r.Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
    }

    /// <summary>The Base64 body lines of a PEM block (the secret part of a key), for "never printed" checks.</summary>
    public static IEnumerable<string> SecretLines(string pem) =>
        pem.Replace("\r", string.Empty).Split('\n')
            .Where(l => l.Length >= 16 && !l.StartsWith("-----", StringComparison.Ordinal) && !l.Contains(':'))
            .Select(l => l.Length > 48 ? l.Substring(8, 40) : l);

    /// <summary>Asserts that no piece of the key's Base64 body appears anywhere the user could see.</summary>
    public static void AssertNoSecret(PsResult r, params string[] keyPems)
    {
        string all = r.AllText;
        foreach (string pem in keyPems)
        {
            foreach (string line in SecretLines(pem))
            {
                Assert.False(all.Contains(line, StringComparison.Ordinal), "Key material appeared in the output: " + line);
            }
        }
    }

    /// <summary>SHA-1 thumbprint of a BouncyCastle certificate, in the form X509Certificate2.Thumbprint has.</summary>
    public static string Thumbprint(this Org.BouncyCastle.X509.X509Certificate c) =>
        Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(c.GetEncoded()));
}

/// <summary>One engine per test class: importing the module once keeps the suite fast on a shared machine.</summary>
public sealed class EngineFixture : IDisposable
{
    private readonly Lazy<PsEngine> _engine = new(() => new PsEngine());

    public PsEngine Engine => _engine.Value;

    public void Dispose()
    {
        if (_engine.IsValueCreated)
        {
            _engine.Value.Dispose();
        }
    }
}
