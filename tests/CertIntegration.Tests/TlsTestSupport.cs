using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>Helpers for the Test-MtlsEndpoint / Get-ServerCertificateChain tests.</summary>
internal static class TlsTestSupport
{
    public const string ServiceKeyUrl = "https://tenant.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com";

    /// <summary>A service key for <paramref name="leaf"/> (chain leaf, intermediate, root) whose url is <paramref name="url"/>.</summary>
    public static string ServiceKey(TempDir tmp, TestPki pki, Issued leaf, string? url = null, Issued? intermediate = null, Issued? root = null)
    {
        string chain = leaf.CertificatePem + (intermediate ?? pki.Intermediate).CertificatePem + (root ?? pki.Root).CertificatePem;
        string json = pki.ServiceKeyJson(certificate: chain, key: leaf.KeyPemTraditional);
        if (url is not null)
        {
            json = json.Replace(ServiceKeyUrl, url);
        }

        return tmp.Write("key-" + Guid.NewGuid().ToString("N")[..8] + ".json", json);
    }

    public static X509Certificate2 Cert(Issued issued) => X509CertificateLoader.LoadCertificate(issued.Der);

    public static object? P(PSObject o, string name) => Value(o, name) is { } v ? (v is PSObject p ? p.BaseObject : v) : null;

    // The hidden properties (ServerCertificateChain, ResponseBody) are script properties of the module's types file,
    // which run only on a thread of the session and are absent where the cmdlets are used without the module (the
    // netstandard2.0 tests): read their methods instead.
    private static object? Value(PSObject o, string name) => o.Properties[name] switch
    {
        PSScriptProperty or null when o.Methods["Get" + name] is { } getter => getter.Invoke(),
        var p => p?.Value,
    };

    public static string[] Strings(PSObject o, string name) => P(o, name) switch
    {
        string[] a => a,
        IEnumerable<string> a => a.ToArray(),
        object[] a => a.Select(x => x?.ToString() ?? string.Empty).ToArray(),
        null => Array.Empty<string>(),
        var x => new[] { x.ToString() ?? string.Empty },
    };

    public static string Diagnosis(PSObject o) => string.Join("\n", Strings(o, "Diagnosis"));

    public static PSObject Single(PsResult r)
    {
        Assert.Null(r.Terminating);
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => e.ToString())));
        return Assert.Single(r.Output);
    }

    /// <summary>Normalised DN for comparing the server's CA list with certificate names (order of RDNs differs).</summary>
    public static string Dn(string dn) => string.Join(",", new X500DistinguishedName(dn).Decode(X500DistinguishedNameFlags.UseNewLines)
        .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).OrderBy(s => s, StringComparer.OrdinalIgnoreCase));

    public static string Describe(PSObject o) =>
        $"Verdict={P(o, "Verdict")} Status={P(o, "StatusCode")} Error={P(o, "Error")} Requested={P(o, "ClientCertificateRequested")} Sent={P(o, "ClientCertificateSent")} Issuers=[{string.Join("; ", Strings(o, "AcceptableIssuers"))}] ServerErrors=[{string.Join("; ", Strings(o, "ServerCertificateErrors"))}] Diagnosis:\n{Diagnosis(o)}";
}
