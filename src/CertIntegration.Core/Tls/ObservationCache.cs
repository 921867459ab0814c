using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Core.Tls;

/// <summary>
/// The observing handshake's findings per host and port, within one cmdlet call: testing 200 endpoints of one
/// tenant then costs one observing handshake instead of 200 (half the handshakes, and one "no client certificate"
/// entry in the server's log instead of one per endpoint). Only complete observations (a server certificate seen)
/// are kept; failures are not, so each probe tells its own. Safe because the real connection checks the server
/// again (<see cref="CertificateGuard"/>, the validation callback).
/// Probes that start together share the one observation under way instead of each making its own (with
/// -ThrottleLimit 64, the first 64 probes would otherwise all observe).
/// </summary>
internal sealed class ObservationCache
{
    private readonly ConcurrentDictionary<string, HandshakeObservation> _seen = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Task<HandshakeObservation>> _underWay = new(StringComparer.OrdinalIgnoreCase);

    public bool TryGet(string host, int port, out HandshakeObservation? observation) => _seen.TryGetValue(host + "|" + port, out observation);

    public void Add(string host, int port, HandshakeObservation observation)
    {
        if (observation.Presented.Length > 0)
        {
            _seen.TryAdd(host + "|" + port, observation);
        }
    }

    /// <summary>
    /// The kept observation; else the one another probe is making (when it ends complete); else
    /// <paramref name="observe"/>'s own, kept when complete. A probe whose shared observation failed or was incomplete
    /// observes for itself, so its result tells its own failure.
    /// </summary>
    public async Task<HandshakeObservation> GetOrObserveAsync(string host, int port, Func<Task<HandshakeObservation>> observe, CancellationToken ct)
    {
        string key = host + "|" + port;
        if (_seen.TryGetValue(key, out HandshakeObservation? kept))
        {
            return kept;
        }

        var mine = new TaskCompletionSource<HandshakeObservation>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<HandshakeObservation> underWay = _underWay.GetOrAdd(key, mine.Task);
        if (!ReferenceEquals(underWay, mine.Task))
        {
            try
            {
                Task done = await Task.WhenAny(underWay, Task.Delay(Timeout.Infinite, ct)).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                if (done == underWay && underWay.Status == TaskStatus.RanToCompletion && underWay.Result.Presented.Length > 0)
                {
                    return underWay.Result;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // the other probe's failure is its own
            }

            HandshakeObservation own = await observe().ConfigureAwait(false);
            Add(host, port, own);
            return own;
        }

        try
        {
            HandshakeObservation first = await observe().ConfigureAwait(false);
            Add(host, port, first);
            mine.SetResult(first);
            return first;
        }
        catch (Exception ex)
        {
            mine.SetException(ex);
            _ = mine.Task.Exception; // observed: the waiting probes observe for themselves
            throw;
        }
        finally
        {
            _underWay.TryRemove(key, out _);
        }
    }
}
