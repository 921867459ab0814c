using System;
using System.Collections.Generic;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Chains;

/// <summary>
/// What makes a certificate useless as a TLS client certificate, found without connecting anywhere: it expired, it
/// is not valid yet, or its extended key usage leaves out Client Authentication. Writers warn and still write (a PFX
/// may be wanted for other reasons); the mTLS test checks the same before it connects.
/// </summary>
internal static class ClientCertificateCheck
{
    /// <summary>One sentence per problem, naming the certificate; empty when it can authenticate a TLS client.</summary>
    public static List<string> Problems(X509Certificate2 leaf, DateTime utcNow)
    {
        var problems = new List<string>();
        DateTime notAfter = leaf.NotAfter.ToUniversalTime();
        DateTime notBefore = leaf.NotBefore.ToUniversalTime();
        if (notAfter < utcNow)
        {
            problems.Add($"The certificate '{leaf.Subject}' expired on {notAfter:yyyy-MM-dd HH:mm} UTC; servers reject it in the TLS handshake. Create a new certificate (for a service key: a new service key).");
        }
        else if (notBefore > utcNow)
        {
            problems.Add($"The certificate '{leaf.Subject}' is not valid before {notBefore:yyyy-MM-dd HH:mm} UTC; servers reject it until then. Check this machine's clock.");
        }

        // A certificate without the EKU extension is not restricted; HasClientAuthEku also takes anyExtendedKeyUsage.
        if (!Tls.ClientCredential.HasClientAuthEku(leaf))
        {
            problems.Add($"The certificate '{leaf.Subject}' lacks the Client Authentication extended key usage (1.3.6.1.5.5.7.3.2); SAP's load balancers and most mTLS servers reject it as a client certificate. Use a certificate issued for client authentication.");
        }

        return problems;
    }
}
