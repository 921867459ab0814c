using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;
using Xunit;

namespace CertIntegration.Tests;

/// <summary>An X509Certificate2 passed with -Certificate (e.g. from Cert:\CurrentUser\My): its chain is looked up offline.</summary>
public sealed class TlsStoreCertificateTests : IDisposable
{
    private readonly PsEngine _ps = new();

    public void Dispose() => _ps.Dispose();

    [Fact]
    public void FindingTheIntermediatesOfAStoreCertificateFetchesNothing()
    {
        // A leaf whose issuer is not here, with an AIA caIssuers URL on a local listener: looking up its chain must
        // not go to the network (it would block the pipeline thread, beyond the reach of Ctrl+C and -TimeoutSec).
        var aia = new TcpListener(IPAddress.Loopback, 0);
        aia.Start();
        try
        {
            int aiaPort = ((IPEndPoint)aia.LocalEndpoint).Port;
            TestPki pki = TestPki.Default;
            var keys = TestPki.NewKeys(TestPki.KeyKind.Rsa2048);
            var gen = new X509V3CertificateGenerator();
            gen.SetSerialNumber(BigInteger.ValueOf(DateTime.UtcNow.Ticks));
            gen.SetSubjectDN(new X509Name("CN=AIA Client,O=CertIntegration Tests"));
            gen.SetIssuerDN(new X509Name("CN=Missing Intermediate,O=CertIntegration Tests"));
            gen.SetNotBefore(DateTime.UtcNow.AddDays(-1));
            gen.SetNotAfter(DateTime.UtcNow.AddDays(30));
            gen.SetPublicKey(keys.Public);
            gen.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeID.id_kp_clientAuth));
            gen.AddExtension(X509Extensions.AuthorityInfoAccess, false, new AuthorityInformationAccess(
                new AccessDescription(AccessDescription.IdADCAIssuers, new GeneralName(GeneralName.UniformResourceIdentifier, $"http://127.0.0.1:{aiaPort}/ca.crt"))));
            var cert = gen.Generate(new Asn1SignatureFactory("SHA256WITHRSA", pki.Intermediate.Keys.Private));
            X509Certificate2 withKey = FakeCpiRuntime.WithKey(new Issued { Certificate = cert, Keys = keys });
            _ps.SetVariable("c", withKey);

            var closed = new TcpListener(IPAddress.Loopback, 0);
            closed.Start();
            int closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
            closed.Stop();
            PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -Certificate $c -TimeoutSec 5", $"https://127.0.0.1:{closedPort}/");
            Assert.Null(r.Terminating);
            Thread.Sleep(200);
            Assert.False(aia.Pending(), "the chain lookup fetched the AIA URL");
        }
        finally
        {
            aia.Stop();
        }
    }
}
