// FakeCpiTenant: a FAKE SAP Cloud Integration tenant for the Pester tests of the Cpi cmdlets, written from SAP's
// published description of the Cloud Integration OData V2 API "Security Content" (base /api/v1) and of the OAuth
// client-credentials grant. It is not SAP code and knows nothing SAP does not document. It serves HTTPS on 127.0.0.1
// with a test certificate and keeps its keystores in memory.
//
//   FakeCpiTenant --port N --cert server.pfx [--cert-password pw] --client-id id --client-secret s
//                 [--client-root cas.pem] [--page-size 1000] [--token-lifetime 3600]
//
// Control endpoints for the tests (no auth, test-only): GET/DELETE /_fake/requests (what the fake got),
// POST /_fake/entries (add an entry), POST /_fake/config (locked, full, throttle, unavailable, tokenLifetime,
// pageSize, readOnly, xmlWithoutAccept), POST /_fake/expire-csrf, POST /_fake/expire-tokens.
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Server.Kestrel.Https;

var options = Options.Parse(args);
var state = new TenantState(options);
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(System.Net.IPAddress.Loopback, options.Port, listen => listen.UseHttps(https =>
    {
        https.ServerCertificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertPath, options.CertPassword);
        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
        https.ClientCertificateValidation = (_, _, _) => true; // checked per request against --client-root
    }));
});
var app = builder.Build();
app.Run(state.HandleAsync);
app.Run();

internal sealed class Options
{
    public int Port;
    public string CertPath = "";
    public string? CertPassword;
    public string ClientId = "fake-client";
    public string ClientSecret = "fake-secret";
    public string? ClientRoot;
    public int PageSize = 1000;
    public int TokenLifetime = 3600;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--port": o.Port = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--cert": o.CertPath = v; break;
                case "--cert-password": o.CertPassword = v; break;
                case "--client-id": o.ClientId = v; break;
                case "--client-secret": o.ClientSecret = v; break;
                case "--client-root": o.ClientRoot = v; break;
                case "--page-size": o.PageSize = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--token-lifetime": o.TokenLifetime = int.Parse(v, CultureInfo.InvariantCulture); break;
            }
        }

        return o;
    }
}

internal sealed class Entry
{
    public string Keystore = "system";
    public string Alias = "";
    public string Type = "Certificate";
    public string Owner = "Tenant Administrator";
    public List<X509Certificate2> Chain = new();
    public DateTimeOffset LastModified = DateTimeOffset.UtcNow;
    public string LastModifiedBy = "fake-client";
}

internal sealed class Recorded
{
    public string Method = "";
    public string Path = "";
    public string Query = "";
    public string? Accept;
    public string? ContentType;
    public string? CsrfToken;
    public string? Authorization; // the scheme only
    public bool HasCookie;
    public string? ClientCertificate;
    public string? Body;        // text bodies (JSON, forms)
    public string? BodyBase64;  // binary bodies
    public int Status;
}

internal sealed class TenantState
{
    private const int MaxCertificateBytes = 10 * 1024;
    private const int MaxKeyPairBytes = 30_072;
    private static readonly string[] Reserved = { "hcicertificate", "hcicertificate1", "hcimsgcertificate" };

    private readonly Options _o;
    private readonly object _gate = new();
    private readonly List<Entry> _entries = new();
    private readonly List<Recorded> _requests = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new();
    private readonly ConcurrentDictionary<string, string> _csrfBySession = new();
    private readonly X509Certificate2Collection _clientCas = new();
    private bool _locked, _full, _readOnly, _xmlWithoutAccept = true;
    private int _throttle, _unavailable;

    public TenantState(Options o)
    {
        _o = o;
        if (o.ClientRoot is { } roots)
        {
            // The CAs (PEM, the intermediate and the root) a client certificate must chain to for the mTLS token.
            _clientCas.ImportFromPemFile(roots);
        }
    }

    public async Task HandleAsync(HttpContext ctx)
    {
        var rec = new Recorded
        {
            Method = ctx.Request.Method,
            Path = ctx.Request.Path.Value ?? "",
            Query = ctx.Request.QueryString.Value ?? "",
            Accept = ctx.Request.Headers.Accept.ToString(),
            ContentType = ctx.Request.ContentType,
            CsrfToken = ctx.Request.Headers["X-CSRF-Token"].ToString() is { Length: > 0 } t ? t : null,
            Authorization = ctx.Request.Headers.Authorization.ToString().Split(' ')[0] is { Length: > 0 } a ? a : null,
            HasCookie = ctx.Request.Headers.Cookie.Count > 0,
            ClientCertificate = (await ctx.Connection.GetClientCertificateAsync())?.Subject,
        };
        byte[] body = await ReadBody(ctx.Request);
        bool isText = (ctx.Request.ContentType ?? "").Contains("json") || (ctx.Request.ContentType ?? "").Contains("form");
        if (body.Length > 0)
        {
            if (isText) { rec.Body = Encoding.UTF8.GetString(body); } else { rec.BodyBase64 = Convert.ToBase64String(body); }
        }

        bool control = rec.Path.StartsWith("/_fake/", StringComparison.Ordinal);
        try
        {
            if (control)
            {
                await Control(ctx, rec, body);
                return;
            }

            await Route(ctx, rec, body);
        }
        finally
        {
            if (!control)
            {
                rec.Status = ctx.Response.StatusCode;
                lock (_gate) { _requests.Add(rec); }
            }
        }
    }

    // ---------------------------------------------------------------- control (tests only)

    private async Task Control(HttpContext ctx, Recorded rec, byte[] body)
    {
        switch (rec.Method, rec.Path)
        {
            case ("GET", "/_fake/requests"):
                JsonArray list;
                lock (_gate)
                {
                    list = new JsonArray(_requests.Select(r => (JsonNode)new JsonObject
                    {
                        ["Method"] = r.Method, ["Path"] = r.Path, ["Query"] = r.Query, ["Accept"] = r.Accept, ["ContentType"] = r.ContentType,
                        ["CsrfToken"] = r.CsrfToken, ["Authorization"] = r.Authorization, ["HasCookie"] = r.HasCookie,
                        ["ClientCertificate"] = r.ClientCertificate, ["Body"] = r.Body, ["BodyBase64"] = r.BodyBase64, ["Status"] = r.Status,
                    }).ToArray());
                }

                await Json(ctx, 200, list);
                return;
            case ("DELETE", "/_fake/requests"):
                lock (_gate) { _requests.Clear(); }
                ctx.Response.StatusCode = 204;
                return;
            case ("POST", "/_fake/entries"):
            {
                JsonObject o = JsonNode.Parse(body)!.AsObject();
                var certs = new X509Certificate2Collection();
                certs.ImportFromPem((string)o["Pem"]!);
                var e = new Entry
                {
                    Keystore = (string?)o["Keystore"] ?? "system",
                    Alias = (string)o["Alias"]!,
                    Type = (string?)o["Type"] ?? "Certificate",
                    Owner = (string?)o["Owner"] ?? "Tenant Administrator",
                    Chain = certs.Cast<X509Certificate2>().ToList(),
                };
                lock (_gate)
                {
                    _entries.RemoveAll(x => x.Keystore == e.Keystore && x.Alias.Equals(e.Alias, StringComparison.OrdinalIgnoreCase));
                    _entries.Add(e);
                }

                ctx.Response.StatusCode = 204;
                return;
            }

            case ("POST", "/_fake/config"):
            {
                JsonObject o = JsonNode.Parse(body)!.AsObject();
                lock (_gate)
                {
                    if (o["locked"] is { } l) { _locked = (bool)l; }
                    if (o["full"] is { } f) { _full = (bool)f; }
                    if (o["readOnly"] is { } ro) { _readOnly = (bool)ro; }
                    if (o["throttle"] is { } th) { _throttle = (int)th; }
                    if (o["unavailable"] is { } un) { _unavailable = (int)un; }
                    if (o["tokenLifetime"] is { } tl) { _o.TokenLifetime = (int)tl; }
                    if (o["pageSize"] is { } ps) { _o.PageSize = (int)ps; }
                    if (o["xmlWithoutAccept"] is { } x) { _xmlWithoutAccept = (bool)x; }
                }

                ctx.Response.StatusCode = 204;
                return;
            }

            case ("POST", "/_fake/expire-csrf"):
                _csrfBySession.Clear();
                ctx.Response.StatusCode = 204;
                return;
            case ("POST", "/_fake/expire-tokens"):
                _tokens.Clear();
                ctx.Response.StatusCode = 204;
                return;
            default:
                ctx.Response.StatusCode = 404;
                return;
        }
    }

    // ---------------------------------------------------------------- token endpoint

    private async Task Token(HttpContext ctx, byte[] body)
    {
        var form = System.Web.HttpUtility.ParseQueryString(Encoding.UTF8.GetString(body));
        string? clientId = form["client_id"];
        string? secret = form["client_secret"];
        string auth = ctx.Request.Headers.Authorization.ToString();
        if (auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string[] pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth.Substring(6).Trim())).Split(':', 2);
            clientId = Uri.UnescapeDataString(pair[0]);
            secret = pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : null;
        }

        if (form["grant_type"] != "client_credentials")
        {
            await Json(ctx, 400, new JsonObject { ["error"] = "unsupported_grant_type", ["error_description"] = "Only client_credentials is offered by this fake." });
            return;
        }

        bool bySecret = clientId == _o.ClientId && secret == _o.ClientSecret;
        bool byCertificate = false;
        if (!bySecret && secret is null && clientId == _o.ClientId && _clientCas.Count > 0 && await ctx.Connection.GetClientCertificateAsync() is { } cert)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_clientCas);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            byCertificate = chain.Build(cert);
        }

        if (!bySecret && !byCertificate)
        {
            await Json(ctx, 401, new JsonObject { ["error"] = "invalid_client", ["error_description"] = "Bad credentials" });
            return;
        }

        string token = "fake." + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        _tokens[token] = DateTimeOffset.UtcNow.AddSeconds(_o.TokenLifetime);
        await Json(ctx, 200, new JsonObject
        {
            ["access_token"] = token, ["token_type"] = "bearer", ["expires_in"] = _o.TokenLifetime, ["scope"] = "it!b1.MonitoringDataRead it!b1.SecurityMaterialEdit",
        });
    }

    // ---------------------------------------------------------------- OData service

    private async Task Route(HttpContext ctx, Recorded rec, byte[] body)
    {
        string path = rec.Path;
        if (rec.Method == "POST" && path == "/oauth/token")
        {
            await Token(ctx, body);
            return;
        }

        if (!path.StartsWith("/api/v1", StringComparison.Ordinal))
        {
            ctx.Response.StatusCode = 404;
            return;
        }

        string auth = ctx.Request.Headers.Authorization.ToString();
        string bearer = auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth.Substring(7).Trim() : "";
        if (!_tokens.TryGetValue(bearer, out DateTimeOffset expires) || expires <= DateTimeOffset.UtcNow)
        {
            ctx.Response.StatusCode = 401;
            ctx.Response.Headers.WWWAuthenticate = "Bearer";
            return;
        }

        lock (_gate)
        {
            if (_throttle > 0)
            {
                _throttle--;
                ctx.Response.StatusCode = 429;
                ctx.Response.Headers.RetryAfter = "1";
                return;
            }

            if (_unavailable > 0)
            {
                _unavailable--;
                ctx.Response.StatusCode = 503;
                ctx.Response.Headers.RetryAfter = "1";
                return;
            }
        }

        string rest = path.Substring("/api/v1".Length).TrimEnd('/');
        if (rest.Length == 0 && rec.Method == "GET")
        {
            if (ctx.Request.Headers["X-CSRF-Token"].ToString().Equals("Fetch", StringComparison.OrdinalIgnoreCase))
            {
                string session = ctx.Request.Cookies["JSESSIONID"] is { Length: > 0 } s ? s : Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
                string csrf = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
                _csrfBySession[session] = csrf;
                ctx.Response.Cookies.Append("JSESSIONID", session, new CookieOptions { Path = "/", Secure = true, HttpOnly = true });
                ctx.Response.Headers["X-CSRF-Token"] = csrf;
            }

            await Json(ctx, 200, new JsonObject { ["d"] = new JsonObject { ["EntitySets"] = new JsonArray("KeystoreEntries", "CertificateResources", "KeyPairResources", "KeystoreResources") } });
            return;
        }

        if (rec.Method != "GET")
        {
            string session = ctx.Request.Cookies["JSESSIONID"] ?? "";
            string sent = ctx.Request.Headers["X-CSRF-Token"].ToString();
            if (!_csrfBySession.TryGetValue(session, out string? expected) || expected != sent)
            {
                ctx.Response.Headers["X-CSRF-Token"] = "Required";
                ctx.Response.StatusCode = 403;
                ctx.Response.ContentType = "text/html";
                await ctx.Response.WriteAsync("CSRF token validation failed");
                return;
            }

            bool readOnly;
            lock (_gate) { readOnly = _readOnly; }
            if (readOnly)
            {
                await Error(ctx, 403, "Forbidden: the user lacks the role SecurityMaterialEdit.");
                return;
            }
        }

        if (_xmlWithoutAccept && rec.Method == "GET" && !(rec.Accept ?? "").Contains("application/json") && !rest.EndsWith("$value", StringComparison.Ordinal))
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/atom+xml";
            await ctx.Response.WriteAsync("<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"/>");
            return;
        }

        string keystore = ctx.Request.Query["keystoreName"].ToString() is { Length: > 0 } k ? k : "system";
        if (rec.Method == "GET" && rest == "/KeystoreEntries")
        {
            await List(ctx, keystore);
            return;
        }

        if (Key(rest, "/KeystoreEntries(") is { } entryKey)
        {
            (string hex, string tail) = entryKey;
            string? alias = FromHex(hex);
            if (alias is null)
            {
                await Error(ctx, 400, "Invalid key predicate: the key is not hexadecimal UTF-8.");
                return;
            }

            if (rec.Method == "DELETE" && tail.Length == 0)
            {
                await Delete(ctx, keystore, alias, ctx.Request.Query["activate"].ToString() == "true");
                return;
            }

            Entry? e = Find(keystore, alias);
            if (e is null)
            {
                await Error(ctx, 404, $"Keystore entry with alias '{alias}' not found in keystore '{keystore}'.");
                return;
            }

            switch (tail)
            {
                case "":
                    await Json(ctx, 200, new JsonObject { ["d"] = ToJson(e, ctx) });
                    return;
                case "/ChainResource/$value":
                {
                    var col = new X509Certificate2Collection();
                    foreach (X509Certificate2 c in e.Chain) { col.Add(c); }
                    await Bytes(ctx, "application/pkcs7-mime", col.Export(X509ContentType.Pkcs7)!);
                    return;
                }

                case "/Certificate/$value":
                    await Bytes(ctx, "application/pkix-cert", e.Chain[0].RawData);
                    return;
                default:
                    await Error(ctx, 404, "Resource not found for the segment '" + tail.TrimStart('/') + "'.");
                    return;
            }
        }

        if (rec.Method == "PUT" && Key(rest, "/CertificateResources(") is { } certKey && certKey.Tail == "/$value")
        {
            await PutCertificate(ctx, keystore, certKey.Hex, body);
            return;
        }

        if (rec.Method == "POST" && rest == "/KeyPairResources")
        {
            await PostKeyPair(ctx, keystore, body);
            return;
        }

        if (rec.Method == "POST" && rest == "/KeystoreResources")
        {
            await PostKeystore(ctx, body);
            return;
        }

        await Error(ctx, 404, "Resource not found for the segment '" + rest.TrimStart('/') + "'.");
    }

    private async Task List(HttpContext ctx, string keystore)
    {
        List<Entry> all;
        lock (_gate) { all = _entries.Where(e => e.Keystore == keystore).OrderBy(e => e.Alias, StringComparer.Ordinal).ToList(); }
        int skip = int.TryParse(ctx.Request.Query["$skiptoken"], NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : 0;
        List<Entry> page = all.Skip(skip).Take(_o.PageSize).ToList();
        var d = new JsonObject { ["results"] = new JsonArray(page.Select(e => (JsonNode)ToJson(e, ctx)).ToArray()) };
        if (skip + page.Count < all.Count)
        {
            d["__next"] = $"https://{ctx.Request.Host}/api/v1/KeystoreEntries?keystoreName={Uri.EscapeDataString(keystore)}&$skiptoken={skip + page.Count}";
        }

        await Json(ctx, 200, new JsonObject { ["d"] = d });
    }

    private async Task Delete(HttpContext ctx, string keystore, string alias, bool activate)
    {
        if (IsReserved(alias))
        {
            await Error(ctx, 403, $"The entry '{alias}' is owned by SAP and cannot be deleted.");
            return;
        }

        if (Locked()) { await Error(ctx, 503, "The keystore is locked by another operation; try again later."); return; }
        lock (_gate)
        {
            Entry? e = _entries.FirstOrDefault(x => x.Keystore == keystore && x.Alias.Equals(alias, StringComparison.OrdinalIgnoreCase));
            if (e is null)
            {
                goto NotFound;
            }

            _entries.Remove(e);
            if (activate && keystore == "KeyRenewal")
            {
                _entries.RemoveAll(x => x.Keystore == "system" && x.Alias.Equals(alias, StringComparison.OrdinalIgnoreCase));
                e.Keystore = "system";
                e.LastModified = DateTimeOffset.UtcNow;
                _entries.Add(e);
            }
        }

        ctx.Response.StatusCode = 204;
        return;
    NotFound:
        await Error(ctx, 404, $"Keystore entry with alias '{alias}' not found in keystore '{keystore}'.");
    }

    private async Task PutCertificate(HttpContext ctx, string keystore, string hex, byte[] body)
    {
        string? alias = FromHex(hex);
        if (alias is null) { await Error(ctx, 400, "Invalid key predicate: the key is not hexadecimal UTF-8."); return; }
        if (IsReserved(alias)) { await Error(ctx, 403, $"The alias '{alias}' is reserved for SAP-owned entries."); return; }
        if (body.Length > MaxCertificateBytes) { await Error(ctx, 413, $"The certificate is larger than {MaxCertificateBytes} bytes."); return; }
        if (Full()) { await Error(ctx, 413, "The keystore has reached its maximum size."); return; }
        if (Locked()) { await Error(ctx, 503, "The keystore is locked by another operation; try again later."); return; }
        X509Certificate2 cert;
        try
        {
            cert = X509CertificateLoader.LoadCertificate(body);
        }
        catch (CryptographicException)
        {
            await Error(ctx, 415, "The resource is not an X.509 certificate (DER or PEM).");
            return;
        }

        bool update = ctx.Request.Query["update"].ToString() == "true";
        bool verified = ctx.Request.Query["fingerprintVerified"].ToString() == "true";
        Entry? existing = Find(keystore, alias);
        if (existing is not null && !update) { await Error(ctx, 400, $"An entry with alias '{alias}' exists already."); return; }
        if (existing is null && update) { await Error(ctx, 400, $"An entry with alias '{alias}' does not exist; it cannot be updated."); return; }
        bool selfSigned = cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData);
        bool issuerKnown;
        lock (_gate) { issuerKnown = _entries.Any(e => e.Keystore == keystore && e.Chain[0].SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData)); }
        if (!selfSigned && !issuerKnown && !verified)
        {
            await Error(ctx, 409, $"Trust path for certificate '{cert.Subject}' could not be established; verify its fingerprint and upload it with fingerprintVerified=true.");
            return;
        }

        var entry = new Entry { Keystore = keystore, Alias = alias, Type = "Certificate", Chain = new List<X509Certificate2> { cert } };
        Store(entry);
        await Json(ctx, 201, new JsonObject { ["d"] = ToJson(entry, ctx) });
    }

    private async Task PostKeyPair(HttpContext ctx, string keystore, byte[] body)
    {
        JsonObject o;
        try { o = JsonNode.Parse(body)!.AsObject(); }
        catch (JsonException) { await Error(ctx, 400, "The request body is not JSON."); return; }
        string? alias = (string?)o["Alias"];
        string? hex = (string?)o["Hexalias"];
        string? password = (string?)o["Password"];
        string? resource = (string?)o["Resource"];
        if (alias is null || hex is null || resource is null || FromHex(hex) != alias)
        {
            await Error(ctx, 400, "Hexalias, Alias and Resource are required and Hexalias must be the hex of Alias.");
            return;
        }

        if (alias.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ' ')))
        {
            await Error(ctx, 400, $"The alias '{alias}' contains a character that is not allowed.");
            return;
        }

        if (IsReserved(alias)) { await Error(ctx, 403, $"The alias '{alias}' is reserved for SAP-owned entries."); return; }
        byte[] p12;
        try { p12 = Convert.FromBase64String(resource); }
        catch (FormatException) { await Error(ctx, 400, "Resource is not base64."); return; }
        if (p12.Length > MaxKeyPairBytes) { await Error(ctx, 413, $"The key pair is larger than {MaxKeyPairBytes} bytes."); return; }
        if (Full()) { await Error(ctx, 413, "The keystore has reached its maximum size."); return; }
        if (Locked()) { await Error(ctx, 503, "The keystore is locked by another operation; try again later."); return; }
        if (p12.Length == 0 || p12[0] != 0x30)
        {
            await Error(ctx, 415, "The resource is not a PKCS#12 key store.");
            return;
        }

        X509Certificate2Collection certs;
        try
        {
            certs = X509CertificateLoader.LoadPkcs12Collection(p12, password);
        }
        catch (CryptographicException)
        {
            await Error(ctx, 400, "The key store could not be opened: the password is wrong.");
            return;
        }

        X509Certificate2? leaf = certs.Cast<X509Certificate2>().FirstOrDefault(c => c.HasPrivateKey);
        if (leaf is null) { await Error(ctx, 400, "Chain check failed: the key store holds no private key."); return; }
        bool update = ctx.Request.Query["update"].ToString() == "true";
        Entry? existing = Find(keystore, alias);
        if (existing is not null && !update) { await Error(ctx, 400, $"An entry with alias '{alias}' exists already."); return; }
        if (existing is null && update) { await Error(ctx, 400, $"An entry with alias '{alias}' does not exist; it cannot be updated."); return; }
        var chain = new List<X509Certificate2> { X509CertificateLoader.LoadCertificate(leaf.RawData) };
        X509Certificate2 current = chain[0];
        while (!current.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData)
               && certs.Cast<X509Certificate2>().FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData)) is { } issuer
               && chain.Count < 10)
        {
            current = X509CertificateLoader.LoadCertificate(issuer.RawData);
            chain.Add(current);
        }

        var entry = new Entry { Keystore = keystore, Alias = alias, Type = "Key Pair", Chain = chain };
        Store(entry);
        await Json(ctx, 201, new JsonObject { ["d"] = ToJson(entry, ctx) });
    }

    private async Task PostKeystore(HttpContext ctx, byte[] body)
    {
        string mode = ctx.Request.Query["importOption"].ToString();
        if (mode is not ("merge" or "overwrite" or "replace")) { await Error(ctx, 400, $"importOption '{mode}' is not one of merge, overwrite, replace."); return; }
        JsonObject o;
        try { o = JsonNode.Parse(body)!.AsObject(); }
        catch (JsonException) { await Error(ctx, 400, "The request body is not JSON."); return; }
        string name = (string?)o["Name"] ?? "";
        if (name != "system") { await Error(ctx, 400, $"Keystore '{name}' cannot be imported; only 'system'."); return; }
        byte[] jks;
        try { jks = Convert.FromBase64String((string?)o["Resource"] ?? ""); }
        catch (FormatException) { await Error(ctx, 400, "Resource is not base64."); return; }
        if (Full()) { await Error(ctx, 413, "The keystore has reached its maximum size."); return; }
        if (Locked()) { await Error(ctx, 503, "The keystore is locked by another operation; try again later."); return; }
        var store = new Org.BouncyCastle.Security.JksStore();
        char[] pw = ((string?)o["Password"] ?? "").ToCharArray();
        try
        {
            using var ms = new MemoryStream(jks);
            store.Load(ms, pw);
        }
        catch (Exception ex) when (ex is IOException or Org.BouncyCastle.Security.GeneralSecurityException or ArgumentException or InvalidOperationException)
        {
            await Error(ctx, 415, "The resource is not a JKS keystore, or its password is wrong.");
            return;
        }

        var results = new JsonArray();
        var imported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string alias in store.Aliases)
        {
            if (IsReserved(alias))
            {
                results.Add(new JsonObject { ["Alias"] = alias, ["Status"] = "notImported" });
                continue;
            }

            List<X509Certificate2> chain;
            string type;
            if (store.IsKeyEntry(alias))
            {
                chain = store.GetCertificateChain(alias).Select(c => X509CertificateLoader.LoadCertificate(c.GetEncoded())).ToList();
                type = "Key Pair";
            }
            else
            {
                chain = new List<X509Certificate2> { X509CertificateLoader.LoadCertificate(store.GetCertificate(alias).GetEncoded()) };
                type = "Certificate";
            }

            imported.Add(alias);
            Entry? existing = Find("system", alias);
            string status = existing is null ? "new" : existing.Chain[0].RawData.AsSpan().SequenceEqual(chain[0].RawData) ? "unchanged" : mode == "merge" ? "notImported" : "changed";
            if (status is "new" or "changed")
            {
                Store(new Entry { Keystore = "system", Alias = alias, Type = type, Chain = chain });
            }

            results.Add(new JsonObject { ["Alias"] = alias, ["Status"] = status });
        }

        if (mode == "replace")
        {
            lock (_gate)
            {
                foreach (Entry e in _entries.Where(e => e.Keystore == "system" && e.Owner != "SAP" && !imported.Contains(e.Alias)).ToList())
                {
                    _entries.Remove(e);
                    results.Add(new JsonObject { ["Alias"] = e.Alias, ["Status"] = "removed" });
                }
            }
        }

        await Json(ctx, 200, new JsonObject { ["d"] = new JsonObject { ["results"] = results } });
    }

    // ---------------------------------------------------------------- helpers

    private static bool IsReserved(string alias) =>
        alias.StartsWith("sap_", StringComparison.OrdinalIgnoreCase) || Reserved.Any(r => r.Equals(alias, StringComparison.OrdinalIgnoreCase));

    private bool Locked() { lock (_gate) { return _locked; } }

    private bool Full() { lock (_gate) { return _full; } }

    private Entry? Find(string keystore, string alias)
    {
        lock (_gate) { return _entries.FirstOrDefault(x => x.Keystore == keystore && x.Alias.Equals(alias, StringComparison.OrdinalIgnoreCase)); }
    }

    private void Store(Entry e)
    {
        lock (_gate)
        {
            _entries.RemoveAll(x => x.Keystore == e.Keystore && x.Alias.Equals(e.Alias, StringComparison.OrdinalIgnoreCase));
            _entries.Add(e);
        }
    }

    private static (string Hex, string Tail)? Key(string rest, string prefix)
    {
        if (!rest.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        int close = rest.IndexOf(')', prefix.Length);
        if (close < 0)
        {
            return null;
        }

        string key = rest.Substring(prefix.Length, close - prefix.Length).Trim('\'');
        return (key, rest.Substring(close + 1));
    }

    private static string? FromHex(string hex)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(Convert.FromHexString(hex));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static string Hex(string alias) => Convert.ToHexString(Encoding.UTF8.GetBytes(alias)).ToLowerInvariant();

    private static string Date(DateTime utc) => $"/Date({new DateTimeOffset(utc.ToUniversalTime()).ToUnixTimeMilliseconds()})/";

    private static JsonObject ToJson(Entry e, HttpContext ctx)
    {
        X509Certificate2 c = e.Chain[0];
        string hex = Hex(e.Alias);
        string keyType = c.GetRSAPublicKey() is { } rsa ? "RSA" : c.GetECDsaPublicKey() is not null ? "EC" : "DSA";
        int keySize = c.GetRSAPublicKey()?.KeySize ?? c.GetECDsaPublicKey()?.KeySize ?? 0;
        string uri = $"https://{ctx.Request.Host}/api/v1/KeystoreEntries('{hex}')";
        return new JsonObject
        {
            ["__metadata"] = new JsonObject { ["id"] = uri, ["uri"] = uri, ["type"] = "com.sap.hci.api.KeystoreEntry" },
            ["Hexalias"] = hex,
            ["Alias"] = e.Alias,
            ["Type"] = e.Type,
            ["Owner"] = e.Owner,
            ["LastModifiedBy"] = e.LastModifiedBy,
            ["LastModifiedTime"] = $"/Date({e.LastModified.ToUnixTimeMilliseconds()}+0000)/",
            ["CreatedBy"] = e.LastModifiedBy,
            ["CreatedTime"] = $"/Date({e.LastModified.ToUnixTimeMilliseconds()}+0000)/",
            ["ValidNotBefore"] = Date(c.NotBefore),
            ["ValidNotAfter"] = Date(c.NotAfter),
            ["SerialNumber"] = c.SerialNumber,
            ["SignatureAlgorithm"] = c.SignatureAlgorithm.FriendlyName,
            ["KeyType"] = keyType,
            ["KeySize"] = keySize,
            ["Version"] = c.Version,
            ["SubjectDN"] = c.Subject,
            ["IssuerDN"] = c.Issuer,
            ["FingerprintSha1"] = c.GetCertHashString(HashAlgorithmName.SHA1).ToLowerInvariant(),
            ["FingerprintSha256"] = c.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant(),
            ["FingerprintSha512"] = c.GetCertHashString(HashAlgorithmName.SHA512).ToLowerInvariant(),
            ["Status"] = c.NotAfter.ToUniversalTime() < DateTime.UtcNow ? "Expired" : "OK",
            ["ChainResource"] = new JsonObject { ["__deferred"] = new JsonObject { ["uri"] = uri + "/ChainResource" } },
        };
    }

    private static async Task<byte[]> ReadBody(HttpRequest request)
    {
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms);
        return ms.ToArray();
    }

    private static async Task Json(HttpContext ctx, int status, JsonNode node)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(node.ToJsonString());
    }

    private static async Task Bytes(HttpContext ctx, string contentType, byte[] data)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = contentType;
        await ctx.Response.Body.WriteAsync(data);
    }

    // The OData V2 JSON error format.
    private static Task Error(HttpContext ctx, int status, string message) =>
        Json(ctx, status, new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = status.ToString(CultureInfo.InvariantCulture), ["message"] = new JsonObject { ["lang"] = "en", ["value"] = message } },
        });
}
