using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Core.Tls;

/// <summary>
/// A pass-through stream that keeps a copy of the first bytes the server sends (bounded), so that the observing
/// handshake can read the server's certificate list itself when .NET does not hand it over. With a
/// <see cref="WriteGate"/>, every write after the first (the ClientHello) is held until the gate allows it: on the
/// real connection that is where the client's certificate would leave.
/// </summary>
internal sealed class RecordingStream : Stream
{
    private const int MaxRecorded = 256 * 1024;
    private readonly Stream _inner;
    private readonly MemoryStream _received = new();

    private int _writes;
    private bool _stopped;

    public RecordingStream(Stream inner) => _inner = inner;

    /// <summary>Asked before each write after the first; false stops the write (an IOException, nothing sent).</summary>
    public Func<bool>? WriteGate { get; set; }

    /// <summary>True when the server sent more than is kept.</summary>
    public bool Truncated { get; private set; }

    /// <summary>Ends recording and the gate (after the handshake: the answer need not be kept).</summary>
    public void StopRecording()
    {
        lock (_received)
        {
            _stopped = true;
            WriteGate = null;
            _received.SetLength(0);
            _received.Capacity = 0;
        }
    }

    public byte[] Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToArray();
            }
        }
    }

    public override bool CanRead => _inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = _inner.Read(buffer, offset, count);
        Record(buffer, offset, n);
        return n;
    }

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        int n = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
        Record(buffer, offset, n);
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        CheckGate();
        _inner.Write(buffer, offset, count);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        CheckGate();
        return _inner.WriteAsync(buffer, offset, count, cancellationToken);
    }

#if NET8_0_OR_GREATER
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckGate();
        return _inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        CheckGate();
        _inner.Write(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (n > 0)
        {
            byte[] copy = buffer.Slice(0, n).ToArray();
            Record(copy, 0, n);
        }

        return n;
    }
#endif

    private void CheckGate()
    {
        if (Interlocked.Increment(ref _writes) > 1 && WriteGate is { } gate && !gate())
        {
            throw new IOException("The client certificate was withheld: the server's certificate on this connection did not pass validation.");
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void Record(byte[] buffer, int offset, int n)
    {
        if (n <= 0)
        {
            return;
        }

        lock (_received)
        {
            if (_stopped)
            {
                return;
            }

            int room = MaxRecorded - (int)_received.Length;
            if (room > 0)
            {
                _received.Write(buffer, offset, Math.Min(room, n));
            }

            if (n > room)
            {
                Truncated = true;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
