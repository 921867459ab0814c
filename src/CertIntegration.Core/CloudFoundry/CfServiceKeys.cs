using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.CloudFoundry;

/// <summary>A service instance found by name.</summary>
internal sealed class CfInstance
{
    public CfInstance(string guid, string name, string? spaceGuid)
    {
        Guid = guid;
        Name = name;
        SpaceGuid = spaceGuid;
    }

    public string Guid { get; }

    public string Name { get; }

    public string? SpaceGuid { get; }

    public string? SpaceName { get; set; }
}

/// <summary>A service credential binding of type key, as listed.</summary>
internal sealed class CfBinding
{
    public CfBinding(string guid, string name, DateTime? createdAt, string? state)
    {
        Guid = guid;
        Name = name;
        CreatedAt = createdAt;
        State = state;
    }

    public string Guid { get; }

    public string Name { get; }

    public DateTime? CreatedAt { get; }

    /// <summary>last_operation.state: succeeded, in progress, failed.</summary>
    public string? State { get; }
}

/// <summary>Where a job is while it is waited for.</summary>
internal sealed class CfJobProgress
{
    public CfJobProgress(string state, int polls, TimeSpan elapsed, TimeSpan timeout)
    {
        State = state;
        Polls = polls;
        Elapsed = elapsed;
        Timeout = timeout;
    }

    public string State { get; }

    public int Polls { get; }

    public TimeSpan Elapsed { get; }

    public TimeSpan Timeout { get; }
}

/// <summary>
/// Service keys of Process Integration Runtime instances through the Cloud Foundry v3 API: the space by name, the
/// instance by name in a space, the key bindings of an instance, their credentials (read by the same reader as
/// ConvertFrom-ServiceKey), creation and deletion with their asynchronous jobs.
/// </summary>
internal sealed class CfServiceKeys
{
    /// <summary>First wait between job polls; it doubles up to <see cref="MaxPollInterval"/>.</summary>
    public static readonly TimeSpan FirstPollInterval = TimeSpan.FromMilliseconds(500);

    public static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(5);

    private readonly CfClient _client;
    private readonly CfAuthentication _auth;
    private readonly Dictionary<string, string> _spaceNames = new(StringComparer.Ordinal);

    public CfServiceKeys(CfClient client, CfAuthentication auth)
    {
        _client = client;
        _auth = auth;
        if (auth.SpaceGuid is { } g && auth.SpaceName is { } n)
        {
            _spaceNames[g] = n;
        }
    }

    /// <summary>The space to look in: -Space by name (in the session's org when it names one), else the session's target space, else none (all spaces).</summary>
    public async Task<(string? Guid, string? Name)> SpaceAsync(string? spaceName, CancellationToken ct)
    {
        if (spaceName is null)
        {
            return (_auth.SpaceGuid, _auth.SpaceName);
        }

        string query = "/v3/spaces?names=" + Uri.EscapeDataString(spaceName)
            + (_auth.OrganizationGuid is { } org ? "&organization_guids=" + Uri.EscapeDataString(org) : string.Empty);
        List<JObject> spaces = await _client.ListAsync(query, ct).ConfigureAwait(false);
        if (spaces.Count == 0)
        {
            throw new CertIntegrationException(ErrorIds.CfSpaceNotFound, FailureKind.ObjectNotFound,
                $"There is no space '{spaceName}'" + (_auth.OrganizationGuid is null ? string.Empty : " in the targeted org") + " that this user can see (cf spaces).");
        }

        if (spaces.Count > 1)
        {
            throw new CertIntegrationException(ErrorIds.CfSpaceAmbiguous, FailureKind.InvalidArgument,
                $"{spaces.Count} spaces are named '{spaceName}' (in different orgs); target the org with 'cf target -o ORG' first.");
        }

        string guid = Text(spaces[0], "guid") ?? throw Missing("a space", "guid");
        _spaceNames[guid] = spaceName;
        return (guid, spaceName);
    }

    /// <summary>The service instance named <paramref name="name"/> in the space (or in every space the user sees).</summary>
    public async Task<CfInstance> InstanceAsync(string name, string? spaceGuid, string? spaceName, CancellationToken ct)
    {
        string query = "/v3/service_instances?names=" + Uri.EscapeDataString(name)
            + (spaceGuid is null ? string.Empty : "&space_guids=" + Uri.EscapeDataString(spaceGuid));
        List<JObject> found = await _client.ListAsync(query, ct).ConfigureAwait(false);
        string where = spaceGuid is null ? "in any space this user can see" : $"in the space '{spaceName ?? spaceGuid}'";
        if (found.Count == 0)
        {
            throw new CertIntegrationException(ErrorIds.CfServiceInstanceNotFound, FailureKind.ObjectNotFound,
                $"There is no service instance '{name}' {where} (cf services)." + (spaceGuid is null ? string.Empty : " Give -Space when it is in another space."));
        }

        if (found.Count > 1)
        {
            List<string> guids = found.Select(i => i.SelectToken("relationships.space.data.guid") is JValue v ? (string?)v ?? "?" : "?").ToList();
            await NameSpacesAsync(guids.Where(g => g != "?" && !_spaceNames.ContainsKey(g)), ct).ConfigureAwait(false);
            IEnumerable<string> spaces = guids.Select(g => _spaceNames.TryGetValue(g, out string? n) ? n : g);
            throw new CertIntegrationException(ErrorIds.CfServiceInstanceAmbiguous, FailureKind.InvalidArgument,
                $"{found.Count} service instances are named '{name}' {where} (spaces: {string.Join(", ", spaces)}); pick one with -Space.");
        }

        JObject o = found[0];
        var instance = new CfInstance(Text(o, "guid") ?? throw Missing("a service instance", "guid"), name,
            o.SelectToken("relationships.space.data.guid") is JValue s ? (string?)s : null);
        instance.SpaceName = instance.SpaceGuid is { } sg && _spaceNames.TryGetValue(sg, out string? known) ? known : spaceName;
        return instance;
    }

    /// <summary>Learns the names of spaces by guid, for messages; a failure leaves the guids as they are.</summary>
    private async Task NameSpacesAsync(IEnumerable<string> guids, CancellationToken ct)
    {
        List<string> wanted = guids.Distinct(StringComparer.Ordinal).Take(50).ToList();
        if (wanted.Count == 0)
        {
            return;
        }

        try
        {
            foreach (JObject space in await _client.ListAsync("/v3/spaces?guids=" + string.Join(",", wanted.Select(Uri.EscapeDataString)), ct).ConfigureAwait(false))
            {
                if (Text(space, "guid") is { } g && Text(space, "name") is { } n)
                {
                    _spaceNames[g] = n;
                }
            }
        }
        catch (CertIntegrationException)
        {
            // Only for the message: the guids are shown instead.
        }
    }

    /// <summary>The key bindings of an instance (all, or those named <paramref name="name"/>), oldest first as the API lists them.</summary>
    public async Task<List<CfBinding>> KeysAsync(CfInstance instance, string? name, CancellationToken ct)
    {
        string query = "/v3/service_credential_bindings?type=key&service_instance_guids=" + Uri.EscapeDataString(instance.Guid)
            + (name is null ? string.Empty : "&names=" + Uri.EscapeDataString(name));
        List<JObject> found = await _client.ListAsync(query, ct).ConfigureAwait(false);
        return found.Select(b => new CfBinding(
            Text(b, "guid") ?? throw Missing("a service credential binding", "guid"),
            Text(b, "name") ?? string.Empty,
            Text(b, "created_at") is { } c && DateTime.TryParse(c, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime t) ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : null,
            b.SelectToken("last_operation.state") is JValue st ? (string?)st : null)).ToList();
    }

    /// <summary>The bundle of a key's credentials (GET .../details), read like ConvertFrom-ServiceKey reads a service key.</summary>
    public async Task<CfServiceKey> ReadAsync(CfInstance instance, CfBinding binding, Action<string>? verbose, CancellationToken ct)
    {
        JObject details = await _client.GetAsync($"/v3/service_credential_bindings/{Uri.EscapeDataString(binding.Guid)}/details", ct).ConfigureAwait(false);
        string source = $"The service key '{binding.Name}' of '{instance.Name}'";
        if (details["credentials"] is not JObject credentials)
        {
            throw new CertIntegrationException(ErrorIds.CfAnswerInvalid, FailureKind.ProtocolError,
                $"{source}: the details of the binding hold no 'credentials' object.");
        }

        CertificateBundle bundle = ServiceKeyReader.Read(new JObject { ["credentials"] = credentials }, source, verbose);
        bundle.Source = $"cf:{instance.Name}/{binding.Name}";
        return new CfServiceKey(bundle, binding.Name, binding.Guid, instance.Name, instance.Guid)
        {
            Space = instance.SpaceName,
            CreatedAt = binding.CreatedAt,
        };
    }

    /// <summary>POST /v3/service_credential_bindings; returns the job to wait for, or null when the API created the key at once (201).</summary>
    public async Task<Uri?> CreateAsync(CfInstance instance, string name, JObject? parameters, CancellationToken ct)
    {
        var body = new JObject
        {
            ["type"] = "key",
            ["name"] = name,
            ["relationships"] = new JObject { ["service_instance"] = new JObject { ["data"] = new JObject { ["guid"] = instance.Guid } } },
        };
        if (parameters is not null)
        {
            body["parameters"] = parameters;
        }

        CfResponse response = await _client.SendAsync(HttpMethod.Post, "/v3/service_credential_bindings", body, ct).ConfigureAwait(false);
        return JobOf(response, "POST /v3/service_credential_bindings");
    }

    /// <summary>DELETE /v3/service_credential_bindings/&lt;guid&gt;; returns the job to wait for, or null when it was deleted at once (204).</summary>
    public async Task<Uri?> DeleteAsync(CfBinding binding, CancellationToken ct)
    {
        string path = $"/v3/service_credential_bindings/{Uri.EscapeDataString(binding.Guid)}";
        CfResponse response = await _client.SendAsync(HttpMethod.Delete, path, null, ct).ConfigureAwait(false);
        return JobOf(response, "DELETE " + path);
    }

    private static Uri? JobOf(CfResponse response, string what)
    {
        if (response.Status == 202)
        {
            return response.Location ?? throw new CertIntegrationException(ErrorIds.CfAnswerInvalid, FailureKind.ProtocolError,
                $"{what} was accepted (202) without a Location header naming its job.");
        }

        return null;
    }

    /// <summary>
    /// Polls a job until COMPLETE (returns) or FAILED (throws CfJobFailed with its errors), at most
    /// <paramref name="timeout"/> (then CfJobTimedOut: the job goes on in Cloud Foundry).
    /// </summary>
    public async Task WaitAsync(Uri job, string what, TimeSpan timeout, Action<CfJobProgress>? progress, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        TimeSpan interval = FirstPollInterval;
        string state = "PROCESSING";
        for (int polls = 1; ; polls++)
        {
            JObject body = await _client.GetAsync(job.PathAndQuery, ct).ConfigureAwait(false);
            state = (Text(body, "state") ?? "?").ToUpperInvariant();
            progress?.Invoke(new CfJobProgress(state, polls, watch.Elapsed, timeout));
            switch (state)
            {
                case "COMPLETE":
                    return;
                case "FAILED":
                    string errors = CfClient.ErrorsText(body);
                    throw new CertIntegrationException(ErrorIds.CfJobFailed, FailureKind.InvalidOperation,
                        $"{what} failed in Cloud Foundry (job {job.PathAndQuery})" + (errors.Length > 0 ? $": {errors}" : " without a reason") + ".");
                case "PROCESSING":
                case "POLLING":
                    break;
                default:
                    throw new CertIntegrationException(ErrorIds.CfAnswerInvalid, FailureKind.ProtocolError,
                        $"{what}: the job {job.PathAndQuery} is in the state '{TokenAnswer.Quote(state)}', which the v3 API does not define.");
            }

            TimeSpan left = timeout - watch.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            await Task.Delay(interval < left ? interval : left, ct).ConfigureAwait(false);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, MaxPollInterval.Ticks));
        }

        throw new CertIntegrationException(ErrorIds.CfJobTimedOut, FailureKind.OperationTimeout,
            $"{what} did not finish within {timeout.TotalSeconds:0} s (-JobTimeoutSec): the job {job.PathAndQuery} is still {state}. " +
            "It goes on in Cloud Foundry; look again later (Get-CfServiceKey, or cf service-keys).");
    }

    private static string? Text(JObject o, string name) => o[name] is JValue { Type: JTokenType.String } v ? (string?)v : null;

    private CertIntegrationException Missing(string what, string field) =>
        new(ErrorIds.CfAnswerInvalid, FailureKind.ProtocolError, $"The Cloud Foundry API {CfClient.Authority(_client.Api)} listed {what} without its '{field}'.");
}
