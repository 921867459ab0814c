using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;

namespace CertIntegration.Tests;

/// <summary>A CertIntegration.CertificateBundle seen through the engine (the test project does not reference the module).</summary>
public sealed class BundleView
{
    private BundleView(PSObject o)
    {
        Object = o;
        Thumbprint = (string)o.Properties["Thumbprint"].Value;
        Chain = (X509Certificate2[])o.Methods["GetChain"].Invoke(); // Chain is a script property, read on the session's thread only
        HasPrivateKey = (bool)o.Properties["HasPrivateKey"].Value;
        Source = o.Properties["Source"].Value as string;
        ClientId = o.Properties["ClientId"].Value as string;
    }

    public PSObject Object { get; }

    public string Thumbprint { get; }

    public X509Certificate2[] Chain { get; }

    public int ChainLength => Chain.Length;

    public bool HasPrivateKey { get; }

    public string? Source { get; }

    public string? ClientId { get; }

    public static List<BundleView> From(PsResult r) =>
        r.Output.Where(o => o?.BaseObject.GetType().FullName == "CertIntegration.CertificateBundle").Select(o => new BundleView(o)).ToList();
}
