using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.CloudFoundry;

/// <summary>An answer of the Cloud Foundry API: its status, the JSON body (when there is one) and the Location header.</summary>
internal sealed class CfResponse
{
    public CfResponse(int status, JObject? body, Uri? location)
    {
        Status = status;
        Body = body;
        Location = location;
    }

    public int Status { get; }

    public JObject? Body { get; }

    public Uri? Location { get; }
}

/// <summary>
/// The Cloud Foundry v3 API over HttpClient: a bearer token on every request (fetched with the password grant when
/// there is none; refreshed once through UAA with client <c>cf</c> and an empty secret when the API answers 401),
/// <c>pagination.next</c> followed on every list, bounded retries for 429 and 503 after <c>Retry-After</c>, the
/// server's certificate validated (system roots and the extra roots), and errors that quote the API's
/// <c>errors[].title</c> and <c>detail</c>, length-bounded. Tokens and passwords never appear in any message; a link the
/// API returns (next page, Location) is followed only on the API's own host, so the token never goes elsewhere.
/// </summary>
internal sealed class CfClient : IDisposable
{
    /// <summary>Most bytes read from one answer.</summary>
    public const int MaxAnswerBytes = 8 * 1024 * 1024;

    /// <summary>Retries of one request answered 429 or 503.</summary>
    public const int MaxRetries = 3;

    /// <summary>Longest wait before a retry; a longer Retry-After is not waited for.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>Most pages read from one list (at the API's default 50 per page, 50,000 items).</summary>
    public const int MaxPages = 1000;

    private readonly CfAuthentication _auth;
    private readonly HttpMessageHandler _handler;
    private readonly HttpClient _http;
    private readonly Action<string>? _verbose;
    private readonly int _timeoutSec;
    private string[]? _serverErrors;

    public CfClient(CfAuthentication auth, ServerCertificateValidator validator, ProxySettings? proxy, int timeoutSec, Action<string>? verbose)
    {
        _auth = auth;
        _verbose = verbose;
        _timeoutSec = timeoutSec;
        _handler = CreateHandler(validator, proxy);
        _http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Api => _auth.ApiEndpoint;

    /// <summary>How many times the access token was fetched or refreshed (for tests and verbose output).</summary>
    public int TokenRequests { get; private set; }

    public void Dispose()
    {
        _http.Dispose();
        _handler.Dispose();
    }

    /// <summary>GET of one resource.</summary>
    public async Task<JObject> GetAsync(string pathOrUrl, CancellationToken ct)
    {
        CfResponse response = await SendAsync(HttpMethod.Get, pathOrUrl, null, ct).ConfigureAwait(false);
        return response.Body ?? throw Invalid($"GET {PathOf(Resolve(pathOrUrl))}", "an empty body instead of a JSON object");
    }

    /// <summary>Every resource of a list, following pagination.next to the last page.</summary>
    public async Task<List<JObject>> ListAsync(string pathAndQuery, CancellationToken ct)
    {
        var all = new List<JObject>();
        string? next = pathAndQuery;
        for (int page = 1; next is not null; page++)
        {
            if (page > MaxPages)
            {
                throw new CertIntegrationException(ErrorIds.CfAnswerInvalid, FailureKind.LimitsExceeded,
                    $"The Cloud Foundry API {Authority(Api)} listed more than {MaxPages} pages for {PathOf(Resolve(pathAndQuery))}; the list is not read further.");
            }

            JObject body = await GetAsync(next, ct).ConfigureAwait(false);
            if (body["resources"] is not JArray resources)
            {
                throw Invalid($"GET {PathOf(Resolve(next))}", "a list without 'resources'");
            }

            all.AddRange(resources.OfType<JObject>());
            next = body.SelectToken("pagination.next.href") is JValue { Type: JTokenType.String } href ? (string?)href : null;
            if (next is not null)
            {
                _verbose?.Invoke($"Page {page} of {PathOf(Resolve(pathAndQuery))} read ({resources.Count} item(s)); reading the next page.");
            }
        }

        return all;
    }

    /// <summary>
    /// Sends a request with the bearer token; retries 429/503 (bounded), refreshes the token once on 401, and turns every
    /// other non-2xx answer into a <see cref="CertIntegrationException"/> quoting the API's errors.
    /// </summary>
    public async Task<CfResponse> SendAsync(HttpMethod method, string pathOrUrl, JObject? body, CancellationToken ct)
    {
        Uri url = Resolve(pathOrUrl);
        string what = $"{method.Method} {PathOf(url)}";
        if (_auth.AccessToken is null)
        {
            await FetchTokenAsync(ct).ConfigureAwait(false);
        }

        bool refreshed = false;
        for (int attempt = 0; ; attempt++)
        {
            using var message = new HttpRequestMessage(method, url);
            message.Headers.Accept.ParseAdd("application/json");
            message.Headers.Authorization = new AuthenticationHeaderValue("bearer", _auth.AccessToken);
            if (body is not null)
            {
                message.Content = new StringContent(body.ToString(Formatting.None), new UTF8Encoding(false), "application/json");
            }

            (int status, string? reason, string text, HttpResponseHeaders headers) = await ExchangeAsync(message, url, ct).ConfigureAwait(false);
            _verbose?.Invoke($"{what}: HTTP {status} {reason}.");
            if (status == 401 && !refreshed)
            {
                refreshed = true;
                _verbose?.Invoke("The Cloud Foundry API refused the access token (401); getting a new one from UAA.");
                await RenewTokenAsync(ct).ConfigureAwait(false);
                continue;
            }

            if ((status == 429 || status == 503) && attempt < MaxRetries)
            {
                TimeSpan? delay = RetryDelay(headers, attempt);
                if (delay is { } d)
                {
                    _verbose?.Invoke($"{what}: HTTP {status}; trying again in {d.TotalSeconds:0.#} s (retry {attempt + 1} of {MaxRetries}).");
                    await Task.Delay(d, ct).ConfigureAwait(false);
                    continue;
                }
            }

            JObject? json = ParseObject(text);
            if (status >= 200 && status < 300)
            {
                if (json is null && text.Trim().Length > 0)
                {
                    throw Invalid(what, $"HTTP {status} with a body that is not a JSON object");
                }

                Uri? location = headers.Location is { } loc ? Follow(loc, what, "Location") : null;
                return new CfResponse(status, json, location);
            }

            throw Failure(status, reason, what, json, text, refreshed);
        }
    }

    /// <summary>An absolute URL the API gave (Location, next page) or a path, checked to be on the API's own host.</summary>
    internal Uri Follow(Uri link, string what, string field)
    {
        Uri url = link.IsAbsoluteUri ? link : new Uri(Api, link);
        if (!string.Equals(url.Scheme, Api.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(url.Host, Api.Host, StringComparison.OrdinalIgnoreCase) || url.Port != Api.Port)
        {
            throw new CertIntegrationException(ErrorIds.CfAnswerInvalid, FailureKind.ProtocolError,
                $"{what}: the {field} '{url.GetLeftPart(UriPartial.Authority)}' is not on the Cloud Foundry API's host {Authority(Api)}; it is not followed (the access token is sent only to the API).");
        }

        return url;
    }

    private Uri Resolve(string pathOrUrl) =>
        Uri.TryCreate(pathOrUrl, UriKind.Absolute, out Uri? abs) && (abs.Scheme == Uri.UriSchemeHttps || abs.Scheme == Uri.UriSchemeHttp)
            ? Follow(abs, "A link of the Cloud Foundry API", "link")
            : new Uri(Api, pathOrUrl);

    private static TimeSpan? RetryDelay(HttpResponseHeaders headers, int attempt)
    {
        TimeSpan delay = TimeSpan.FromSeconds(Math.Pow(2, attempt));
        if (headers.RetryAfter is { } ra)
        {
            if (ra.Delta is { } delta)
            {
                delay = delta;
            }
            else if (ra.Date is { } date)
            {
                delay = date - DateTimeOffset.UtcNow;
            }
        }

        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }

        return delay > MaxRetryDelay ? null : delay;
    }

    private async Task<(int Status, string? Reason, string Body, HttpResponseHeaders Headers)> ExchangeAsync(HttpRequestMessage message, Uri url, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_timeoutSec));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        _serverErrors = null;
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            string text = await ReadBodyAsync(response, linked.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, response.ReasonPhrase, text, response.Headers);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
        {
            throw new CertIntegrationException(ErrorIds.CfRequestTimedOut, FailureKind.OperationTimeout,
                $"{Authority(url)} did not answer {message.Method.Method} {PathOf(url)} within {_timeoutSec} s (-TimeoutSec).", ex);
        }
        catch (HttpRequestException ex)
        {
            if (_serverErrors is { Length: > 0 } errors)
            {
                throw new CertIntegrationException(ErrorIds.CfServerCertificateUntrusted, FailureKind.AuthenticationError,
                    $"{Authority(url)} presented a certificate that is not trusted: {string.Join(" ", errors)} Nothing was sent to it. " +
                    "Likely cause: a private landscape whose root this machine does not trust (pass it with -TrustedCertificate), a TLS-inspecting proxy, or a wrong API endpoint.", ex);
            }

            Exception inner = ex;
            while (inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }

            throw new CertIntegrationException(ErrorIds.ServerUnreachable, FailureKind.ConnectionError,
                $"{Authority(url)} could not be reached for {message.Method.Method} {PathOf(url)}: {TokenAnswer.Quote(Messages.Clause(inner.Message))}. Check the API endpoint (cf api) and the network.", ex);
        }
    }

    private HttpMessageHandler CreateHandler(ServerCertificateValidator validator, ProxySettings? proxy)
    {
        IWebProxy? webProxy = proxy is { } p ? new WebProxy(p.Address) { Credentials = p.Credential, BypassProxyOnLocal = false } : null;
        bool Validate(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors, string host)
        {
            if (certificate is null)
            {
                _serverErrors = new[] { "NoCertificate: the server sent no certificate." };
                return false;
            }

            if (errors == SslPolicyErrors.None)
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
            if (!validation.Valid)
            {
                _serverErrors = validation.Errors;
            }

            return validation.Valid;
        }

#if NET8_0_OR_GREATER
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxResponseHeadersLength = 64,
            UseProxy = webProxy is not null,
            Proxy = webProxy,
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    Validate(certificate is null ? null : certificate as X509Certificate2 ?? new X509Certificate2(certificate), chain, errors,
                        (sender as SslStream)?.TargetHostName is { Length: > 0 } h ? h : Api.Host),
            },
        };
#else
        return new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseDefaultCredentials = false,
            MaxResponseHeadersLength = 64,
            SslProtocols = SslProtocols.Tls12,
            CheckCertificateRevocationList = false,
            UseProxy = webProxy is not null,
            Proxy = webProxy,
            ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) => Validate(certificate, chain, errors, request.RequestUri?.Host ?? Api.Host),
        };
#endif
    }

    /// <summary>A first token: the password grant with -Credential; without one there is nothing to fetch it with.</summary>
    private async Task FetchTokenAsync(CancellationToken ct)
    {
        if (_auth.Password is not null)
        {
            await PasswordGrantAsync(ct).ConfigureAwait(false);
            return;
        }

        if (_auth.RefreshToken is not null)
        {
            await RefreshGrantAsync(ct).ConfigureAwait(false);
            return;
        }

        throw new CertIntegrationException(ErrorIds.CfNotLoggedIn, FailureKind.AuthenticationError,
            $"{_auth.Origin} has no access token. Run 'cf login', or pass -Credential or -Token.");
    }

    private async Task RenewTokenAsync(CancellationToken ct)
    {
        if (_auth.RefreshToken is not null)
        {
            await RefreshGrantAsync(ct).ConfigureAwait(false);
        }
        else if (_auth.Password is not null)
        {
            await PasswordGrantAsync(ct).ConfigureAwait(false);
        }
        else
        {
            throw new CertIntegrationException(ErrorIds.CfNotAuthenticated, FailureKind.AuthenticationError,
                $"The Cloud Foundry API {Authority(Api)} refused the access token of {_auth.Origin} (401), and there is no refresh token to get a new one. " +
                "Likely cause: the token expired. Give a fresh token (cf oauth-token), or use the cf session or -Credential.");
        }
    }

    private Task PasswordGrantAsync(CancellationToken ct) => TokenGrantAsync(new[]
    {
        new KeyValuePair<string, string>("grant_type", "password"),
        new KeyValuePair<string, string>("username", _auth.Password!.UserName),
        new KeyValuePair<string, string>("password", _auth.Password!.Password),
    }, "password", ct);

    private Task RefreshGrantAsync(CancellationToken ct) => TokenGrantAsync(new[]
    {
        new KeyValuePair<string, string>("grant_type", "refresh_token"),
        new KeyValuePair<string, string>("refresh_token", _auth.RefreshToken!),
    }, "refresh_token", ct);

    /// <summary>POST &lt;uaa&gt;/oauth/token with client cf and an empty secret (HTTP Basic, as the cf CLI sends it).</summary>
    private async Task TokenGrantAsync(KeyValuePair<string, string>[] form, string grant, CancellationToken ct)
    {
        Uri uaa = _auth.UaaEndpoint ?? await DiscoverUaaAsync(ct).ConfigureAwait(false);
        var url = new Uri(uaa.AbsoluteUri.TrimEnd('/') + "/oauth/token");
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        message.Headers.Accept.ParseAdd("application/json");
        message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("cf:")));
        TokenRequests++;
        _verbose?.Invoke($"POST {PathOf(url)} on {Authority(url)} (grant_type {grant}, client cf)" + (grant == "password" ? $" for the user '{_auth.Password!.UserName}'." : "."));
        (int status, string? reason, string text, _) = await ExchangeAsync(message, url, ct).ConfigureAwait(false);
        _verbose?.Invoke($"UAA: HTTP {status} {reason}.");
        JObject? json = ParseObject(text);
        if (status == 200 && json?["access_token"] is JValue { Type: JTokenType.String } access && ((string?)access) is { Length: > 0 } token)
        {
            _auth.AccessToken = token;
            if (json["refresh_token"] is JValue { Type: JTokenType.String } refresh && ((string?)refresh) is { Length: > 0 } r)
            {
                _auth.RefreshToken = r;
            }

            return;
        }

        string error = json?["error"] is JValue e ? $" (error \"{TokenAnswer.Quote((string?)e)}\"" + (json["error_description"] is JValue d ? $": \"{TokenAnswer.Quote((string?)d)}\")" : ")") : string.Empty;
        string cause = grant == "password"
            ? "Likely cause: a wrong user name or password, a user of another identity provider (cf login --origin), or a user that needs a passcode (cf login --sso)."
            : "Likely cause: the cf session expired; run 'cf login' again.";
        throw new CertIntegrationException(ErrorIds.CfTokenRequestFailed, FailureKind.AuthenticationError,
            $"UAA at {Authority(url)} refused the {grant} grant with HTTP {status} {reason}{error}. {cause}");
    }

    private async Task<Uri> DiscoverUaaAsync(CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, Api);
        message.Headers.Accept.ParseAdd("application/json");
        (int status, string? reason, string text, _) = await ExchangeAsync(message, Api, ct).ConfigureAwait(false);
        JObject? json = ParseObject(text);
        string? href = json?.SelectToken("links.uaa.href") is JValue { Type: JTokenType.String } v ? (string?)v : null;
        if (status != 200 || href is null || !Uri.TryCreate(href, UriKind.Absolute, out Uri? uaa) || uaa.Scheme != Uri.UriSchemeHttps)
        {
            throw new CertIntegrationException(ErrorIds.CfUaaNotFound, FailureKind.ProtocolError,
                $"GET / on {Authority(Api)} (HTTP {status} {reason}) names no https UAA endpoint in links.uaa; is '{Api.GetLeftPart(UriPartial.Authority)}' a Cloud Foundry API endpoint (cf api)?");
        }

        _verbose?.Invoke($"The API names its UAA: {uaa.GetLeftPart(UriPartial.Authority)}.");
        _auth.UaaEndpoint = uaa;
        return uaa;
    }

    private CertIntegrationException Failure(int status, string? reason, string what, JObject? json, string text, bool refreshed)
    {
        string said = ErrorsText(json) is { Length: > 0 } errors ? $": {errors}"
            : text.Trim().Length > 0 ? $" (the body begins: \"{TokenAnswer.Quote(text.Trim())}\")" : string.Empty;
        string head = $"The Cloud Foundry API {Authority(Api)} answered {what} with HTTP {status} {reason}{said}".TrimEnd('.');
        return status switch
        {
            401 => new CertIntegrationException(ErrorIds.CfNotAuthenticated, FailureKind.AuthenticationError,
                $"{head}. {(refreshed ? "A new token was fetched and refused too." : string.Empty)} Run 'cf login' again, or pass -Credential."),
            403 => new CertIntegrationException(ErrorIds.CfForbidden, FailureKind.PermissionDenied,
                $"{head}. Service keys need the SpaceDeveloper role in the instance's space (cf space-users)."),
            404 => new CertIntegrationException(ErrorIds.CfNotFound, FailureKind.ObjectNotFound, head + "."),
            429 or 503 => new CertIntegrationException(ErrorIds.CfServiceUnavailable, FailureKind.ConnectionError,
                $"{head}, also after {MaxRetries} retries (or with a Retry-After beyond {MaxRetryDelay.TotalSeconds:0} s). Try again later."),
            >= 500 => new CertIntegrationException(ErrorIds.CfServerError, FailureKind.ProtocolError, head + "."),
            _ => new CertIntegrationException(ErrorIds.CfRequestRejected, FailureKind.InvalidArgument, head + "."),
        };
    }

    /// <summary>The API's errors as "title: detail; ...", each part length-bounded and tokens redacted.</summary>
    internal static string ErrorsText(JObject? json)
    {
        if (json?["errors"] is not JArray errors)
        {
            return string.Empty;
        }

        return string.Join("; ", errors.OfType<JObject>().Take(5).Select(e =>
        {
            string? title = e["title"] is JValue t ? (string?)t : null;
            string? detail = e["detail"] is JValue d ? (string?)d : null;
            return title is null ? TokenAnswer.Quote(detail) : detail is null ? TokenAnswer.Quote(title) : $"{TokenAnswer.Quote(title)}: {TokenAnswer.Quote(detail)}";
        }).Where(s => s.Length > 0));
    }

    private CertIntegrationException Invalid(string what, string answer) =>
        new(ErrorIds.CfAnswerInvalid, FailureKind.ProtocolError,
            $"The Cloud Foundry API {Authority(Api)} answered {what} with {answer}; is '{Api.GetLeftPart(UriPartial.Authority)}' a Cloud Foundry v3 API endpoint?");

    internal static JObject? ParseObject(string text)
    {
        string t = text.Trim();
        if (t.Length == 0 || t[0] != '{')
        {
            return null;
        }

        try
        {
            using var reader = new JsonTextReader(new StringReader(t)) { MaxDepth = 64, DateParseHandling = DateParseHandling.None };
            return JToken.ReadFrom(reader) as JObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        byte[] body = await HttpAnswers.ReadBoundedAsync(response, MaxAnswerBytes, () => new CertIntegrationException(ErrorIds.CfAnswerInvalid, FailureKind.LimitsExceeded,
            $"An answer of the Cloud Foundry API is larger than {MaxAnswerBytes / (1024 * 1024)} MB; it is not read."), ct).ConfigureAwait(false);
        return new UTF8Encoding(false, false).GetString(body);
    }

    internal static string Authority(Uri url) => TokenAnswer.Authority(url);

    /// <summary>Path and query of a URL, for messages (CF URLs carry no secrets in their query).</summary>
    internal static string PathOf(Uri url) => url.PathAndQuery;

    internal static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);
}
