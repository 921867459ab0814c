using System;
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
        var result = new MtlsTestResult { Uri = uri, ClientCertificateSubject = options.Credential?.Subject, ClientCertificateThumbprint = options.Credential?.Leaf.Thumbprint };
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
            stage = "connecting"; // also while waiting for the observation another probe of this host is making
            HandshakeObservation first = options.Observations is { } cache
                ? await cache.GetOrObserveAsync(host, port, () => ObserveCoreAsync(host, port, options, ct, s => stage = s), ct).ConfigureAwait(false)
                : await ObserveCoreAsync(host, port, options, ct, s => stage = s).ConfigureAwait(false);

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
            using Socket socket = options.Proxy is { } proxy
                ? await ProxyTunnel.OpenAsync(proxy, host, port, ct, s => stage = s).ConfigureAwait(false)
                : await ConnectAsync(first.RemoteAddress?.ToString() ?? host, port, ct, s => stage = s).ConfigureAwait(false);
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
        catch (CertIntegrationException ex) when (ex.ErrorId is ErrorIds.ProxyRefused or ErrorIds.ProxyAuthenticationRequired)
        {
            result.Failure = ProbeFailure.ProxyFailed;
            result.FailedStage = stage;
            result.Error = ex.Message;
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
    public static async Task<HandshakeObservation> ObserveAsync(string host, int port, ServerCertificateValidator validator, int timeoutSec, CancellationToken cancel, ProxySettings? proxy = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSec));
        return await ObserveCoreAsync(host, port, new ProbeOptions { Validator = validator, TimeoutSec = timeoutSec, Proxy = proxy }, timeout.Token, _ => { }).ConfigureAwait(false);
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
        using Socket socket = options.Proxy is { } proxy
            ? await ProxyTunnel.OpenAsync(proxy, host, port, ct, stage).ConfigureAwait(false)
            : await ConnectAsync(host, port, ct, stage).ConfigureAwait(false);
        using var net = new RecordingStream(new NetworkStream(socket, ownsSocket: false));

        // Through a proxy the socket's peer is the proxy: the real connection goes through it again by name.
        var obs = new HandshakeObservation { RemoteAddress = options.Proxy is null ? (socket.RemoteEndPoint as IPEndPoint)?.Address : null };
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

        string text = ProbeRedaction.Redact(new UTF8Encoding(false, false).GetString(answer.Body), options);
        return answer.BodyTruncated ? text + "..." : text;
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
