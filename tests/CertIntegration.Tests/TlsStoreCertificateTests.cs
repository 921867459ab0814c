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

/// <summary>The server's chain is validated offline: an intermediate the server does not send is missing.</summary>
public sealed class TlsServerChainOfflineTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly PsEngine _ps = new();

    public void Dispose()
    {
        _ps.Dispose();
        _tmp.Dispose();
    }

    [Fact]
    public void AnIntermediateTheServerDoesNotSendIsNotDownloaded()
    {
        TestPki pki = TestPki.Default;
        var aia = new TcpListener(IPAddress.Loopback, 0);
        aia.Start();
        int aiaPort = ((IPEndPoint)aia.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            // Serves the intermediate to whoever asks (as a CA's AIA URL does).
            while (true)
            {
                using TcpClient c = await aia.AcceptTcpClientAsync();
                using NetworkStream s = c.GetStream();
                var buffer = new byte[4096];
                _ = await s.ReadAsync(buffer);
                byte[] der = pki.Intermediate.Der;
                byte[] head = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: {der.Length}\r\nConnection: close\r\n\r\n");
                await s.WriteAsync(head);
                await s.WriteAsync(der);
            }
        });
        try
        {
            var keys = TestPki.NewKeys(TestPki.KeyKind.Rsa2048);
            var gen = new X509V3CertificateGenerator();
            gen.SetSerialNumber(BigInteger.ValueOf(DateTime.UtcNow.Ticks));
            gen.SetSubjectDN(new X509Name("CN=localhost"));
            gen.SetIssuerDN(pki.Intermediate.Certificate.SubjectDN);
            gen.SetNotBefore(DateTime.UtcNow.AddDays(-1));
            gen.SetNotAfter(DateTime.UtcNow.AddDays(30));
            gen.SetPublicKey(keys.Public);
            gen.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeID.id_kp_serverAuth));
            gen.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.IPAddress, "127.0.0.1")));
            gen.AddExtension(X509Extensions.AuthorityInfoAccess, false, new AuthorityInformationAccess(
                new AccessDescription(AccessDescription.IdADCAIssuers, new GeneralName(GeneralName.UniformResourceIdentifier, $"http://127.0.0.1:{aiaPort}/ca.crt"))));
            var cert = gen.Generate(new Asn1SignatureFactory("SHA256WITHRSA", pki.Intermediate.Keys.Private));
            var leafOnly = System.Net.Security.SslStreamCertificateContext.Create(FakeCpiRuntime.WithKey(new Issued { Certificate = cert, Keys = keys }), new X509Certificate2Collection(), offline: true);
            using var server = new ScriptedTlsServer(_ => leafOnly, System.Security.Authentication.SslProtocols.Tls13);
            _ps.SetVariable("root", TlsTestSupport.Cert(pki.Root));
            PsResult r = _ps.Run("Test-MtlsEndpoint -Uri $args[0] -NoClientCertificate -TrustedCertificate $root -TimeoutSec 10", server.Url);
            var o = TlsTestSupport.Single(r);
            Assert.False((bool)TlsTestSupport.P(o, "ServerCertificateValid")!, TlsTestSupport.Describe(o));
            Assert.Contains(TlsTestSupport.Strings(o, "ServerCertificateErrors"), e => e.StartsWith("PartialChain") || e.StartsWith("UntrustedRoot"));
            Assert.Equal("FAILED server certificate", TlsTestSupport.P(o, "Verdict"));
        }
        finally
        {
            aia.Stop();
            _ = serve.ContinueWith(t => t.Exception, TaskScheduler.Default);
        }
    }
}
