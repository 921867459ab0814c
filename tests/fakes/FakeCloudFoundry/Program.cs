// FakeCloudFoundry: a fake Cloud Foundry v3 API and a fake UAA on 127.0.0.1 over HTTPS, written from the published
// shapes of the API (GET /, /v3/spaces, /v3/service_instances, /v3/service_credential_bindings with pagination,
// /details, 202 + Location jobs, /v3/jobs) and of UAA's /oauth/token (password and refresh_token grants, client cf).
// Service keys hold Process Integration Runtime certificate credentials issued from the test PKI given on the command
// line, so a key made here really authenticates to a local mTLS server that trusts that PKI's root.
//
// Test control (not part of any real API) lives under /fake/: GET /fake/requests (what was sent), POST /fake/reset,
// POST /fake/config (knobs: jobPolls, failNextJob, jobNeverCompletes, pageSize, relativeLocation, locationBase,
// failures),
// POST /fake/expire-tokens, POST /fake/keys (add a key without a job).
//
// Usage: FakeCloudFoundry --port N --cert server.crt --key server.key --chain intermediate.crt
//                         --issuer-cert intermediate.crt --issuer-key intermediate.key --root root.crt
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Server.Kestrel.Https;

var options = ParseArgs(args);
var serverCert = X509Certificate2.CreateFromPemFile(options["cert"], options["key"]);
// Kestrel on Linux is fine with the ephemeral key; on Windows the key must come from a PFX.
serverCert = new X509Certificate2(serverCert.Export(X509ContentType.Pfx));
var serverChain = new X509Certificate2Collection();
if (options.TryGetValue("chain", out var chainPath))
{
    serverChain.ImportFromPemFile(chainPath);
}

var state = new FakeState(
    X509Certificate2.CreateFromPemFile(options["issuer-cert"], options["issuer-key"]),
    X509Certificate2.CreateFromPem(File.ReadAllText(options["root"])));

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(IPAddress.Loopback, int.Parse(options["port"]), listen =>
    {
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            ServerCertificateChain = serverChain,
            ClientCertificateMode = ClientCertificateMode.NoCertificate,
        });
    });
});
var app = builder.Build();

app.Use(async (context, next) =>
{
    context.Request.EnableBuffering();
    string body;
    using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true))
    {
        body = await reader.ReadToEndAsync();
    }

    context.Request.Body.Position = 0;
    if (!context.Request.Path.StartsWithSegments("/fake"))
    {
        state.Record(context.Request, body);
        var failure = state.TakeFailure(context.Request.Method, context.Request.Path.Value ?? "");
        if (failure is not null)
        {
            context.Response.StatusCode = failure.Status;
            if (failure.RetryAfter is { } ra)
            {
                context.Response.Headers["Retry-After"] = ra;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(failure.Body ?? FakeState.CfError(failure.Status, failure.Title ?? "CF-ServiceUnavailable", failure.Detail ?? "Fake failure").ToJsonString());
            return;
        }
    }

    try
    {
        await next();
    }
    catch (Exception ex)
    {
        Console.Error.WriteLine($"{context.Request.Method} {context.Request.Path}: {ex}");
        throw;
    }
});

string Base(HttpRequest r) => $"https://{r.Host}";

app.MapGet("/", (HttpRequest r) => Results.Json(new JsonObject
{
    ["links"] = new JsonObject
    {
        ["self"] = new JsonObject { ["href"] = Base(r) },
        ["cloud_controller_v3"] = new JsonObject { ["href"] = Base(r) + "/v3", ["meta"] = new JsonObject { ["version"] = "3.180.0" } },
        ["login"] = new JsonObject { ["href"] = Base(r) + "/uaa" },
        ["uaa"] = new JsonObject { ["href"] = Base(r) + "/uaa" },
    },
}));

app.MapPost("/uaa/oauth/token", async (HttpRequest r) =>
{
    var form = await r.ReadFormAsync();
    string? client = form["client_id"].FirstOrDefault();
    string? secret = form["client_secret"].FirstOrDefault();
    if (r.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
    {
        string pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth.Substring(6).Trim()));
        int colon = pair.IndexOf(':');
        client = colon < 0 ? pair : pair.Substring(0, colon);
        secret = colon < 0 ? "" : pair.Substring(colon + 1);
    }

    if (client != "cf" || !string.IsNullOrEmpty(secret))
    {
        return Results.Json(new JsonObject { ["error"] = "invalid_client", ["error_description"] = "Bad credentials" }, statusCode: 401);
    }

    string grant = form["grant_type"].FirstOrDefault() ?? "";
    if (grant == "password")
    {
        if (form["username"] != FakeState.UserName || form["password"] != FakeState.Password)
        {
            return Results.Json(new JsonObject { ["error"] = "unauthorized", ["error_description"] = "Bad credentials" }, statusCode: 401);
        }
    }
    else if (grant == "refresh_token")
    {
        if (!state.RefreshTokens.ContainsKey(form["refresh_token"].FirstOrDefault() ?? ""))
        {
            return Results.Json(new JsonObject { ["error"] = "invalid_token", ["error_description"] = "Invalid refresh token (expired)" }, statusCode: 401);
        }
    }
    else
    {
        return Results.Json(new JsonObject { ["error"] = "unsupported_grant_type", ["error_description"] = $"Unsupported grant type: {grant}" }, statusCode: 400);
    }

    var (access, refresh) = state.IssueTokens();
    return Results.Json(new JsonObject
    {
        ["access_token"] = access,
        ["token_type"] = "bearer",
        ["refresh_token"] = refresh,
        ["expires_in"] = 1199,
        ["scope"] = "cloud_controller.read cloud_controller.write openid",
        ["jti"] = Guid.NewGuid().ToString("N"),
    });
});

var v3 = app.MapGroup("/v3");
v3.AddEndpointFilter(async (ctx, next) =>
{
    string? auth = ctx.HttpContext.Request.Headers.Authorization.FirstOrDefault();
    if (auth is null || !auth.StartsWith("bearer ", StringComparison.OrdinalIgnoreCase))
    {
        return Results.Json(FakeState.CfError(10002, "CF-NotAuthenticated", "Authentication error"), statusCode: 401);
    }

    if (!state.AccessTokenValid(auth.Substring(7).Trim()))
    {
        return Results.Json(FakeState.CfError(1000, "CF-InvalidAuthToken", "Invalid Auth Token"), statusCode: 401);
    }

    return await next(ctx);
});

v3.MapGet("/spaces", (HttpRequest r) =>
{
    var names = List(r, "names");
    var orgs = List(r, "organization_guids");
    var guids = List(r, "guids");
    var items = state.Spaces.Where(s => (names is null || names.Contains(s.Name)) && (orgs is null || orgs.Contains(s.OrgGuid)) && (guids is null || guids.Contains(s.Guid)))
        .Select(s => (JsonNode)s.ToJson(Base(r))).ToList();
    return Results.Json(state.Page(r, "/v3/spaces", items));
});

v3.MapGet("/service_instances", (HttpRequest r) =>
{
    var names = List(r, "names");
    var spaces = List(r, "space_guids");
    var items = state.Instances.Where(i => (names is null || names.Contains(i.Name)) && (spaces is null || spaces.Contains(i.SpaceGuid)))
        .Select(i => (JsonNode)i.ToJson(Base(r))).ToList();
    return Results.Json(state.Page(r, "/v3/service_instances", items));
});

v3.MapGet("/service_credential_bindings", (HttpRequest r) =>
{
    var names = List(r, "names");
    var instances = List(r, "service_instance_guids");
    var type = r.Query["type"].FirstOrDefault();
    List<JsonNode> items;
    lock (state.Bindings)
    {
        items = state.Bindings.Values.OrderBy(b => b.Sequence)
            .Where(b => (names is null || names.Contains(b.Name)) && (instances is null || instances.Contains(b.InstanceGuid)) && (type is null || type == "key"))
            .Select(b => (JsonNode)b.ToJson(Base(r))).ToList();
    }

    return Results.Json(state.Page(r, "/v3/service_credential_bindings", items));
});

v3.MapGet("/service_credential_bindings/{guid}", (HttpRequest r, string guid) =>
    state.Bindings.TryGetValue(guid, out var b) ? Results.Json(b.ToJson(Base(r))) : Results.Json(FakeState.CfError(10010, "CF-ResourceNotFound", "Service credential binding not found"), statusCode: 404));

v3.MapGet("/service_credential_bindings/{guid}/details", (HttpRequest r, string guid) =>
{
    if (!state.Bindings.TryGetValue(guid, out var b))
    {
        return Results.Json(FakeState.CfError(10010, "CF-ResourceNotFound", "Service credential binding not found"), statusCode: 404);
    }

    return Results.Json(new JsonObject { ["credentials"] = state.CredentialsOf(b, Base(r)) });
});

v3.MapPost("/service_credential_bindings", async (HttpRequest r) =>
{
    JsonNode? body;
    try
    {
        body = await JsonNode.ParseAsync(r.Body);
    }
    catch (JsonException)
    {
        return Results.Json(FakeState.CfError(1001, "CF-MessageParseError", "Request invalid due to parse error: invalid request body"), statusCode: 400);
    }

    string? type = body?["type"]?.GetValue<string>();
    string? name = body?["name"]?.GetValue<string>();
    string? instanceGuid = body?["relationships"]?["service_instance"]?["data"]?["guid"]?.GetValue<string>();
    if (type != "key" || string.IsNullOrEmpty(name))
    {
        return Results.Json(FakeState.CfError(10008, "CF-UnprocessableEntity", "Type must be one of 'app', 'key'; Name can't be blank"), statusCode: 422);
    }

    if (instanceGuid is null || state.Instances.All(i => i.Guid != instanceGuid))
    {
        return Results.Json(FakeState.CfError(10008, "CF-UnprocessableEntity", $"Invalid service instance guid: '{instanceGuid}'"), statusCode: 422);
    }

    lock (state.Bindings)
    {
        if (state.Bindings.Values.Any(b => b.InstanceGuid == instanceGuid && b.Name == name))
        {
            return Results.Json(FakeState.CfError(10008, "CF-UnprocessableEntity",
                $"The binding name is invalid. Key binding names must be unique. The service instance already has a key binding with name '{name}'."), statusCode: 422);
        }
    }

    var binding = state.AddBinding(instanceGuid, name!, body?["parameters"] as JsonObject, inProgress: true);
    var job = state.AddJob("service_cred_binding.create", binding);
    string path = $"/v3/jobs/{job.Guid}";
    r.HttpContext.Response.Headers.Location = state.Config.RelativeLocation ? path : (state.Config.LocationBase ?? Base(r)) + path;
    return Results.StatusCode(202);
});

v3.MapDelete("/service_credential_bindings/{guid}", (HttpRequest r, string guid) =>
{
    if (!state.Bindings.TryGetValue(guid, out var b))
    {
        return Results.Json(FakeState.CfError(10010, "CF-ResourceNotFound", "Service credential binding not found"), statusCode: 404);
    }

    var job = state.AddJob("service_cred_binding.delete", b);
    string path = $"/v3/jobs/{job.Guid}";
    r.HttpContext.Response.Headers.Location = state.Config.RelativeLocation ? path : (state.Config.LocationBase ?? Base(r)) + path;
    return Results.StatusCode(202);
});

v3.MapGet("/jobs/{guid}", (HttpRequest r, string guid) =>
{
    if (!state.Jobs.TryGetValue(guid, out var job))
    {
        return Results.Json(FakeState.CfError(10010, "CF-ResourceNotFound", "Job not found"), statusCode: 404);
    }

    return Results.Json(state.Poll(job, Base(r)));
});

app.MapGet("/fake/requests", () => Results.Json(state.Requests()));
app.MapPost("/fake/reset", () =>
{
    state.Reset();
    return Results.Ok();
});
app.MapPost("/fake/expire-tokens", () =>
{
    state.ExpireAccessTokens();
    return Results.Ok();
});
app.MapGet("/fake/tokens", () => Results.Json(state.IssueTokens() is var (a, rt) ? new JsonObject { ["access_token"] = a, ["refresh_token"] = rt } : null));
app.MapPost("/fake/config", async (HttpRequest r) =>
{
    var node = await JsonNode.ParseAsync(r.Body) as JsonObject ?? new JsonObject();
    state.Configure(node);
    return Results.Ok();
});
app.MapPost("/fake/keys", async (HttpRequest r) =>
{
    var node = await JsonNode.ParseAsync(r.Body) as JsonObject ?? new JsonObject();
    string instance = node["instance"]!.GetValue<string>();
    var inst = state.Instances.First(i => i.Name == instance && (node["space"] is null || i.SpaceGuid == node["space"]!.GetValue<string>()));
    var b = state.AddBinding(inst.Guid, node["name"]!.GetValue<string>(), node["parameters"] as JsonObject, inProgress: false);
    if (node["clientSecret"]?.GetValue<bool>() == true)
    {
        b.ClientSecretKey = true;
    }

    return Results.Json(new JsonObject { ["guid"] = b.Guid });
});

app.Run();

static HashSet<string>? List(HttpRequest r, string name) =>
    r.Query[name].FirstOrDefault() is { } v ? v.Split(',').Select(Uri.UnescapeDataString).ToHashSet(StringComparer.Ordinal) : null;

static Dictionary<string, string> ParseArgs(string[] args)
{
    var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        d[args[i].TrimStart('-')] = args[i + 1];
    }

    return d;
}

internal sealed record FakeSpace(string Guid, string Name, string OrgGuid)
{
    public JsonObject ToJson(string b) => new()
    {
        ["guid"] = Guid,
        ["name"] = Name,
        ["relationships"] = new JsonObject { ["organization"] = new JsonObject { ["data"] = new JsonObject { ["guid"] = OrgGuid } } },
        ["links"] = new JsonObject { ["self"] = new JsonObject { ["href"] = $"{b}/v3/spaces/{Guid}" } },
    };
}

internal sealed record FakeInstance(string Guid, string Name, string SpaceGuid)
{
    public JsonObject ToJson(string b) => new()
    {
        ["guid"] = Guid,
        ["name"] = Name,
        ["type"] = "managed",
        ["relationships"] = new JsonObject { ["space"] = new JsonObject { ["data"] = new JsonObject { ["guid"] = SpaceGuid } } },
        ["links"] = new JsonObject { ["self"] = new JsonObject { ["href"] = $"{b}/v3/service_instances/{Guid}" } },
    };
}

internal sealed class FakeBinding
{
    public string Guid = System.Guid.NewGuid().ToString();
    public string Name = "";
    public string InstanceGuid = "";
    public long Sequence;
    public JsonObject? Parameters;
    public string State = "succeeded";
    public string Operation = "create";
    public bool ClientSecretKey;
    public DateTime CreatedAt = DateTime.UtcNow;
    public JsonObject? Credentials;

    public JsonObject ToJson(string b) => new()
    {
        ["guid"] = Guid,
        ["created_at"] = CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        ["updated_at"] = CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        ["name"] = Name,
        ["type"] = "key",
        ["last_operation"] = new JsonObject { ["type"] = Operation, ["state"] = State, ["description"] = "" },
        ["relationships"] = new JsonObject { ["service_instance"] = new JsonObject { ["data"] = new JsonObject { ["guid"] = InstanceGuid } } },
        ["links"] = new JsonObject
        {
            ["self"] = new JsonObject { ["href"] = $"{b}/v3/service_credential_bindings/{Guid}" },
            ["details"] = new JsonObject { ["href"] = $"{b}/v3/service_credential_bindings/{Guid}/details" },
        },
    };
}

internal sealed class FakeJob
{
    public string Guid = System.Guid.NewGuid().ToString();
    public string Operation = "";
    public FakeBinding Binding = null!;
    public int Polls;
    public int PollsNeeded;
    public string? FailWith;
    public bool Never;
    public string State = "PROCESSING";
}

internal sealed class FakeFailure
{
    public string? Method;
    public string PathPrefix = "/";
    public int Status = 503;
    public string? RetryAfter;
    public string? Title;
    public string? Detail;
    public string? Body;
    public int Count = 1;
}

internal sealed class FakeConfig
{
    public int JobPolls = 2;
    public string? FailNextJob;
    public bool JobNeverCompletes;
    public int PageSize = 2;
    public bool RelativeLocation;
    public string? LocationBase;
}

internal sealed class FakeState
{
    public const string UserName = "pester@example.com";
    public const string Password = "pester-Passw0rd!";
    private readonly X509Certificate2 _issuer;
    private readonly X509Certificate2 _root;
    private readonly List<JsonObject> _requests = new();
    private readonly List<FakeFailure> _failures = new();
    private long _sequence;

    public FakeState(X509Certificate2 issuer, X509Certificate2 root)
    {
        _issuer = issuer;
        _root = root;
        Reset();
    }

    public List<FakeSpace> Spaces { get; } = new();
    public List<FakeInstance> Instances { get; } = new();
    public ConcurrentDictionary<string, FakeBinding> Bindings { get; } = new();
    public ConcurrentDictionary<string, FakeJob> Jobs { get; } = new();
    public ConcurrentDictionary<string, bool> AccessTokens { get; } = new();
    public ConcurrentDictionary<string, bool> RefreshTokens { get; } = new();
    public FakeConfig Config { get; private set; } = new();

    public static JsonObject CfError(int code, string title, string detail) =>
        new() { ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["title"] = title, ["detail"] = detail }) };

    public void Reset()
    {
        lock (_requests)
        {
            _requests.Clear();
            _failures.Clear();
        }

        Config = new FakeConfig();
        Spaces.Clear();
        Instances.Clear();
        Bindings.Clear();
        Jobs.Clear();
        Spaces.Add(new FakeSpace("5b5f2a9c-0000-4000-8000-000000000001", "dev", "0a0a0a0a-0000-4000-8000-00000000000a"));
        Spaces.Add(new FakeSpace("5b5f2a9c-0000-4000-8000-000000000002", "prod", "0a0a0a0a-0000-4000-8000-00000000000a"));
        Instances.Add(new FakeInstance("1c1c1c1c-0000-4000-8000-000000000001", "cpi-inbound", Spaces[0].Guid));
        Instances.Add(new FakeInstance("1c1c1c1c-0000-4000-8000-000000000002", "cpi-shared", Spaces[0].Guid));
        Instances.Add(new FakeInstance("1c1c1c1c-0000-4000-8000-000000000003", "cpi-shared", Spaces[1].Guid));
        Instances.Add(new FakeInstance("1c1c1c1c-0000-4000-8000-000000000004", "cpi-prod", Spaces[1].Guid));
        foreach (string name in new[] { "cert-2026", "cert-2026b", "cert-2026c" })
        {
            AddBinding(Instances[0].Guid, name, null, inProgress: false);
        }

        AddBinding(Instances[3].Guid, "prod-key", null, inProgress: false);
    }

    public void Configure(JsonObject node)
    {
        if (node["jobPolls"] is { } jp) { Config.JobPolls = jp.GetValue<int>(); }
        if (node.ContainsKey("failNextJob")) { Config.FailNextJob = node["failNextJob"]?.GetValue<string>(); }
        if (node["jobNeverCompletes"] is { } jn) { Config.JobNeverCompletes = jn.GetValue<bool>(); }
        if (node["pageSize"] is { } ps) { Config.PageSize = ps.GetValue<int>(); }
        if (node["relativeLocation"] is { } rl) { Config.RelativeLocation = rl.GetValue<bool>(); }
        if (node["locationBase"] is { } lb) { Config.LocationBase = lb.GetValue<string>(); }
        if (node["failures"] is JsonArray failures)
        {
            lock (_requests)
            {
                foreach (JsonNode? f in failures)
                {
                    _failures.Add(new FakeFailure
                    {
                        Method = f?["method"]?.GetValue<string>(),
                        PathPrefix = f?["path"]?.GetValue<string>() ?? "/",
                        Status = f?["status"]?.GetValue<int>() ?? 503,
                        RetryAfter = f?["retryAfter"]?.GetValue<string>(),
                        Title = f?["title"]?.GetValue<string>(),
                        Detail = f?["detail"]?.GetValue<string>(),
                        Body = f?["body"]?.GetValue<string>(),
                        Count = f?["count"]?.GetValue<int>() ?? 1,
                    });
                }
            }
        }
    }

    public FakeFailure? TakeFailure(string method, string path)
    {
        lock (_requests)
        {
            var f = _failures.FirstOrDefault(x => (x.Method is null || string.Equals(x.Method, method, StringComparison.OrdinalIgnoreCase)) && path.StartsWith(x.PathPrefix, StringComparison.Ordinal));
            if (f is null)
            {
                return null;
            }

            if (--f.Count <= 0)
            {
                _failures.Remove(f);
            }

            return f;
        }
    }

    public void Record(HttpRequest r, string body)
    {
        var o = new JsonObject
        {
            ["method"] = r.Method,
            ["path"] = r.Path.Value,
            ["query"] = r.QueryString.Value,
            ["authorization"] = r.Headers.Authorization.FirstOrDefault(),
            ["contentType"] = r.ContentType,
            ["body"] = body,
            ["time"] = DateTime.UtcNow.ToString("o"),
        };
        lock (_requests)
        {
            _requests.Add(o);
        }
    }

    public JsonArray Requests()
    {
        lock (_requests)
        {
            return new JsonArray(_requests.Select(r => (JsonNode)r.DeepClone()).ToArray());
        }
    }

    public (string Access, string Refresh) IssueTokens()
    {
        string access = "fake-access-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        string refresh = "fake-refresh-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        AccessTokens[access] = true;
        RefreshTokens[refresh] = true;
        return (access, refresh);
    }

    public bool AccessTokenValid(string token) => AccessTokens.TryGetValue(token, out bool valid) && valid;

    public void ExpireAccessTokens()
    {
        foreach (string t in AccessTokens.Keys)
        {
            AccessTokens[t] = false;
        }
    }

    public JsonObject Page(HttpRequest r, string path, List<JsonNode> items)
    {
        int perPage = Config.PageSize;
        if (int.TryParse(r.Query["per_page"].FirstOrDefault(), out int asked) && asked > 0)
        {
            perPage = Math.Min(perPage, asked);
        }

        int page = int.TryParse(r.Query["page"].FirstOrDefault(), out int p) && p > 0 ? p : 1;
        int pages = Math.Max(1, (items.Count + perPage - 1) / perPage);
        string Href(int n)
        {
            var query = r.Query.Where(q => q.Key != "page" && q.Key != "per_page").Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value.ToString())}").ToList();
            query.Add($"page={n}");
            query.Add($"per_page={perPage}");
            return $"https://{r.Host}{path}?{string.Join("&", query)}";
        }

        return new JsonObject
        {
            ["pagination"] = new JsonObject
            {
                ["total_results"] = items.Count,
                ["total_pages"] = pages,
                ["first"] = new JsonObject { ["href"] = Href(1) },
                ["last"] = new JsonObject { ["href"] = Href(pages) },
                ["next"] = page < pages ? new JsonObject { ["href"] = Href(page + 1) } : null,
                ["previous"] = page > 1 ? new JsonObject { ["href"] = Href(page - 1) } : null,
            },
            ["resources"] = new JsonArray(items.Skip((page - 1) * perPage).Take(perPage).Select(i => i.DeepClone()).ToArray()),
        };
    }

    public FakeBinding AddBinding(string instanceGuid, string name, JsonObject? parameters, bool inProgress)
    {
        var b = new FakeBinding
        {
            Name = name,
            InstanceGuid = instanceGuid,
            Parameters = parameters?.DeepClone() as JsonObject,
            Sequence = Interlocked.Increment(ref _sequence),
            State = inProgress ? "in progress" : "succeeded",
        };
        Bindings[b.Guid] = b;
        return b;
    }

    public FakeJob AddJob(string operation, FakeBinding binding)
    {
        var job = new FakeJob
        {
            Operation = operation,
            Binding = binding,
            PollsNeeded = Config.JobPolls,
            FailWith = Config.FailNextJob,
            Never = Config.JobNeverCompletes,
        };
        Config.FailNextJob = null;
        if (operation.EndsWith("delete", StringComparison.Ordinal))
        {
            binding.Operation = "delete";
            binding.State = "in progress";
        }

        Jobs[job.Guid] = job;
        return job;
    }

    public JsonObject Poll(FakeJob job, string b)
    {
        lock (job)
        {
            job.Polls++;
            if (job.State is "PROCESSING" or "POLLING" && !job.Never && job.Polls > job.PollsNeeded)
            {
                if (job.FailWith is { } reason)
                {
                    job.State = "FAILED";
                    job.Binding.State = "failed";
                    if (job.Operation.EndsWith("create", StringComparison.Ordinal))
                    {
                        Bindings.TryRemove(job.Binding.Guid, out _);
                    }
                }
                else
                {
                    job.State = "COMPLETE";
                    if (job.Operation.EndsWith("delete", StringComparison.Ordinal))
                    {
                        Bindings.TryRemove(job.Binding.Guid, out _);
                    }
                    else
                    {
                        job.Binding.State = "succeeded";
                    }
                }
            }
            else if (job.State is "PROCESSING" && job.Polls > 1)
            {
                job.State = "POLLING";
            }

            var errors = new JsonArray();
            if (job.State == "FAILED")
            {
                errors.Add(new JsonObject { ["code"] = 10009, ["title"] = "CF-ServiceBrokerRequestRejected", ["detail"] = job.FailWith });
            }

            return new JsonObject
            {
                ["guid"] = job.Guid,
                ["created_at"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                ["updated_at"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                ["operation"] = job.Operation,
                ["state"] = job.State,
                ["errors"] = errors,
                ["warnings"] = new JsonArray(),
                ["links"] = new JsonObject { ["self"] = new JsonObject { ["href"] = $"{b}/v3/jobs/{job.Guid}" } },
            };
        }
    }

    /// <summary>The Process Integration Runtime credentials of a key, issued once from the test PKI.</summary>
    public JsonObject CredentialsOf(FakeBinding binding, string b)
    {
        lock (binding)
        {
            if (binding.Credentials is null)
            {
                string clientId = $"sb-{binding.Guid}!b1|it-rt-pester!b2";
                if (binding.ClientSecretKey)
                {
                    binding.Credentials = new JsonObject
                    {
                        ["clientid"] = clientId,
                        ["clientsecret"] = "fake-client-secret-" + binding.Guid.Substring(0, 8),
                        ["url"] = "https://pester.it-cpi001-rt.cfapps.eu10.hana.ondemand.com",
                        ["tokenurl"] = "https://pester.authentication.eu10.hana.ondemand.com/oauth/token",
                    };
                }
                else
                {
                    int days = binding.Parameters?["validity"]?.GetValue<int>() ?? 365;
                    int bits = binding.Parameters?["key-length"]?.GetValue<int>() ?? 2048;
                    using RSA rsa = RSA.Create(bits);
                    var request = new CertificateRequest($"CN={clientId}, OU=Pester Fake Cloud Foundry, O=CertIntegration Tests", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                    request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
                    request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
                    request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") }, false));
                    request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
                    request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_issuer, true, false));
                    DateTimeOffset notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
                    if (notBefore < _issuer.NotBefore.ToUniversalTime())
                    {
                        notBefore = _issuer.NotBefore.ToUniversalTime();
                    }

                    DateTimeOffset notAfter = DateTimeOffset.UtcNow.AddDays(days);
                    if (notAfter > _issuer.NotAfter.ToUniversalTime())
                    {
                        notAfter = _issuer.NotAfter.ToUniversalTime().AddMinutes(-1);
                    }

                    byte[] serial = RandomNumberGenerator.GetBytes(12);
                    serial[0] &= 0x7f;
                    using X509Certificate2 leaf = request.Create(_issuer, notBefore, notAfter, serial);
                    string chain = leaf.ExportCertificatePem() + "\n" + _issuer.ExportCertificatePem() + "\n" + _root.ExportCertificatePem() + "\n";
                    binding.Credentials = new JsonObject
                    {
                        ["clientid"] = clientId,
                        ["certificate"] = chain,
                        ["key"] = rsa.ExportPkcs8PrivateKeyPem() + "\n",
                        ["url"] = "https://pester.it-cpi001-rt.cfapps.eu10.hana.ondemand.com",
                        ["tokenurl"] = "https://pester.authentication.cert.eu10.hana.ondemand.com/oauth/token",
                        ["certificatedetails"] = new JsonObject
                        {
                            ["issuerdn"] = _issuer.Subject,
                            ["subjectdn"] = leaf.Subject,
                            ["serialnumber"] = leaf.SerialNumber.ToLowerInvariant(),
                            ["validuntil"] = notAfter.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                            ["validity"] = days,
                            ["validitytype"] = "DAYS",
                        },
                    };
                }
            }

            return (JsonObject)binding.Credentials.DeepClone();
        }
    }
}
