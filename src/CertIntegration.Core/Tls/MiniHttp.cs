using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Core.Tls;

/// <summary>An HTTP/1.1 answer, as far as a probe needs it.</summary>
internal sealed class HttpAnswer
{
    public int StatusCode { get; set; }

    public string ReasonPhrase { get; set; } = string.Empty;

    public List<KeyValuePair<string, string>> Headers { get; } = new();

    public byte[] Body { get; set; } = Array.Empty<byte>();

    public bool BodyTruncated { get; set; }

    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>Thrown when the server closed or broke the connection before sending any byte of the answer.</summary>
internal sealed class NoAnswerException : IOException
{
    public NoAnswerException(string message, Exception? inner) : base(message, inner)
    {
    }
}

/// <summary>
/// One HTTP/1.1 request and its answer over an already authenticated TLS stream. A probe needs exactly one exchange
/// with full control over what goes on the wire: no redirects followed, no connection reuse, no HTTP/2, no proxy, and
/// a visible difference between "the server closed the connection right after the handshake" (how TLS 1.3 servers
/// reject a client certificate) and an HTTP answer. Bounded: header block 64 KB, body kept up to a limit.
/// </summary>
internal static class MiniHttp
{
    public const int MaxHeaderBytes = 64 * 1024;

    /// <summary>How many 1xx interim answers are skipped before the answer counts as broken.</summary>
    public const int MaxInterimAnswers = 16;

    public static byte[] BuildRequest(Uri uri, string method, IReadOnlyList<KeyValuePair<string, string>>? headers, byte[]? body, string? contentType)
    {
        var sb = new StringBuilder();
        sb.Append(method).Append(' ').Append(uri.PathAndQuery.Length == 0 ? "/" : uri.PathAndQuery).Append(" HTTP/1.1\r\n");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (headers is not null)
        {
            foreach (KeyValuePair<string, string> header in headers)
            {
                string name = header.Key;
                string value = header.Value;
                CheckHeader(name, value);
                if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase)
                    || string.Equals(name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Connection", StringComparison.OrdinalIgnoreCase))
                {
                    continue; // set by the probe
                }

                names.Add(name);
                sb.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        sb.Append("Host: ").Append(uri.IsDefaultPort ? uri.IdnHost : uri.IdnHost + ":" + uri.Port).Append("\r\n");
        if (!names.Contains("User-Agent"))
        {
            sb.Append("User-Agent: CertIntegration-Test-MtlsEndpoint\r\n");
        }

        if (!names.Contains("Accept"))
        {
            sb.Append("Accept: */*\r\n");
        }

        if (body is not null)
        {
            if (!names.Contains("Content-Type"))
            {
                sb.Append("Content-Type: ").Append(contentType ?? "text/plain; charset=utf-8").Append("\r\n");
            }

            sb.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }
        else if (method is "POST" or "PUT" or "PATCH")
        {
            sb.Append("Content-Length: 0\r\n");
        }

        sb.Append("Connection: close\r\n\r\n");
        byte[] head = Encoding.ASCII.GetBytes(sb.ToString());
        if (body is null || body.Length == 0)
        {
            return head;
        }

        byte[] all = new byte[head.Length + body.Length];
        Buffer.BlockCopy(head, 0, all, 0, head.Length);
        Buffer.BlockCopy(body, 0, all, head.Length, body.Length);
        return all;
    }

    public static void CheckHeader(string name, string value)
    {
        bool badName = name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".IndexOf(c) >= 0);
        bool badValue = value.Any(c => c == '\r' || c == '\n' || c == '\0');
        if (badName || badValue)
        {
            throw new CertIntegrationException(ErrorIds.HeaderInvalid, FailureKind.InvalidArgument,
                $"The header '{Printable(name)}' is not a valid HTTP header (names are tokens; values cannot contain line breaks).");
        }
    }

    private static string Printable(string s) => new string(s.Take(60).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    /// <summary>Reads one answer (skipping 1xx interim answers). Keeps at most <paramref name="maxBody"/> body bytes.</summary>
    public static async Task<HttpAnswer> ReadAnswerAsync(Stream stream, bool headRequest, int maxBody, CancellationToken ct)
    {
        var reader = new Reader(stream, ct);
        for (int interim = 0; ; interim++)
        {
            if (interim > MaxInterimAnswers)
            {
                throw new InvalidDataException($"The server sent more than {MaxInterimAnswers} interim (1xx) answers and no final one.");
            }

            string head;
            try
            {
                head = await reader.ReadHeadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (reader.Total == 0 && ex is IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                throw new NoAnswerException("The server closed the connection without answering: " + ex.Message, ex);
            }

            if (head.Length == 0 && reader.Total == 0)
            {
                throw new NoAnswerException("The server closed the connection without answering.", null);
            }

            var answer = ParseHead(head);
            if (answer.StatusCode >= 100 && answer.StatusCode < 200 && answer.StatusCode != 101)
            {
                continue;
            }

            if (headRequest || answer.StatusCode == 204 || answer.StatusCode == 304)
            {
                return answer;
            }

            var body = new MemoryStream();
            string? te = answer.Header("Transfer-Encoding");
            string? cl = answer.Header("Content-Length");
            try
            {
                if (te is not null && te.IndexOf("chunked", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    answer.BodyTruncated = await ReadChunkedAsync(reader, body, maxBody).ConfigureAwait(false);
                }
                else if (cl is not null && long.TryParse(cl.Trim(), out long length) && length >= 0)
                {
                    int want = (int)Math.Min(length, maxBody);
                    await reader.ReadBytesAsync(body, want).ConfigureAwait(false);
                    answer.BodyTruncated = length > maxBody;
                }
                else
                {
                    answer.BodyTruncated = !await reader.ReadToEndAsync(body, maxBody).ConfigureAwait(false);
                }
            }
            catch (IOException)
            {
                // The status line and headers arrived; a body cut short is still worth showing.
                answer.BodyTruncated = true;
            }

            answer.Body = body.ToArray();
            return answer;
        }
    }

    private static HttpAnswer ParseHead(string head)
    {
        string[] lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None);
        string status = lines[0];
        string[] parts = status.Split(new[] { ' ' }, 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(parts[1], out int code) || code < 100 || code > 999)
        {
            throw new InvalidDataException("The server's answer is not HTTP: '" + new string(status.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray()) + "'.");
        }

        var answer = new HttpAnswer { StatusCode = code, ReasonPhrase = parts.Length > 2 ? parts[2].Trim() : string.Empty };
        for (int i = 1; i < lines.Length; i++)
        {
            int colon = lines[i].IndexOf(':');
            if (colon > 0)
            {
                answer.Headers.Add(new KeyValuePair<string, string>(lines[i].Substring(0, colon).Trim(), lines[i].Substring(colon + 1).Trim()));
            }
        }

        return answer;
    }

    /// <summary>Returns true when the body was cut at the limit.</summary>
    private static async Task<bool> ReadChunkedAsync(Reader reader, MemoryStream body, int maxBody)
    {
        while (true)
        {
            string sizeLine = await reader.ReadLineAsync().ConfigureAwait(false);
            int semi = sizeLine.IndexOf(';');
            string hex = (semi >= 0 ? sizeLine.Substring(0, semi) : sizeLine).Trim();
            if (!long.TryParse(hex, System.Globalization.NumberStyles.HexNumber, null, out long size) || size < 0)
            {
                throw new IOException("Malformed chunked encoding.");
            }

            if (size == 0)
            {
                return false;
            }

            long room = maxBody - body.Length;
            if (size > room)
            {
                await reader.ReadBytesAsync(body, (int)room).ConfigureAwait(false);
                return true;
            }

            await reader.ReadBytesAsync(body, (int)size).ConfigureAwait(false);
            await reader.ReadLineAsync().ConfigureAwait(false);
        }
    }

    private sealed class Reader
    {
        private readonly Stream _stream;
        private readonly CancellationToken _ct;
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start;
        private int _end;
        private int _emptyLines;

        public Reader(Stream stream, CancellationToken ct)
        {
            _stream = stream;
            _ct = ct;
        }

        public long Total { get; private set; }

        private async Task<bool> FillAsync()
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }

            if (_end == _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            int n = await _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, _ct).ConfigureAwait(false);
            if (n <= 0)
            {
                return false;
            }

            _end += n;
            Total += n;
            return true;
        }

        /// <summary>Reads up to the blank line ending the header block; empty when the stream ended before any byte.</summary>
        public async Task<string> ReadHeadAsync()
        {
            var head = new StringBuilder();
            while (true)
            {
                string line = await ReadLineAsync(allowEof: head.Length == 0).ConfigureAwait(false);
                if (line.Length == 0)
                {
                    if (head.Length == 0 && Total == 0)
                    {
                        return string.Empty;
                    }

                    if (head.Length > 0)
                    {
                        return head.ToString();
                    }

                    if (++_emptyLines > MaxHeaderBytes)
                    {
                        throw new InvalidDataException("The server sends empty lines instead of an answer.");
                    }

                    continue;
                }

                if (head.Length > 0)
                {
                    head.Append("\r\n");
                }

                head.Append(line);
                if (head.Length > MaxHeaderBytes)
                {
                    throw new InvalidDataException($"The server's header block exceeds {MaxHeaderBytes} bytes.");
                }
            }
        }

        public async Task<string> ReadLineAsync(bool allowEof = false)
        {
            var line = new List<byte>();
            while (true)
            {
                while (_start < _end)
                {
                    byte b = _buffer[_start++];
                    if (b == (byte)'\n')
                    {
                        if (line.Count > 0 && line[line.Count - 1] == (byte)'\r')
                        {
                            line.RemoveAt(line.Count - 1);
                        }

                        return Encoding.GetEncoding("ISO-8859-1").GetString(line.ToArray());
                    }

                    line.Add(b);
                    if (line.Count > MaxHeaderBytes)
                    {
                        throw new InvalidDataException($"A line of the server's answer exceeds {MaxHeaderBytes} bytes.");
                    }
                }

                if (!await FillAsync().ConfigureAwait(false))
                {
                    if (allowEof && line.Count == 0 && Total == 0)
                    {
                        return string.Empty;
                    }

                    throw new IOException("The connection closed in the middle of the answer.");
                }
            }
        }

        public async Task ReadBytesAsync(MemoryStream into, int count)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync().ConfigureAwait(false))
                {
                    throw new IOException("The connection closed in the middle of the body.");
                }

                int n = Math.Min(count, _end - _start);
                into.Write(_buffer, _start, n);
                _start += n;
                count -= n;
            }
        }

        /// <summary>Reads until the connection closes or the limit; true when it closed within the limit.</summary>
        public async Task<bool> ReadToEndAsync(MemoryStream into, int max)
        {
            while (true)
            {
                int n = Math.Min(max - (int)into.Length, _end - _start);
                into.Write(_buffer, _start, n);
                _start += n;
                if (into.Length >= max)
                {
                    return false;
                }

                if (!await FillAsync().ConfigureAwait(false))
                {
                    return true;
                }
            }
        }
    }
}
