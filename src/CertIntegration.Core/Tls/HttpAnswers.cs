using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Core.Tls;

/// <summary>Reading an HTTP answer's body with an upper bound, for the module's REST clients.</summary>
internal static class HttpAnswers
{
    /// <summary>
    /// The body of <paramref name="response"/>, read in chunks; more than <paramref name="maxBytes"/> bytes stop the read
    /// with the exception <paramref name="tooLarge"/> makes, before the rest arrives.
    /// </summary>
    public static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, int maxBytes, Func<Exception> tooLarge, CancellationToken ct)
    {
        using Stream stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        while (true)
        {
            int n = await stream.ReadAsync(chunk, 0, chunk.Length, ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            if (buffer.Length + n > maxBytes)
            {
                throw tooLarge();
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}
