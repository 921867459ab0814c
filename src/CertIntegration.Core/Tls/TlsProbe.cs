using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Core.Tls;

internal enum ProbeFailure
{
    None,
    DnsFailure,
    ConnectionRefused,
    ConnectFailed,
    Timeout,
    Cancelled,
    HandshakeFailed,
    ServerUntrusted,
    RejectedAfterHandshake,
    NoAnswer,
    NotHttp,
    UnexpectedStatus,
    Unexpected,
}

/// <summary>What one probe is asked to do.</summary>
internal sealed class ProbeOptions
{
    public string Method { get; set; } = "GET";

    public byte[]? Body { get; set; }

    public string? ContentType { get; set; }

    /// <summary>Request headers, in the order given; the cmdlet layer turns -Headers into these.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; set; }

    public int TimeoutSec { get; set; } = 30;

    public int[]? ExpectedStatusCodes { get; set; }

    public ServerCertificateValidator Validator { get; set; } = new(null);

    public bool SkipCertificateCheck { get; set; }

    /// <summary>The client certificate to present when the server asks; null to probe without one.</summary>
    public ClientCredential? Credential { get; set; }

    public int MaxBodyBytes { get; set; } = 8 * 1024;

    /// <summary>Observing handshakes already made in this cmdlet call, shared by its probes; null to observe every time.</summary>
    public ObservationCache? Observations { get; set; }
}

/// <summary>
/// The observing handshake's findings per host and port, within one cmdlet call: testing 200 endpoints of one
/// tenant then costs one observing handshake instead of 200 (half the handshakes, and one "no client certificate"
/// entry in the server's log instead of one per endpoint). Only complete observations (a server certificate seen)
/// are kept; failures are not, so each probe tells its own. Safe because the real connection checks the server
/// again (<see cref="CertificateGuard"/>, the validation callback).
/// </summary>
internal sealed class ObservationCache
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HandshakeObservation> _seen = new(StringComparer.OrdinalIgnoreCase);

    public bool TryGet(string host, int port, out HandshakeObservation? observation) => _seen.TryGetValue(host + "|" + port, out observation);

    public void Add(string host, int port, HandshakeObservation observation)
    {
        if (observation.Presented.Length > 0)
        {
            _seen.TryAdd(host + "|" + port, observation);
        }
    }
}

/// <summary>What one TLS handshake showed.</summary>
internal sealed class HandshakeObservation
{
    private readonly object _gate = new();

    public bool ClientCertificateRequested { get; private set; }

    public List<string> AcceptableIssuers { get; } = new();

    /// <summary>The server's certificates as it sent them, leaf first.</summary>
    public X509Certificate2[] Presented { get; private set; } = Array.Empty<X509Certificate2>();

    public ServerValidation? Validation { get; set; }

    public bool Completed { get; set; }

    public Exception? Error { get; set; }

    public string? Protocol { get; set; }

    public string? CipherSuite { get; set; }

    public bool ClientCertificateSent { get; set; }

    /// <summary>The address the handshake reached.</summary>
    public IPAddress? RemoteAddress { get; set; }

    /// <summary>True once .NET handed over the server's whole chain (after a completed handshake).</summary>
    public bool ValidationCalled { get; private set; }

    /// <summary>True when <see cref="Presented"/> came from the TLS 1.2 Certificate message read off the wire.</summary>
    public bool PresentedFromWire { get; private set; }

    public void SetPresentedFromWire(X509Certificate2[] certificates)
    {
        lock (_gate)
        {
            Presented = certificates;
            PresentedFromWire = true;
        }
    }

    /// <summary>Takes the server side from a later observation that saw more of it.</summary>
    public void MergeServerSide(HandshakeObservation other)
    {
        if (other.ValidationCalled)
        {
            Presented = other.Presented;
            Validation = other.Validation;
            ValidationCalled = true;
        }

        foreach (string i in other.AcceptableIssuers)
        {
            if (!AcceptableIssuers.Contains(i))
            {
                AcceptableIssuers.Add(i);
            }
        }

        ClientCertificateRequested |= other.ClientCertificateRequested;
    }

    public void OnSelection(X509Certificate? remote, string[]? issuers)
    {
        lock (_gate)
        {
            // .NET calls the selection callback once before the handshake (no server certificate yet, no issuers) and
            // again when the server sends a CertificateRequest: then the server certificate is known.
            if (remote is not null)
            {
                ClientCertificateRequested = true;
                if (Presented.Length == 0)
                {
                    Presented = new[] { new X509Certificate2(remote.GetRawCertData()) };
                }
            }

            if (issuers is { Length: > 0 })
            {
                ClientCertificateRequested = true;
                foreach (string i in issuers)
                {
                    if (!AcceptableIssuers.Contains(i))
                    {
                        AcceptableIssuers.Add(i);
                    }
                }
            }
        }
    }

    public void OnValidation(X509Certificate? remote, X509Chain? chain)
    {
        if (remote is null)
        {
            return;
        }

        lock (_gate)
        {
            ValidationCalled = true;
            var list = new List<X509Certificate2> { new(remote.GetRawCertData()) };
            if (chain is not null)
            {
#if NET8_0_OR_GREATER
                // The certificates the server sent besides its own, in the order it sent them.
                foreach (X509Certificate2 c in chain.ChainPolicy.ExtraStore)
                {
                    if (!list.Any(l => l.RawData.SequenceEqual(c.RawData)))
                    {
                        list.Add(new X509Certificate2(c.RawData));
                    }
                }
#else
                // SChannel hands over the chain it built from what the server sent.
                foreach (X509ChainElement e in chain.ChainElements)
                {
                    if (!list.Any(l => l.RawData.SequenceEqual(e.Certificate.RawData)))
                    {
                        list.Add(new X509Certificate2(e.Certificate.RawData));
                    }
                }
#endif
            }

            Presented = list.ToArray();
        }
    }
}

/// <summary>
/// The TLS probe behind Test-MtlsEndpoint and Get-ServerCertificateChain.
/// <para>Two handshakes. The first presents no certificate and only observes: the server's chain, whether it asks for a
/// client certificate and from which CAs (the selection callback is the only place this appears). The second is the
/// real one: on PowerShell 7 with a certificate context built from leaf and intermediates, so the whole chain goes out
/// (with a context .NET never calls the selection callback, hence the first handshake); on Windows PowerShell with
/// the leaf chosen in the selection callback (SChannel adds intermediates it finds in the Windows stores).</para>
/// <para>The client certificate is presented only after the server's chain and name passed our own validation; on the
/// netstandard build that check runs inside the selection callback itself, before the certificate is handed over.</para>
/// </summary>
internal static class TlsProbe
{
#if NET8_0_OR_GREATER
    private const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;
    private const SslProtocols Tls13Only = SslProtocols.Tls13;
#else
    private const SslProtocols Tls13Only = (SslProtocols)12288;

    // SslProtocols.Tls13 (12288) is not in netstandard2.0. Windows (SChannel) offers TLS 1.3 to servers from
    // Windows 11 / Server 2022 (build 20348) on; asking for it on older Windows fails, so there TLS 1.2 only.
    private static readonly SslProtocols Protocols = Environment.OSVersion.Platform == PlatformID.Win32NT && Environment.OSVersion.Version.Build < 20348
        ? SslProtocols.Tls12
        : SslProtocols.Tls12 | (SslProtocols)12288;
#endif

    public static async Task<MtlsTestResult> RunAsync(Uri uri, ProbeOptions options, CancellationToken cancel)
    {
        var result = new MtlsTestResult { Uri = uri, ClientCertificateSubject = options.Credential?.Subject };
        var sw = Stopwatch.StartNew();
        string stage = "resolving the host name";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSec));
        CancellationToken ct = timeout.Token;
        string host = HostOf(uri);
        int port = uri.Port;
        try
        {
            // 1. Observe: what does the server present and ask for?
            HandshakeObservation? first = null;
            if (options.Observations is null || !options.Observations.TryGet(host, port, out first) || first is null)
            {
                first = await ObserveCoreAsync(host, port, options, ct, s => stage = s).ConfigureAwait(false);
                options.Observations?.Add(host, port, first);
            }

            ApplyServerSide(result, first);
            if (first.Presented.Length == 0)
            {
                // No server certificate at all: the handshake itself failed (protocol, cipher, not TLS).
                result.Failure = ProbeFailure.HandshakeFailed;
                result.Error = Message(first.Error) ?? "The TLS handshake failed.";
                return result;
            }

            if (!result.ServerCertificateValid && !options.SkipCertificateCheck)
            {
                result.Failure = ProbeFailure.ServerUntrusted;
                result.Error = "The server certificate is not trusted: " + string.Join(" ", result.ServerCertificateErrors);
                return result;
            }

            // 2. The real handshake and the request.
            bool present = options.Credential is not null && first.ClientCertificateRequested;
            stage = "connecting";

            // The same address the observing handshake reached: behind DNS round robin or a pool, another server
            // could answer otherwise.
            using Socket socket = await ConnectAsync(first.RemoteAddress?.ToString() ?? host, port, ct, s => stage = s).ConfigureAwait(false);
            using var net = new RecordingStream(new NetworkStream(socket, ownsSocket: false));
            var second = new HandshakeObservation();
            string? trustedLeaf = first.Validation is { Valid: true } ? first.Presented[0].Thumbprint : null;
            var guard = new CertificateGuard(net, second, host, trustedLeaf, options);
            if (present)
            {
                net.WriteGate = guard.Allow;
            }

            using SslStream ssl = CreateStream(net, second, host, present ? options.Credential : null, options, trustedLeaf: trustedLeaf);
            stage = "the TLS handshake";
            using (ct.Register(() => socket.Dispose()))
            {
                try
                {
                    await AuthenticateAsync(ssl, host, present ? options.Credential : null, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsIoFailure(ex) && !ct.IsCancellationRequested)
                {
                    ApplyServerSide(result, second, keepFirst: true);
                    if (guard.Withheld)
                    {
                        // Our certificate never left: the server on this connection failed the check before it.
                        result.ClientCertificateSent = false;
                        result.ServerCertificateValid = false;
                        result.ServerCertificateErrors = guard.Errors;
                        result.ServerCertificateChain = guard.Presented.Length > 0 ? guard.Presented : result.ServerCertificateChain;
                        result.ServerChangedBetweenConnections = guard.Presented.Length > 0 && !string.Equals(guard.Presented[0].Thumbprint, first.Presented[0].Thumbprint, StringComparison.OrdinalIgnoreCase);
                        result.Failure = ProbeFailure.ServerUntrusted;
                        result.Error = "The server certificate on the second connection is not trusted: " + string.Join(" ", guard.Errors);
                        return result;
                    }

                    if (second.Validation is { Valid: false } && !options.SkipCertificateCheck)
                    {
                        // The handshake completed on our side and .NET refused the server afterwards (TLS 1.3: the
                        // certificate message is encrypted, so it could not be checked before ours went out).
#if NET8_0_OR_GREATER
                        result.ClientCertificateSent = present;
#else
                        result.ClientCertificateSent = second.ClientCertificateSent;
#endif
                        result.ServerChangedBetweenConnections = second.Presented.Length > 0 && !string.Equals(second.Presented[0].Thumbprint, first.Presented[0].Thumbprint, StringComparison.OrdinalIgnoreCase);
                        result.Failure = ProbeFailure.ServerUntrusted;
                        result.Error = "The server certificate on the second connection is not trusted: " + string.Join(" ", result.ServerCertificateErrors);
                        return result;
                    }

                    // The server asked for it in the first handshake and it was offered in this one (on PowerShell 7
                    // the context answers without a callback, so there is nothing more to observe).
                    result.ClientCertificateSent = present;
                    result.Failure = ProbeFailure.HandshakeFailed;
                    result.Error = Message(ex);
                    return result;
                }

                net.StopRecording();
                ApplyServerSide(result, second, keepFirst: true);
                result.TlsProtocol = ProtocolName(ssl.SslProtocol);
                result.CipherSuite = CipherOf(ssl);
                result.ClientCertificateSent = present && (ssl.LocalCertificate is not null || ssl.IsMutuallyAuthenticated);
                if (!result.ServerCertificateValid && !options.SkipCertificateCheck)
                {
                    result.Failure = ProbeFailure.ServerUntrusted;
                    result.Error = "The server certificate is not trusted: " + string.Join(" ", result.ServerCertificateErrors);
                    return result;
                }

                stage = "waiting for the answer";
                bool headRequest = string.Equals(options.Method, "HEAD", StringComparison.OrdinalIgnoreCase);
                byte[] request = MiniHttp.BuildRequest(uri, options.Method, options.Headers, options.Body, options.ContentType);
                HttpAnswer answer;
                try
                {
                    await ssl.WriteAsync(request, 0, request.Length, ct).ConfigureAwait(false);
                    await ssl.FlushAsync(ct).ConfigureAwait(false);
                    answer = await MiniHttp.ReadAnswerAsync(ssl, headRequest, options.MaxBodyBytes, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when ((IsIoFailure(ex) || ex is NoAnswerException) && !ct.IsCancellationRequested)
                {
                    result.Failure = result.TlsProtocol == "Tls13" && (first.ClientCertificateRequested || second.ClientCertificateRequested)
                        ? ProbeFailure.RejectedAfterHandshake
                        : ProbeFailure.NoAnswer;
                    result.Error = Message(ex);
                    return result;
                }
                catch (InvalidDataException ex)
                {
                    result.Failure = ProbeFailure.NotHttp;
                    result.Error = ex.Message;
                    return result;
                }

                result.StatusCode = answer.StatusCode;
                result.ReasonPhrase = answer.ReasonPhrase;
                result.ResponseBody = DecodeBody(answer, options);
                if (answer.StatusCode >= 300 && answer.StatusCode < 400)
                {
                    result.RedirectLocation = answer.Header("Location");
                }

                bool expected = options.ExpectedStatusCodes is { Length: > 0 } codes
                    ? codes.Contains(answer.StatusCode)
                    : answer.StatusCode >= 200 && answer.StatusCode < 300;
                result.Success = expected;
                result.Failure = expected ? ProbeFailure.None : ProbeFailure.UnexpectedStatus;
                return result;
            }
        }
        catch (Exception ex) when (ct.IsCancellationRequested && (ex is OperationCanceledException || IsIoFailure(ex) || ex is SocketException))
        {
            result.Failure = cancel.IsCancellationRequested ? ProbeFailure.Cancelled : ProbeFailure.Timeout;
            result.FailedStage = stage;
            result.Error = cancel.IsCancellationRequested ? "Stopped." : $"No answer within {options.TimeoutSec} s while {stage}.";
            return result;
        }
        catch (SocketException ex)
        {
            result.Failure = Classify(ex);
            result.FailedStage = stage;
            result.Error = ex.Message;
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Anything else (a key the platform cannot use, a certificate context that cannot be built): a result, not a crash.
            result.Failure = ProbeFailure.Unexpected;
            result.FailedStage = stage;
            result.Error = Message(ex);
            return result;
        }
        finally
        {
            sw.Stop();
            result.ElapsedMilliseconds = sw.ElapsedMilliseconds;
            Diagnoser.Explain(result, options);
        }
    }

    /// <summary>The host to connect to and validate: the IDN (punycode) form of a name, an IPv6 address without brackets.</summary>
    internal static string HostOf(Uri uri) => uri.HostNameType == UriHostNameType.IPv6 ? uri.DnsSafeHost.Trim('[', ']') : uri.IdnHost;

    /// <summary>One observing handshake (no client certificate, no request), for Get-ServerCertificateChain.</summary>
    public static async Task<HandshakeObservation> ObserveAsync(string host, int port, ServerCertificateValidator validator, int timeoutSec, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSec));
        return await ObserveCoreAsync(host, port, new ProbeOptions { Validator = validator, TimeoutSec = timeoutSec }, timeout.Token, _ => { }).ConfigureAwait(false);
    }

    /// <summary>
    /// The observing handshake. A TLS 1.2 server that requires a client certificate aborts it before .NET hands over
    /// the server's chain (only the leaf was seen, in the selection callback); then a TLS 1.3-only attempt, which
    /// completes on the client's side before the server objects, shows the whole chain.
    /// </summary>
    private static async Task<HandshakeObservation> ObserveCoreAsync(string host, int port, ProbeOptions options, CancellationToken ct, Action<string> stage)
    {
        HandshakeObservation obs = await HandshakeAsync(host, port, null, options, ct, stage).ConfigureAwait(false);
        if (!obs.ValidationCalled && !obs.PresentedFromWire && obs.Presented.Length > 0 && obs.Error is not null)
        {
            HandshakeObservation retry = await HandshakeAsync(host, port, null, options, ct, stage, Tls13Only).ConfigureAwait(false);
            obs.MergeServerSide(retry);
        }

        return obs;
    }

    private static async Task<HandshakeObservation> HandshakeAsync(string host, int port, ClientCredential? credential, ProbeOptions options, CancellationToken ct, Action<string> stage, SslProtocols? protocols = null)
    {
        stage("connecting");
        using Socket socket = await ConnectAsync(host, port, ct, stage).ConfigureAwait(false);
        using var net = new RecordingStream(new NetworkStream(socket, ownsSocket: false));
        var obs = new HandshakeObservation { RemoteAddress = (socket.RemoteEndPoint as IPEndPoint)?.Address };
        using SslStream ssl = CreateStream(net, obs, host, credential, options, observeOnly: true);
        stage("the TLS handshake");
        using (ct.Register(() => socket.Dispose()))
        {
            try
            {
                await AuthenticateAsync(ssl, host, credential, ct, protocols).ConfigureAwait(false);
                obs.Completed = true;
                obs.Protocol = ProtocolName(ssl.SslProtocol);
                obs.CipherSuite = CipherOf(ssl);
            }
            catch (Exception ex) when (IsIoFailure(ex) && !ct.IsCancellationRequested)
            {
                obs.Error = ex;
            }
        }

        ct.ThrowIfCancellationRequested();
        if (!obs.ValidationCalled)
        {
            // The handshake ended before .NET showed the chain: read it from the TLS 1.2 Certificate message.
            X509Certificate2[] fromWire = TlsRecordReader.ServerCertificates(net.Received);
            if (fromWire.Length > 0 && (obs.Presented.Length == 0 || fromWire[0].RawData.SequenceEqual(obs.Presented[0].RawData)))
            {
                obs.SetPresentedFromWire(fromWire);
            }
        }

        if (obs.Presented.Length > 0)
        {
            obs.Validation = options.Validator.Validate(obs.Presented[0], obs.Presented.Skip(1).ToList(), host);
        }

        return obs;
    }

    private static SslStream CreateStream(Stream net, HandshakeObservation obs, string host, ClientCredential? credential, ProbeOptions options, bool observeOnly = false, string? trustedLeaf = null)
    {
        bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            obs.OnValidation(certificate, chain);
            if (observeOnly)
            {
                // Nothing of ours is sent on this connection; the chain is recorded and judged afterwards.
                return true;
            }

            if (obs.Presented.Length == 0)
            {
                return options.SkipCertificateCheck;
            }

            obs.Validation = options.Validator.Validate(obs.Presented[0], obs.Presented.Skip(1).ToList(), host);
            return obs.Validation.Valid || options.SkipCertificateCheck;
        }

        X509Certificate Select(object sender, string targetHost, X509CertificateCollection localCertificates, X509Certificate? remoteCertificate, string[] acceptableIssuers)
        {
            obs.OnSelection(remoteCertificate, acceptableIssuers);
            if (credential is null || remoteCertificate is null)
            {
                return null!;
            }

            // Decide here, before the certificate leaves: .NET validates the server only after the handshake, and
            // by then the certificate is sent. The server must present the certificate whose whole chain was
            // validated in the observing handshake, or one that validates on its own.
            var leaf = new X509Certificate2(remoteCertificate.GetRawCertData());
            if (options.SkipCertificateCheck || string.Equals(leaf.Thumbprint, trustedLeaf, StringComparison.OrdinalIgnoreCase))
            {
                obs.ClientCertificateSent = true;
                return credential.Leaf;
            }

            ServerValidation v = options.Validator.Validate(leaf, Array.Empty<X509Certificate2>(), host);
            if (!v.Valid)
            {
                obs.Validation = v;
                return null!;
            }

            obs.ClientCertificateSent = true;
            return credential.Leaf;
        }

        return new SslStream(net, false, Validate, Select, EncryptionPolicy.RequireEncryption);
    }

    private static async Task AuthenticateAsync(SslStream ssl, string host, ClientCredential? credential, CancellationToken ct, SslProtocols? protocols = null)
    {
#if NET8_0_OR_GREATER
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            EnabledSslProtocols = protocols ?? Protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            EncryptionPolicy = EncryptionPolicy.RequireEncryption,
        };
        if (credential is not null)
        {
            // Leaf and intermediates go out together; with a context the selection callback is not consulted.
            options.ClientCertificateContext = credential.Context;
        }

        await ssl.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
#else
        var certs = credential is null ? null : new X509CertificateCollection { credential.Leaf };
        await ssl.AuthenticateAsClientAsync(host, certs, protocols ?? Protocols, checkCertificateRevocation: false).ConfigureAwait(false);
#endif
    }

    internal static async Task<Socket> ConnectAsync(string host, int port, CancellationToken ct, Action<string> stage)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? literal))
        {
            addresses = new[] { literal };
        }
        else
        {
            stage("resolving the host name");
#if NET8_0_OR_GREATER
            addresses = await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
#else
            Task<IPAddress[]> lookup = Dns.GetHostAddressesAsync(host);
            Task done = await Task.WhenAny(lookup, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            addresses = await lookup.ConfigureAwait(false);
#endif
            if (addresses.Length == 0)
            {
                throw new SocketException((int)SocketError.HostNotFound);
            }
        }

        stage("connecting");
        SocketException? last = null;
        foreach (IPAddress address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using (ct.Register(() => socket.Dispose()))
                {
                    await socket.ConnectAsync(new IPEndPoint(address, port)).ConfigureAwait(false);
                }

                ct.ThrowIfCancellationRequested();
                return socket;
            }
            catch (SocketException ex) when (!ct.IsCancellationRequested)
            {
                last = ex;
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                ct.ThrowIfCancellationRequested();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private static void ApplyServerSide(MtlsTestResult result, HandshakeObservation obs, bool keepFirst = false)
    {
        if (obs.Presented.Length > 0 && (!keepFirst || result.ServerCertificateChain.Length == 0))
        {
            result.ServerCertificateChain = obs.Presented;
        }

        if (obs.Validation is not null)
        {
            result.ServerCertificateValid = obs.Validation.Valid;
            result.ServerCertificateErrors = obs.Validation.Errors;
        }

        if (!keepFirst)
        {
            result.ClientCertificateRequested = obs.ClientCertificateRequested;
            result.AcceptableIssuers = obs.AcceptableIssuers.ToArray();
            result.TlsProtocol = obs.Protocol;
            result.CipherSuite = obs.CipherSuite;
        }
        else if (obs.ClientCertificateRequested)
        {
            result.ClientCertificateRequested = true;
        }
    }

    internal static bool? ChainMatches(ClientCredential? credential, IReadOnlyCollection<string> acceptable)
    {
        if (credential is null || acceptable.Count == 0)
        {
            return null;
        }

        var wanted = new HashSet<string>(acceptable.Select(NormalizeDn), StringComparer.OrdinalIgnoreCase);
        return credential.ChainIssuerNames.Any(n => wanted.Contains(NormalizeDn(n)));
    }

    /// <summary>
    /// A comparable form of a DN: its attribute=value parts, trimmed and sorted. Servers' CA lists and certificate
    /// names print the RDNs in different orders ("O=T, CN=Root" against "CN=Root, O=T").
    /// </summary>
    internal static string NormalizeDn(string dn)
    {
        IEnumerable<string> parts;
        try
        {
            string lines = new X500DistinguishedName(dn).Decode(X500DistinguishedNameFlags.UseNewLines | X500DistinguishedNameFlags.DoNotUsePlusSign);
            parts = lines.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            parts = dn.Split(',');
        }

        return string.Join(",", parts.Select(p => p.Trim()).Where(p => p.Length > 0).OrderBy(p => p, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// "Tls12", "Tls13": .NET Framework (Windows PowerShell) has no name for TLS 1.3 and would print "12288", which
    /// also hid the TLS 1.3 diagnosis there.
    /// </summary>
    internal static string ProtocolName(SslProtocols protocol) => (int)protocol switch
    {
        12288 => "Tls13",
        3072 => "Tls12",
        _ => protocol.ToString(),
    };

    private static string CipherOf(SslStream ssl)
    {
#if NET8_0_OR_GREATER
        return ssl.NegotiatedCipherSuite.ToString();
#else
        return $"{ssl.CipherAlgorithm} {ssl.CipherStrength}-bit, {ssl.HashAlgorithm}, {ssl.KeyExchangeAlgorithm}";
#endif
    }

    private static string? DecodeBody(HttpAnswer answer, ProbeOptions options)
    {
        if (answer.Body.Length == 0)
        {
            return answer.BodyTruncated ? "..." : string.Empty;
        }

        string text = Redact(new UTF8Encoding(false, false).GetString(answer.Body), options);
        return answer.BodyTruncated ? text + "..." : text;
    }

    private const string SecretNames = "access_token|refresh_token|id_token|client_secret|password|assertion|client_assertion";

    private static readonly System.Text.RegularExpressions.Regex TokenField = new(
        "(\"(?:" + SecretNames + ")\"\\s*:\\s*\")[^\"]*(\")",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static readonly System.Text.RegularExpressions.Regex TokenParameter = new(
        "(\\b(?:" + SecretNames + ")=)[^&\\s\"<]+",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>A token endpoint's answer holds bearer tokens: they are replaced by *** before the body is shown.</summary>
    internal static string RedactTokens(string body) => TokenParameter.Replace(TokenField.Replace(body, "$1***$2"), "$1***");

    /// <summary>
    /// Tokens in the answer, and any secret of the request that the server echoes back (echo services and error
    /// pages repeat the Authorization header or a form body): replaced by *** before the body is shown.
    /// </summary>
    internal static string Redact(string body, ProbeOptions options)
    {
        string text = RedactTokens(body);
        foreach (string secret in RequestSecrets(options).Where(x => x.Length >= 6).OrderByDescending(x => x.Length))
        {
            text = text.Replace(secret, "***");
        }

        return text;
    }

    /// <summary>Values of the request's credential headers (whole and without the scheme) and of secret form fields.</summary>
    internal static IEnumerable<string> RequestSecrets(ProbeOptions options)
    {
        if (options.Headers is not null)
        {
            foreach (KeyValuePair<string, string> header in options.Headers)
            {
                string name = header.Key;
                string value = header.Value;
                if (IsSecretHeader(name))
                {
                    yield return value.Trim();
                    int space = value.Trim().IndexOf(' ');
                    if (space > 0)
                    {
                        yield return value.Trim().Substring(space + 1).Trim();
                    }
                }
            }
        }

        if (options.Body is { Length: > 0 and < 65536 } body)
        {
            string text = new UTF8Encoding(false, false).GetString(body);
            foreach (System.Text.RegularExpressions.Match m in TokenParameter.Matches(text))
            {
                string value = text.Substring(m.Index + m.Groups[1].Length, m.Length - m.Groups[1].Length);
                yield return value;
                yield return Uri.UnescapeDataString(value.Replace('+', ' '));
            }

            foreach (System.Text.RegularExpressions.Match m in TokenField.Matches(text))
            {
                int start = m.Index + m.Groups[1].Length;
                yield return text.Substring(start, m.Length - m.Groups[1].Length - m.Groups[2].Length);
            }
        }
    }

    private static bool IsSecretHeader(string name)
    {
        string n = name.ToLowerInvariant();
        return n is "authorization" or "proxy-authorization" or "cookie"
            || n.Contains("token") || n.Contains("secret") || n.Contains("password") || n.Contains("api-key") || n.Contains("apikey");
    }

    private static bool IsIoFailure(Exception ex) =>
        ex is IOException or AuthenticationException or ObjectDisposedException or SocketException or System.ComponentModel.Win32Exception
            or OperationCanceledException;

    private static ProbeFailure Classify(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => ProbeFailure.DnsFailure,
        SocketError.ConnectionRefused => ProbeFailure.ConnectionRefused,
        SocketError.TimedOut => ProbeFailure.Timeout,
        _ => ProbeFailure.ConnectFailed,
    };

    private static string? Message(Exception? ex)
    {
        if (ex is null)
        {
            return null;
        }

        var parts = new List<string>();
        for (Exception? e = ex; e is not null && parts.Count < 4; e = e.InnerException)
        {
            if (!parts.Contains(e.Message))
            {
                parts.Add(e.Message);
            }
        }

        return string.Join(" -> ", parts);
    }
}

/// <summary>
/// Checks the server on the real connection before our certificate leaves. .NET validates the server only after the
/// handshake, and with a certificate context (PowerShell 7) it sends the client certificate without asking: so the
/// write that carries the client's second flight is held until the server's TLS 1.2 Certificate message, read off
/// the wire, shows the leaf validated in the observing handshake (or a chain that validates). Anything unreadable in
/// a full TLS 1.2 handshake fails closed. In TLS 1.3 that message is encrypted and cannot be checked here; the
/// server is then judged after the handshake, and the result says so.
/// </summary>
internal sealed class CertificateGuard
{
    private readonly object _gate = new();
    private readonly RecordingStream _net;
    private readonly HandshakeObservation _obs;
    private readonly string _host;
    private readonly string? _trustedLeaf;
    private readonly ProbeOptions _options;
    private bool _decided;
    private bool _allowed;

    public CertificateGuard(RecordingStream net, HandshakeObservation obs, string host, string? trustedLeaf, ProbeOptions options)
    {
        _net = net;
        _obs = obs;
        _host = host;
        _trustedLeaf = trustedLeaf;
        _options = options;
    }

    public bool Withheld { get; private set; }

    public string[] Errors { get; private set; } = Array.Empty<string>();

    public X509Certificate2[] Presented { get; private set; } = Array.Empty<X509Certificate2>();

    public bool Allow()
    {
        lock (_gate)
        {
            if (_decided)
            {
                return _allowed;
            }

            if (_options.SkipCertificateCheck)
            {
                return Decide(true);
            }

            if (_net.Truncated)
            {
                return Refuse("ServerFlightTooLarge: the server's first flight is too large to be checked.");
            }

            ServerFlight flight = TlsRecordReader.Inspect(_net.Received);
            if (!flight.SawServerHello)
            {
                return true; // nothing from the server yet (not a flight that could carry our certificate)
            }

            if (flight.Tls13)
            {
                return Decide(true);
            }

            if (flight.Certificates.Length == 0 || flight.CertificatesUnreadable)
            {
                if (flight.SawServerHelloDone || flight.CertificatesUnreadable)
                {
                    return Refuse("CertificateUnreadable: the server's certificate message on this connection could not be read.");
                }

                return true; // an abbreviated (resumed) handshake: no certificate of ours goes out in it
            }

            X509Certificate2 leaf = flight.Certificates[0];
            Presented = flight.Certificates;
            if (_trustedLeaf is not null && string.Equals(leaf.Thumbprint, _trustedLeaf, StringComparison.OrdinalIgnoreCase))
            {
                return Decide(true);
            }

            ServerValidation v = _options.Validator.Validate(leaf, flight.Certificates.Skip(1).ToList(), _host);
            _obs.Validation = v;
            return v.Valid ? Decide(true) : Refuse(v.Errors);
        }
    }

    private bool Decide(bool allowed)
    {
        _decided = true;
        _allowed = allowed;
        return allowed;
    }

    private bool Refuse(params string[] errors)
    {
        Withheld = true;
        Errors = errors;
        return Decide(false);
    }
}
