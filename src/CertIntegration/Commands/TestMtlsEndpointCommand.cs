using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Tests an HTTPS endpoint with client-certificate (mTLS) authentication and explains the outcome.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "MtlsEndpoint", DefaultParameterSetName = CertificateSet, HelpUri = HelpUris.Base + "test-mtlsendpoint")]
[OutputType(typeof(MtlsTestResult))]
[OutputType(typeof(bool))]
public sealed class TestMtlsEndpointCommand : CancellableCmdlet
{
    private const string CertificateSet = "Certificate";
    private const string PfxSet = "PfxPath";
    private const string NoCertificateSet = "NoClientCertificate";
    private const int ProgressId = 41;

    private readonly Dictionary<object, ClientCredential> _credentials = new(new ReferenceComparer());
    private readonly Queue<Task<MtlsTestResult>> _pending = new();
    private ClientCredential? _pfxCredential;
    private SemaphoreSlim? _throttle;
    private ServerCertificateValidator _validator = new(null);
    private readonly ObservationCache _observations = new();
    private byte[]? _body;
    private IReadOnlyList<KeyValuePair<string, string>>? _headers;
    private ProxySettings? _proxy;
    private int _started;
    private int _written;
    private int _finished;
    private int _shownFinished = -1;
    private int _shownStarted = -1;
    private bool _certificateOnCommandLine;

    /// <summary>
    /// Endpoint URLs; relative ones are resolved against the service key's url. Piped strings bind here, and so
    /// does the Url of a piped bundle (by property name).
    /// </summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Url")]
    [AllowEmptyCollection]
    [AllowNull]
    public string[]? Uri { get; set; }

    /// <summary>
    /// A CertificateBundle with its key, or an X509Certificate2 with its private key (PowerShell turns it into a
    /// bundle through the bundle's constructor).
    /// </summary>
    [Parameter(ParameterSetName = CertificateSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public CertificateBundle? Certificate { get; set; }

    /// <summary>A PKCS#12 file with the client certificate and key.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PfxSet)]
    [ValidateNotNullOrEmpty]
    public string? PfxPath { get; set; }

    /// <summary>The PFX password.</summary>
    [Parameter(ParameterSetName = PfxSet)]
    public SecureString? Password { get; set; }

    /// <summary>Probe without presenting a client certificate.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NoCertificateSet)]
    public SwitchParameter NoClientCertificate { get; set; }

    [Parameter]
    [ValidatePattern("^[A-Za-z]{1,20}$")]
    public string Method { get; set; } = "GET";

    /// <summary>Request body: a string (sent as UTF-8) or a byte array.</summary>
    [Parameter]
    public object? Body { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ContentType { get; set; }

    [Parameter]
    public IDictionary? Headers { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    /// <summary>Status codes that count as success; default any 2xx.</summary>
    [Parameter]
    [ValidateRange(100, 999)]
    public int[]? ExpectedStatusCode { get; set; }

    /// <summary>Extra roots (X509Certificate2 or CertificateBundle) trusted for the server's certificate.</summary>
    [Parameter]
    public PSObject[]? TrustedCertificate { get; set; }

    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>An HTTP proxy (http://host:port) to reach the endpoints through; the TLS session runs end to end through its tunnel.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>Basic credentials for -Proxy.</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>Output only $true or $false per endpoint.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void BeginProcessing()
    {
        _certificateOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Certificate));
        if (SkipCertificateCheck)
        {
            WriteWarning("-SkipCertificateCheck: the server's certificate is not validated, so the client certificate may be presented to an impostor. Use it only to diagnose, never in automation.");
        }

        try
        {
            _validator = new ServerCertificateValidator(CertificateInput.TrustedRoots(this, TrustedCertificate));
            _proxy = ProxyInput.From(Proxy, ProxyCredential);
            _headers = PSObjectAdapter.Headers(Headers);
            foreach (KeyValuePair<string, string> header in _headers ?? Array.Empty<KeyValuePair<string, string>>())
            {
                MiniHttp.CheckHeader(header.Key, header.Value);
            }

            _body = Body is null ? null : (Body is PSObject pb ? pb.BaseObject : Body) switch
            {
                byte[] bytes => bytes,
                string s => new UTF8Encoding(false).GetBytes(s),
                object o => new UTF8Encoding(false).GetBytes(LanguagePrimitives.ConvertTo<string>(o)),
            };

            if (ParameterSetName == PfxSet)
            {
                string path = ResolveOutputPath(PfxPath!);
                _pfxCredential = ClientCredential.FromPfx(path, Password);
                WarnLocalProblems(_pfxCredential);
            }
        }
        catch (CertIntegrationException ex)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex, ParameterSetName == PfxSet ? PfxPath : null));
        }

        _throttle = new SemaphoreSlim(ThrottleLimit, ThrottleLimit);
    }

    protected override void ProcessRecord()
    {
        ClientCredential? credential = null;
        try
        {
            credential = ParameterSetName switch
            {
                PfxSet => _pfxCredential,
                NoCertificateSet => null,
                _ => Certificate is null ? null : CredentialFor(Certificate),
            };
        }
        catch (CertIntegrationException ex)
        {
            WriteFailure(ex, Certificate);
            return;
        }

        IEnumerable<string?> uris = Uri is { Length: > 0 } && !IsPipedCertificateText(Uri) ? Uri : new string?[] { null };
        foreach (string? text in uris)
        {
            System.Uri target;
            try
            {
                target = Resolve(text, credential);
            }
            catch (CertIntegrationException ex)
            {
                WriteFailure(ex, UriText.Redact(text));
                continue;
            }

            Start(target, credential);
        }

        Drain(waitForAll: false);
    }

    protected override void EndProcessing()
    {
        Drain(waitForAll: true);
    }

    protected override void Dispose(bool disposing)
    {
        // The stop token is cancelled by now: the probes still running end within moments (their sockets are closed
        // by the cancellation). Only then are their certificates (and on Windows the key containers) and the
        // throttle released, so that nothing fails later in the background.
        Task[] running = _pending.Where(t => !t.IsCompleted).ToArray<Task>();
        if (running.Length > 0)
        {
            try
            {
                Task.WaitAll(running, TimeSpan.FromSeconds(3));
            }
            catch (AggregateException)
            {
                // their results are not wanted any more
            }
        }

        foreach (Task<MtlsTestResult> t in _pending)
        {
            _ = t.Exception; // observed: a cancelled probe is not an error
        }

        _pending.Clear();
        foreach (ClientCredential c in _credentials.Values)
        {
            c.Dispose();
        }

        _credentials.Clear();
        _pfxCredential?.Dispose();
        _throttle?.Dispose();
    }

    private void Start(System.Uri target, ClientCredential? credential)
    {
        // A bounded window: results are written in input order, so at most a few throttles' worth of probes are
        // held (started, waiting for a slot, or done and waiting for an earlier one). Memory stays flat however
        // many endpoints come down the pipeline.
        int window = Math.Max(16, 4 * ThrottleLimit);
        while (_pending.Count >= window)
        {
            WriteHead(wait: true);
        }

        var options = new ProbeOptions
        {
            Method = Method.ToUpperInvariant(),
            Body = _body,
            ContentType = ContentType,
            Headers = _headers,
            TimeoutSec = TimeoutSec,
            ExpectedStatusCodes = ExpectedStatusCode,
            Validator = _validator,
            Observations = _observations,
            SkipCertificateCheck = SkipCertificateCheck,
            Credential = credential,
            Proxy = _proxy,
        };
        SemaphoreSlim throttle = _throttle!;
        CancellationToken stop = StopToken;
        WriteVerbose($"Testing {target} " + (_proxy is null ? string.Empty : $"through the proxy {_proxy.Display} ") + (credential is null ? "without a client certificate." : $"with the client certificate '{credential.Subject}'."));
        _pending.Enqueue(Task.Run(async () =>
        {
            await throttle.WaitAsync(stop).ConfigureAwait(false);
            try
            {
                return await TlsProbe.RunAsync(target, options, stop).ConfigureAwait(false);
            }
            finally
            {
                throttle.Release();
                Interlocked.Increment(ref _finished);
            }
        }));
        _started++;
    }

    /// <summary>
    /// Writes results from the pipeline thread in input order: each as soon as it and every earlier one are done (so
    /// -Quiet's booleans line up with the input); with <paramref name="waitForAll"/>, until none is left. Progress
    /// counts every finished probe, whatever its place.
    /// </summary>
    private void Drain(bool waitForAll)
    {
        while (_pending.Count > 0)
        {
            if (!WriteHead(waitForAll) && !waitForAll)
            {
                break;
            }
        }

        ShowProgress();
    }

    /// <summary>
    /// Writes the oldest result when it is done. With <paramref name="wait"/>, waits for it first, waking a few times
    /// a second to move the progress bar (and at once for a stop); only the oldest is waited on, so later probes that
    /// finish first cost nothing here. False when it was not done (or the wait timed out).
    /// </summary>
    private bool WriteHead(bool wait)
    {
        ShowProgress();
        Task<MtlsTestResult> head = _pending.Peek();
        if (!head.IsCompleted)
        {
            if (!wait)
            {
                return false;
            }

            try
            {
                head.Wait(250, StopToken);
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
            catch (AggregateException)
            {
                // the probe's own exception is rethrown below
            }

            if (!head.IsCompleted)
            {
                return false;
            }
        }

        _pending.Dequeue();
        _written++;
        MtlsTestResult result;
        try
        {
            result = head.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }

        foreach (string line in result.Diagnosis)
        {
            WriteVerbose($"{result.Uri}: {line}");
        }

        WriteObject(Quiet ? result.Success : result);
        return true;
    }

    private void ShowProgress()
    {
        int finished = Volatile.Read(ref _finished);
        if (finished == _shownFinished && _started == _shownStarted)
        {
            return;
        }

        _shownFinished = finished;
        _shownStarted = _started;
        Progress(ProgressId, "Testing mTLS endpoints", finished, _started, $"{finished} of {_started} done");
    }

    /// <summary>
    /// True when -Uri holds only the text of a piped X509Certificate2: PowerShell binds a piped certificate to
    /// -Certificate (through the bundle's constructor) and, as text, to -Uri; that text is no URL, so the
    /// endpoint is left to the certificate (and reported as missing when it has none).
    /// </summary>
    private bool IsPipedCertificateText(string[] uris) =>
        !_certificateOnCommandLine && uris.Length == 1 && Certificate?.PlatformCertificate is { } c && uris[0] == c.ToString();

    private ClientCredential CredentialFor(CertificateBundle input)
    {
        object key = (object?)input.PlatformCertificate ?? input;
        if (!_credentials.TryGetValue(key, out ClientCredential? credential))
        {
            credential = ClientCredential.FromBundle(input);
            _credentials[key] = credential;
            WarnLocalProblems(credential);
        }

        return credential;
    }

    private void WarnLocalProblems(ClientCredential credential)
    {
        foreach (string p in credential.LocalProblems(DateTime.UtcNow))
        {
            WriteWarning(p);
        }

        List<string> missing = credential.IntermediatesSChannelCannotFind();
        if (missing.Count > 0)
        {
            WriteWarning("Windows PowerShell sends with the client certificate only the intermediate CAs Windows finds in its certificate stores, and these are not there: "
                + string.Join("; ", missing) + ". A server that trusts only the root will then reject the certificate. Import them into Cert:\\CurrentUser\\CA (Intermediate Certification Authorities), or use PowerShell 7, which sends the whole chain.");
        }
    }

    private static System.Uri Resolve(string? text, ClientCredential? credential)
    {
        string? baseUrl = credential?.BaseUrl;
        System.Uri? result;
        if (string.IsNullOrWhiteSpace(text))
        {
            if (baseUrl is null)
            {
                throw new CertIntegrationException(ErrorIds.UriMissing, FailureKind.InvalidArgument,
                    "Give -Uri: the certificate did not come from a service key, so there is no url to test.");
            }

            text = baseUrl;
        }

        // "host:8443/path" is an https URL (without this, "host" would be read as the URL's scheme).
        text = UriText.WithDefaultScheme(text!, hasBase: baseUrl is not null);
        if (!System.Uri.TryCreate(text, UriKind.RelativeOrAbsolute, out result))
        {
            throw new CertIntegrationException(ErrorIds.UriInvalid, FailureKind.InvalidArgument, $"'{UriText.Redact(text)}' is not a valid URL.");
        }

        if (!result.IsAbsoluteUri || (result.Scheme == System.Uri.UriSchemeFile && text.TrimStart().StartsWith("/", StringComparison.Ordinal)))
        {
            if (baseUrl is null || !System.Uri.TryCreate(baseUrl, UriKind.Absolute, out System.Uri? b))
            {
                throw new CertIntegrationException(ErrorIds.RelativeUriWithoutBase, FailureKind.InvalidArgument,
                    $"'{UriText.Redact(text)}' is a relative URL, and the certificate did not come from a service key with a url to resolve it against. Give the full https:// URL.");
            }

            result = new System.Uri(b, text.Trim());
        }

        if (!string.Equals(result.Scheme, System.Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
        {
            throw new CertIntegrationException(ErrorIds.UriNotHttps, FailureKind.InvalidArgument,
                $"'{UriText.Redact(text)}' is not an https:// URL; client certificates are only used over TLS.");
        }

        // A user name and password in the URL are never sent (requests carry only path and query) and never shown.
        return UriText.WithoutUserInfo(result);
    }

    private sealed class ReferenceComparer : IEqualityComparer<object>
    {
        public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);

        public int GetHashCode(object obj) => RuntimeHelpers.GetHashCode(obj);
    }
}
