using System.Security.Cryptography.X509Certificates;
using System.Text;
using CertIntegration.TestSupport;
using Xunit;

namespace CertIntegration.UnitTests;

public class TlsUnitTests
{
    private static HttpAnswer Read(string wire, int maxBody = 8192, bool head = false) =>
        MiniHttp.ReadAnswerAsync(new MemoryStream(Encoding.ASCII.GetBytes(wire)), head, maxBody, CancellationToken.None).GetAwaiter().GetResult();

    [Fact]
    public void ContentLengthBody()
    {
        HttpAnswer a = Read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloEXTRA");
        Assert.Equal(200, a.StatusCode);
        Assert.Equal("OK", a.ReasonPhrase);
        Assert.Equal("hello", Encoding.ASCII.GetString(a.Body));
        Assert.Equal("b", a.Header("x-a"));
        Assert.False(a.BodyTruncated);
    }

    [Fact]
    public void ChunkedBodyAndInterimAnswers()
    {
        HttpAnswer a = Read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"er\r\n3\r\nr\":\r\n1\r\n1\r\n0\r\n\r\n");
        Assert.Equal(401, a.StatusCode);
        Assert.Equal("{\"err\":1", Encoding.ASCII.GetString(a.Body));
    }

    [Fact]
    public void BodyIsCutAtTheLimit()
    {
        string big = new string('x', 20000);
        HttpAnswer a = Read($"HTTP/1.0 200 ok\r\n\r\n{big}", maxBody: 1000);
        Assert.Equal(1000, a.Body.Length);
        Assert.True(a.BodyTruncated);
        HttpAnswer c = Read($"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4E20\r\n{big}\r\n0\r\n\r\n", maxBody: 1000);
        Assert.Equal(1000, c.Body.Length);
        Assert.True(c.BodyTruncated);
    }

    [Fact]
    public void NoAnswerAndNotHttpAreTold()
    {
        Assert.Throws<NoAnswerException>(() => Read(string.Empty));
        Assert.Throws<InvalidDataException>(() => Read("SSH-2.0-OpenSSH\r\n\r\n"));
    }

    [Fact]
    public void RequestHasHostLengthAndNoInjectedHeaders()
    {
        byte[] req = MiniHttp.BuildRequest(new Uri("https://h.example:8443/http/x?a=1"), "POST",
            new[] { new KeyValuePair<string, string>("X-Id", "1"), new KeyValuePair<string, string>("Host", "evil") }, Encoding.UTF8.GetBytes("äb"), "application/xml");
        string text = Encoding.UTF8.GetString(req);
        Assert.StartsWith("POST /http/x?a=1 HTTP/1.1\r\n", text);
        Assert.Contains("\r\nHost: h.example:8443\r\n", text);
        Assert.DoesNotContain("evil", text);
        Assert.Contains("\r\nContent-Length: 3\r\n", text);
        Assert.Contains("\r\nContent-Type: application/xml\r\n", text);
        Assert.EndsWith("\r\n\r\näb", text);
        var ex = Assert.Throws<CertIntegrationException>(() => MiniHttp.CheckHeader("X-A", "1\r\nInjected: yes"));
        Assert.Equal(ErrorIds.HeaderInvalid, ex.ErrorId);
        Assert.Throws<CertIntegrationException>(() => MiniHttp.CheckHeader("Bad Name", "1"));
    }

    [Fact]
    public void HostNamesMatchSansWithOneLeftmostWildcard()
    {
        var pki = TestPki.Default;
        Issued wild = TestPki.IssueServer("CN=ignored.example", pki.Intermediate, "*.cfapps.example.com", "api.example.com", "10.1.2.3");
        var cert = X509CertificateLoader.LoadCertificate(wild.Der);
        Assert.True(ServerCertificateValidator.MatchesHost(cert, "tenant.cfapps.example.com"));
        Assert.True(ServerCertificateValidator.MatchesHost(cert, "TENANT.CFAPPS.EXAMPLE.COM."));
        Assert.False(ServerCertificateValidator.MatchesHost(cert, "a.b.cfapps.example.com"));
        Assert.False(ServerCertificateValidator.MatchesHost(cert, "cfapps.example.com"));
        Assert.True(ServerCertificateValidator.MatchesHost(cert, "api.example.com"));
        Assert.False(ServerCertificateValidator.MatchesHost(cert, "ignored.example"));
        Assert.True(ServerCertificateValidator.MatchesHost(cert, "10.1.2.3"));
        Assert.False(ServerCertificateValidator.MatchesHost(cert, "10.1.2.4"));
    }

    [Fact]
    public void DistinguishedNamesCompareWhateverTheOrder()
    {
        Assert.Equal(TlsProbe.NormalizeDn("CN=Root, O=T, C=DE"), TlsProbe.NormalizeDn("C=DE, O=T, CN=Root"));
        Assert.NotEqual(TlsProbe.NormalizeDn("CN=Root, O=T"), TlsProbe.NormalizeDn("CN=Root2, O=T"));
    }

    [Fact]
    public void ServerCertificatesAreReadFromATls12Handshake()
    {
        var pki = TestPki.Default;
        byte[] leaf = pki.Server.Der, inter = pki.Intermediate.Der;
        var certMsg = new List<byte>();
        int listLen = 3 + leaf.Length + 3 + inter.Length;
        certMsg.Add(11);
        certMsg.AddRange(U24(3 + listLen));
        certMsg.AddRange(U24(listLen));
        certMsg.AddRange(U24(leaf.Length));
        certMsg.AddRange(leaf);
        certMsg.AddRange(U24(inter.Length));
        certMsg.AddRange(inter);
        byte[] serverHello = { 2, 0, 0, 2, 3, 3 };
        byte[] handshake = serverHello.Concat(certMsg).ToArray();

        // split over two records, as servers do with long chains
        var wire = new List<byte>();
        int half = handshake.Length / 2;
        foreach (byte[] part in new[] { handshake[..half], handshake[half..] })
        {
            wire.AddRange(new byte[] { 22, 3, 3, (byte)(part.Length >> 8), (byte)part.Length });
            wire.AddRange(part);
        }

        X509Certificate2[] certs = TlsRecordReader.ServerCertificates(wire.ToArray());
        Assert.Equal(new[] { pki.Server.Thumbprint, pki.Intermediate.Thumbprint }, certs.Select(c => c.Thumbprint));
        Assert.Empty(TlsRecordReader.ServerCertificates(wire.Take(40).ToArray()));
        Assert.Empty(TlsRecordReader.ServerCertificates(Array.Empty<byte>()));
    }

    /// <summary>A handshake message list as a server would send it: ServerHello then the given messages, in records.</summary>
    private static byte[] Flight(byte[] serverHelloBody, params (byte Type, byte[] Body)[] messages)
    {
        var handshake = new List<byte> { 2 };
        handshake.AddRange(U24(serverHelloBody.Length));
        handshake.AddRange(serverHelloBody);
        foreach ((byte type, byte[] body) in messages)
        {
            handshake.Add(type);
            handshake.AddRange(U24(body.Length));
            handshake.AddRange(body);
        }

        var wire = new List<byte>();
        for (int i = 0; i < handshake.Count; i += 16000)
        {
            byte[] part = handshake.Skip(i).Take(16000).ToArray();
            wire.AddRange(new byte[] { 22, 3, 3, (byte)(part.Length >> 8), (byte)part.Length });
            wire.AddRange(part);
        }

        return wire.ToArray();
    }

    private static byte[] ServerHelloBody(bool tls13)
    {
        var b = new List<byte> { 3, 3 };
        b.AddRange(new byte[32]);
        b.Add(0); // session id
        b.AddRange(new byte[] { 0x13, 0x01, 0 });
        byte[] ext = tls13 ? new byte[] { 0, 43, 0, 2, 3, 4 } : new byte[] { 0xff, 1, 0, 1, 0 };
        b.AddRange(new[] { (byte)(ext.Length >> 8), (byte)ext.Length });
        b.AddRange(ext);
        return b.ToArray();
    }

    private static byte[] CertificateList(params byte[][] ders)
    {
        var list = new List<byte>();
        foreach (byte[] d in ders)
        {
            list.AddRange(U24(d.Length));
            list.AddRange(d);
        }

        return U24(list.Count).Concat(list).ToArray();
    }

    [Fact]
    public void ServerFlightTellsTls13FromTls12AndSeesTheHelloDone()
    {
        var pki = TestPki.Default;
        ServerFlight t13 = TlsRecordReader.Inspect(Flight(ServerHelloBody(tls13: true)));
        Assert.True(t13.SawServerHello);
        Assert.True(t13.Tls13);
        Assert.Empty(t13.Certificates);

        ServerFlight t12 = TlsRecordReader.Inspect(Flight(ServerHelloBody(tls13: false), (11, CertificateList(pki.Server.Der, pki.Intermediate.Der)), (14, Array.Empty<byte>())));
        Assert.False(t12.Tls13);
        Assert.True(t12.SawServerHelloDone);
        Assert.False(t12.CertificatesUnreadable);
        Assert.Equal(new[] { pki.Server.Thumbprint, pki.Intermediate.Thumbprint }, t12.Certificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void APkcs12BlobInTheCertificateMessageIsNotImported()
    {
        // .NET's byte-array certificate loader also opens PKCS#12 files (and imports their keys): a hostile server
        // must not get that far with what it puts into its Certificate message.
        var pki = TestPki.Default;
        var store = new Org.BouncyCastle.Pkcs.Pkcs12StoreBuilder().Build();
        store.SetKeyEntry("k", new Org.BouncyCastle.Pkcs.AsymmetricKeyEntry(pki.Leaf.Keys.Private), new[] { new Org.BouncyCastle.Pkcs.X509CertificateEntry(pki.Leaf.Certificate) });
        using var ms = new MemoryStream();
        store.Save(ms, Array.Empty<char>(), new Org.BouncyCastle.Security.SecureRandom());
        byte[] pfx = ms.ToArray();
        ServerFlight f = TlsRecordReader.Inspect(Flight(ServerHelloBody(false), (11, CertificateList(pfx)), (14, Array.Empty<byte>())));
        Assert.Empty(f.Certificates);
        Assert.True(f.CertificatesUnreadable);
        Assert.Null(TlsRecordReader.LoadCertificate(pfx));
        Assert.NotNull(TlsRecordReader.LoadCertificate(pki.Server.Der));
        Assert.Null(TlsRecordReader.LoadCertificate(pki.Server.Der.Concat(new byte[] { 0 }).ToArray()));
    }

    [Fact]
    public void HostileFlightsNeverThrow()
    {
        var rnd = new Random(4);
        var pki = TestPki.Default;
        byte[] good = Flight(ServerHelloBody(false), (11, CertificateList(pki.Server.Der)), (14, Array.Empty<byte>()));
        for (int i = 0; i < 3000; i++)
        {
            byte[] bad = (byte[])good.Clone();
            for (int k = 0; k < 1 + (i % 8); k++)
            {
                bad[rnd.Next(bad.Length)] = (byte)rnd.Next(256);
            }

            _ = TlsRecordReader.Inspect(bad[..rnd.Next(bad.Length + 1)]);
        }

        byte[] junk = new byte[70000];
        rnd.NextBytes(junk);
        junk[0] = 22;
        _ = TlsRecordReader.Inspect(junk);
    }

    [Fact]
    public void EndlessInterimAnswersAndEmptyLinesAreBounded()
    {
        string interim = string.Concat(Enumerable.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 50)) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        Assert.Throws<InvalidDataException>(() => Read(interim));
        Assert.Equal(200, Read(string.Concat(Enumerable.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 3)) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").StatusCode);
        Assert.Throws<InvalidDataException>(() => Read("HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat("X: y\r\n", 20000)) + "\r\n"));
    }

    [Fact]
    public void SecretsOfTheRequestThatTheServerEchoesAreRedacted()
    {
        var options = new ProbeOptions
        {
            Headers = new[] { new KeyValuePair<string, string>("Authorization", "Bearer eyJhbGciOi.SECRETPART"), new KeyValuePair<string, string>("X-Trace", "harmless-value") },
            Body = Encoding.UTF8.GetBytes("grant_type=client_credentials&client_secret=s3cr%2Ft+v4lue&client_id=sb-x"),
        };
        string echo = "{\"headers\":{\"Authorization\":\"Bearer eyJhbGciOi.SECRETPART\",\"X-Trace\":\"harmless-value\"},"
            + "\"form\":\"client_secret=s3cr%2Ft+v4lue\",\"decoded\":\"s3cr/t v4lue\",\"token\":\"refresh_token=abcdefgh&x=1\"}";
        string shown = ProbeRedaction.Redact(echo, options);
        Assert.DoesNotContain("SECRETPART", shown);
        Assert.DoesNotContain("s3cr", shown);
        Assert.DoesNotContain("abcdefgh", shown);
        Assert.Contains("harmless-value", shown);
        Assert.Contains("sb-x", ProbeRedaction.Redact("client_id=sb-x", options));
    }

    [Fact]
    public void ProtocolNamesDoNotDependOnTheFrameworksEnum()
    {
        // .NET Framework's SslProtocols has no Tls13 member: the name must come from the value.
        Assert.Equal("Tls13", TlsProbe.ProtocolName((System.Security.Authentication.SslProtocols)12288));
        Assert.Equal("Tls12", TlsProbe.ProtocolName((System.Security.Authentication.SslProtocols)3072));
    }

    [Fact]
    public void TheRealConnectionKeepsNoCopyOfTheAnswer()
    {
        // Only the handshake is needed; 200 parallel probes must not each keep 256 KB of the encrypted answer.
        var rec = new RecordingStream(new MemoryStream(new byte[100_000]));
        var buffer = new byte[1000];
        Assert.Equal(1000, rec.Read(buffer, 0, 1000));
        Assert.Equal(1000, rec.Received.Length);
        rec.StopRecording();
        while (rec.Read(buffer, 0, buffer.Length) > 0)
        {
        }

        Assert.Empty(rec.Received);
    }

    [Fact]
    public void TheWriteGateHoldsEveryWriteAfterTheFirst()
    {
        var inner = new MemoryStream();
        var rec = new RecordingStream(inner) { WriteGate = () => false };
        rec.Write(new byte[] { 1 }, 0, 1); // the ClientHello
        Assert.Throws<IOException>(() => rec.Write(new byte[] { 2 }, 0, 1));
        Assert.Equal(1, inner.Length);
    }

    private static byte[] U24(int n) => new[] { (byte)(n >> 16), (byte)(n >> 8), (byte)n };
}
