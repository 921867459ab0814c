using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using CertIntegration.Core.Tls;

namespace CertIntegration.Core.Cpi;

/// <summary>One request to the API: a path under /api/v1/ (or an absolute __next link of the same tenant).</summary>
internal sealed class CpiRequest
{
    public CpiRequest(HttpMethod method, string path)
    {
        Method = method;
        Path = path;
    }

    public HttpMethod Method { get; }

    public string Path { get; }

    public byte[]? Body { get; set; }

    public string? ContentType { get; set; }

    /// <summary>What the request is about, for messages ("the keystore entry 'partner_root'").</summary>
    public string What { get; set; } = "the request";
}

/// <summary>An answer of the API, read whole (bounded).</summary>
internal sealed class CpiResponse
{
    public CpiResponse(int status, string? reason, string? contentType, byte[] body, HttpResponseHeaders headers)
    {
        Status = status;
        Reason = reason;
        ContentType = contentType;
        Body = body;
        Headers = headers;
    }

    public int Status { get; }

    public string? Reason { get; }

    public string? ContentType { get; }

    public byte[] Body { get; }

    public HttpResponseHeaders Headers { get; }

    public string Text => new UTF8Encoding(false, false).GetString(Body);
}

/// <summary>
/// The HTTP side of the Cloud Integration API over one HttpClient: an OAuth token (client credentials with the secret,
/// or over mTLS with the certificate) reused until shortly before it expires, the CSRF token fetched with
/// <c>X-CSRF-Token: Fetch</c> and kept with the session's cookies, fetched again once on 403 <c>X-CSRF-Token: Required</c>,
/// <c>Accept: application/json</c> always, bounded retries of 429/503 that carry Retry-After, a timeout per request, and
/// TLS validation on (system roots plus the trusted roots given). One client belongs to one connection object; the
/// token and secret never appear in a message.
/// </summary>
internal sealed class CpiClient : IDisposable
{
    /// <summary>A token is fetched again this long before it expires.</summary>
    public static readonly TimeSpan TokenMargin = TimeSpan.FromSeconds(60);

    /// <summary>Most retries of one request answered 429 or 503 with Retry-After.</summary>
    public const int MaxRetries = 3;

    /// <summary>Longest Retry-After waited for; a longer one fails at once.</summary>
    public const int MaxRetryAfterSeconds = 30;

    /// <summary>Largest answer read (a keystore listing of hundreds of entries is well below).</summary>
    public const int MaxAnswerBytes = 32 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly ClientCredential? _credential;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Func<DateTimeOffset> _clock;
    private string? _token;
    private DateTimeOffset _tokenExpires;
    private string? _csrf;
    private string[]? _serverErrors;

    public CpiClient(CpiEndpoint endpoint, ServerCertificateValidator validator, ProxySettings? proxy, int timeoutSec, Func<DateTimeOffset>? clock = null)
    {
        Endpoint = endpoint;
        TimeoutSec = timeoutSec;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
        _credential = endpoint.Certificate is { } bundle ? ClientCredential.FromBundle(bundle) : null;
        HttpMessageHandler handler = HttpHandlers.Create(_credential, proxy, new CookieContainer(), (host, certificate, chain, errors) =>
        {
            if (certificate is null)
            {
                _serverErrors = new[] { "NoCertificate: the server sent no certificate." };
                return false;
            }

            if (errors == System.Net.Security.SslPolicyErrors.None)
            {
                return true;
            }

            var presented = new List<X509Certificate2>();
            if (chain is not null)
            {
                presented.AddRange(chain.ChainPolicy.ExtraStore.Cast<X509Certificate2>());
                presented.AddRange(chain.ChainElements.Cast<X509ChainElement>().Skip(1).Select(e => e.Certificate));
            }

            ServerValidation validation = validator.Validate(certificate, presented, host);
            _serverErrors = validation.Valid ? null : validation.Errors;
            return validation.Valid;
        });
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public CpiEndpoint Endpoint { get; }

    public int TimeoutSec { get; set; }

    /// <summary>How many tokens this client fetched (for verbose text and tests).</summary>
    public int TokenRequests { get; private set; }

    /// <summary>How many CSRF tokens this client fetched.</summary>
    public int CsrfFetches { get; private set; }

    /// <summary>When the token in hand expires; null before the first.</summary>
    public DateTimeOffset? TokenExpiresOn => _token is null ? null : _tokenExpires;

    /// <summary>Fetches a token now (Connect-CpiTenant checks the credentials with it).</summary>
    public async Task EnsureTokenAsync(CancellationToken stop, Action<string>? verbose)
    {
        await _gate.WaitAsync(stop).ConfigureAwait(false);
        try
        {
            await TokenLockedAsync(stop, verbose, force: false).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<CpiResponse> SendAsync(CpiRequest request, CancellationToken stop, Action<string>? verbose)
    {
        bool write = request.Method != HttpMethod.Get;
        bool tokenRetried = false, csrfRetried = false;
        int retries = 0;
        while (true)
        {
            string token;
            string? csrf = null;
            await _gate.WaitAsync(stop).ConfigureAwait(false);
            try
            {
                token = await TokenLockedAsync(stop, verbose, force: false).ConfigureAwait(false);
                if (write)
                {
                    csrf = _csrf ?? await CsrfLockedAsync(token, stop, verbose).ConfigureAwait(false);
                }
            }
            finally
            {
                _gate.Release();
            }

            CpiResponse response = await SendOnceAsync(request, token, csrf, stop, verbose).ConfigureAwait(false);
            if (response.Status == 401 && !tokenRetried)
            {
                // The token was revoked or expired early: one new token, then the request again.
                tokenRetried = true;
                verbose?.Invoke("HTTP 401: the token was not accepted; fetching a new one and sending the request again.");
                Forget(token);
                continue;
            }

            if (write && response.Status == 403 && !csrfRetried && IsCsrfRequired(response))
            {
                csrfRetried = true;
                verbose?.Invoke("HTTP 403 with X-CSRF-Token: Required: the CSRF token expired; fetching a new one and sending the request again.");
                _csrf = null;
                continue;
            }

            if ((response.Status == 429 || response.Status == 503) && RetryAfter(response) is { } wait)
            {
                if (retries >= MaxRetries || wait > TimeSpan.FromSeconds(MaxRetryAfterSeconds))
                {
                    return response;
                }

                retries++;
                verbose?.Invoke($"HTTP {response.Status}: the tenant asks to wait {wait.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (Retry-After); retry {retries} of {MaxRetries}.");
                await Task.Delay(wait, stop).ConfigureAwait(false);
                continue;
            }

            return response;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _credential?.Dispose();
        _gate.Dispose();
    }

    private static bool IsCsrfRequired(CpiResponse response) =>
        response.Headers.TryGetValues("X-CSRF-Token", out IEnumerable<string>? values) && values.Any(v => string.Equals(v.Trim(), "Required", StringComparison.OrdinalIgnoreCase));

    private static TimeSpan? RetryAfter(CpiResponse response)
    {
        RetryConditionHeaderValue? retry = response.Headers.RetryAfter;
        if (retry is null)
        {
            return null;
        }

        if (retry.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (retry.Date is { } date)
        {
            TimeSpan d = date - DateTimeOffset.UtcNow;
            return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        }

        return null;
    }

    private void Forget(string token)
    {
        if (string.Equals(_token, token, StringComparison.Ordinal))
        {
            _token = null;
        }
    }

    // Called under _gate.
    private async Task<string> TokenLockedAsync(CancellationToken stop, Action<string>? verbose, bool force)
    {
        if (!force && _token is not null && _clock() < _tokenExpires - TokenMargin)
        {
            return _token;
        }

        if (_token is not null)
        {
            verbose?.Invoke($"The token expires at {_tokenExpires.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (or was refused); fetching a new one.");
        }

        CpiEndpoint e = Endpoint;
        var fields = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"),
            new("client_id", e.ClientId),
        };
        if (e.ClientSecret is { } secret)
        {
            fields.Add(new KeyValuePair<string, string>("client_secret", secret));
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, e.TokenUrl) { Content = new FormUrlEncodedContent(fields) };
        message.Headers.Accept.ParseAdd("application/json");
        verbose?.Invoke($"POST {e.TokenUrl.GetLeftPart(UriPartial.Path)} (grant_type client_credentials, client_id '{e.ClientId}', " +
            (e.ClientSecret is null ? $"with the client certificate '{_credential?.Subject}')." : "with the client secret)."));
        DateTimeOffset requestedAt = _clock();
        CpiResponse answer = await RawAsync(message, e.TokenUrl, "the token server", stop).ConfigureAwait(false);
        TokenGrant grant = TokenAnswer.Read(answer.Status, answer.Reason, answer.ContentType, answer.Text, e.TokenUrl, e.ClientId);
        TokenRequests++;
        long seconds = Math.Min(grant.ExpiresInSeconds ?? 3600, 366L * 24 * 3600);
        _token = grant.AccessToken;
        _tokenExpires = requestedAt.AddSeconds(seconds);
        _csrf = null; // a CSRF token belongs to the session of the old token
        verbose?.Invoke($"Got a token for '{e.ClientId}', valid until {_tokenExpires.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC; it is reused until {TokenMargin.TotalSeconds:0} s before that.");
        return _token;
    }

    // Called under _gate.
    private async Task<string> CsrfLockedAsync(string token, CancellationToken stop, Action<string>? verbose)
    {
        Uri url = Endpoint.ApiRoot;
        using var message = new HttpRequestMessage(HttpMethod.Get, url);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        message.Headers.Accept.ParseAdd("application/json");
        message.Headers.TryAddWithoutValidation("X-CSRF-Token", "Fetch");
        verbose?.Invoke($"GET {url.AbsolutePath} with X-CSRF-Token: Fetch.");
        CpiResponse answer = await RawAsync(message, url, "the tenant", stop).ConfigureAwait(false);
        string? csrf = answer.Headers.TryGetValues("X-CSRF-Token", out IEnumerable<string>? values) ? values.FirstOrDefault()?.Trim() : null;
        if (answer.Status is < 200 or >= 300 || string.IsNullOrEmpty(csrf) || string.Equals(csrf, "Required", StringComparison.OrdinalIgnoreCase))
        {
            throw answer.Status is < 200 or >= 300
                ? CpiErrors.FromResponse(answer, "the CSRF token fetch", Endpoint.BaseUrl)
                : new CertIntegrationException(ErrorIds.CpiCsrfFailed, FailureKind.ProtocolError,
                    $"The tenant {TokenAnswer.Authority(Endpoint.BaseUrl)} answered the CSRF fetch (GET /api/v1/ with X-CSRF-Token: Fetch) with HTTP {answer.Status} but no X-CSRF-Token header; a write cannot be sent without one.");
        }

        CsrfFetches++;
        _csrf = csrf;
        return csrf!;
    }

    private async Task<CpiResponse> SendOnceAsync(CpiRequest request, string token, string? csrf, CancellationToken stop, Action<string>? verbose)
    {
        Uri url = Resolve(request.Path);
        using var message = new HttpRequestMessage(request.Method, url);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        message.Headers.Accept.ParseAdd("application/json");
        if (csrf is not null)
        {
            message.Headers.TryAddWithoutValidation("X-CSRF-Token", csrf);
        }

        if (request.Body is { } body)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType ?? "application/octet-stream");
            message.Content = content;
        }

        verbose?.Invoke($"{request.Method} {url.PathAndQuery}" + (request.Body is { } b ? $" ({request.ContentType}, {b.Length} bytes)." : "."));
        CpiResponse response = await RawAsync(message, url, "the tenant", stop).ConfigureAwait(false);
        verbose?.Invoke($"HTTP {response.Status} {response.Reason} ({response.ContentType ?? "no content type"}, {response.Body.Length} bytes).");
        return response;
    }

    /// <summary>A path under /api/v1/, or an absolute link (a __next) that must stay on the tenant's host.</summary>
    private Uri Resolve(string path)
    {
        Uri root = Endpoint.ApiRoot;
        if (Uri.TryCreate(path, UriKind.Absolute, out Uri? absolute) && (absolute.Scheme == Uri.UriSchemeHttps || absolute.Scheme == Uri.UriSchemeHttp))
        {
            if (!string.Equals(absolute.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase)
                || !string.Equals(absolute.Host, root.Host, StringComparison.OrdinalIgnoreCase) || absolute.Port != root.Port)
            {
                throw new CertIntegrationException(ErrorIds.CpiAnswerInvalid, FailureKind.ProtocolError,
                    $"The tenant {TokenAnswer.Authority(root)} sent a next-page link to another place ('{TokenAnswer.Quote(absolute.GetLeftPart(UriPartial.Authority))}'); it is not followed, so the token goes nowhere else.");
            }

            return absolute;
        }

        if (path.StartsWith("/", StringComparison.Ordinal))
        {
            return new Uri(root, path);
        }

        return new Uri(root, path);
    }

    private async Task<CpiResponse> RawAsync(HttpRequestMessage message, Uri url, string who, CancellationToken stop)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(TimeoutSec));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        _serverErrors = null;
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            byte[] body = await ReadAsync(response, linked.Token).ConfigureAwait(false);
            return new CpiResponse((int)response.StatusCode, response.ReasonPhrase, response.Content.Headers.ContentType?.MediaType, body, response.Headers);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
        {
            throw new CertIntegrationException(ErrorIds.CpiRequestTimedOut, FailureKind.OperationTimeout,
                $"{Capital(who)} {TokenAnswer.Authority(url)} did not answer within {TimeoutSec} s (-TimeoutSec). Likely cause: a firewall drops the connection, or a proxy is needed (-Proxy).", ex);
        }
        catch (HttpRequestException ex)
        {
            string detail = Messages.Clause(Innermost(ex).Message);
            if (_serverErrors is { Length: > 0 } errors)
            {
                throw new CertIntegrationException(ErrorIds.CpiServerCertificateUntrusted, FailureKind.AuthenticationError,
                    $"{Capital(who)} {TokenAnswer.Authority(url)} presented a certificate that is not trusted: {string.Join(" ", errors)} Nothing was sent. " +
                    "Likely cause: a root this machine does not trust (pass it with -TrustedCertificate), a TLS-inspecting proxy, or a wrong host.", ex);
            }

            throw new CertIntegrationException(ErrorIds.ServerUnreachable, FailureKind.ConnectionError,
                $"{Capital(who)} {TokenAnswer.Authority(url)} could not be reached: {detail}.", ex);
        }
    }

    private static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s.Substring(1);

    private static Task<byte[]> ReadAsync(HttpResponseMessage response, CancellationToken ct) =>
        HttpAnswers.ReadBoundedAsync(response, MaxAnswerBytes, () => new CertIntegrationException(ErrorIds.CpiAnswerInvalid, FailureKind.LimitsExceeded,
            $"The tenant's answer is larger than {MaxAnswerBytes / (1024 * 1024)} MB; it is not read."), ct);

    private static Exception Innermost(Exception ex)
    {
        Exception e = ex;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
