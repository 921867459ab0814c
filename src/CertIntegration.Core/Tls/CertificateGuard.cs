using System;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Core.Tls;

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
