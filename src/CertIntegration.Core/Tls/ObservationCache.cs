using System;

namespace CertIntegration.Core.Tls;

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
