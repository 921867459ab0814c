using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Internal.Tls;

/// <summary>
/// A pass-through stream that keeps a copy of the first bytes the server sends (bounded), so that the observing
/// handshake can read the server's certificate list itself when .NET does not hand it over.
/// </summary>
internal sealed class RecordingStream : Stream
{
    private const int MaxRecorded = 256 * 1024;
    private readonly Stream _inner;
    private readonly MemoryStream _received = new();

    public RecordingStream(Stream inner) => _inner = inner;

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

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.WriteAsync(buffer, offset, count, cancellationToken);

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
            int room = MaxRecorded - (int)_received.Length;
            if (room > 0)
            {
                _received.Write(buffer, offset, Math.Min(room, n));
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

/// <summary>
/// Reads the server's Certificate message from the plaintext part of a TLS 1.2 handshake (RFC 5246 7.4.2). Needed
/// when a TLS 1.2 server that requires a client certificate aborts the observing handshake: .NET then never shows the
/// chain it received, yet the chain must be judged before our certificate is presented. (In TLS 1.3 the message is
/// encrypted, but there the handshake completes on the client's side and .NET shows the chain.)
/// </summary>
internal static class TlsRecordReader
{
    private const byte Handshake = 22;
    private const byte ChangeCipherSpec = 20;
    private const byte CertificateMessage = 11;
    private const byte ServerHello = 2;

    public static X509Certificate2[] ServerCertificates(byte[] received)
    {
        var handshake = new MemoryStream();
        int pos = 0;
        while (pos + 5 <= received.Length)
        {
            byte type = received[pos];
            int length = (received[pos + 3] << 8) | received[pos + 4];
            if (pos + 5 + length > received.Length || type == ChangeCipherSpec)
            {
                break;
            }

            if (type == Handshake)
            {
                handshake.Write(received, pos + 5, length);
            }
            else if (type != 21)
            {
                break; // application data or garbage: the plaintext part is over
            }

            pos += 5 + length;
        }

        byte[] h = handshake.ToArray();
        int p = 0;
        bool sawServerHello = false;
        while (p + 4 <= h.Length)
        {
            byte msgType = h[p];
            int msgLength = (h[p + 1] << 16) | (h[p + 2] << 8) | h[p + 3];
            if (p + 4 + msgLength > h.Length)
            {
                break;
            }

            if (msgType == ServerHello)
            {
                sawServerHello = true;
            }
            else if (msgType == CertificateMessage && sawServerHello)
            {
                return ParseCertificateList(h, p + 4, msgLength);
            }

            p += 4 + msgLength;
        }

        return Array.Empty<X509Certificate2>();
    }

    private static X509Certificate2[] ParseCertificateList(byte[] h, int start, int length)
    {
        var list = new List<X509Certificate2>();
        if (length < 3)
        {
            return list.ToArray();
        }

        int total = (h[start] << 16) | (h[start + 1] << 8) | h[start + 2];
        int p = start + 3;
        int end = Math.Min(start + 3 + total, start + length);
        while (p + 3 <= end && list.Count < Limits.MaxChainLength)
        {
            int certLength = (h[p] << 16) | (h[p + 1] << 8) | h[p + 2];
            p += 3;
            if (certLength <= 0 || p + certLength > end)
            {
                break;
            }

            byte[] der = new byte[certLength];
            Buffer.BlockCopy(h, p, der, 0, certLength);
            p += certLength;
            try
            {
                list.Add(new X509Certificate2(der));
            }
            catch (CryptographicException)
            {
                break;
            }
        }

        return list.ToArray();
    }
}
