using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace CertIntegration.Commands;

/// <summary>
/// <para type="synopsis">Gets the certificate chain a TLS server presents, even when it is not trusted, as a bundle.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ServerCertificateChain", DefaultParameterSetName = UriSet, HelpUri = HelpUris.Base + "get-servercertificatechain")]
[OutputType(typeof(ServerCertificateChain))]
public sealed class GetServerCertificateChainCommand : CancellableCmdlet
{
    private const string UriSet = "Uri";
    private const string HostSet = "HostName";

    /// <summary>https:// URLs (only host and port are used).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string[] Uri { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ParameterSetName = HostSet)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = string.Empty;

    [Parameter(ParameterSetName = HostSet)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 443;

    /// <summary>Extra roots for the validation result (the chain is returned either way).</summary>
    [Parameter]
    public PSObject[]? TrustedCertificate { get; set; }

    /// <summary>Append the root this machine found for the chain when the server did not send it.</summary>
    [Parameter]
    public SwitchParameter IncludeRoot { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    /// <summary>An HTTP proxy (http://host:port) to reach the server through (HTTP CONNECT).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>Basic credentials for -Proxy.</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    private ServerCertificateValidator _validator = new(null);
    private ProxySettings? _proxy;

    protected override void BeginProcessing()
    {
        try
        {
            _validator = new ServerCertificateValidator(CertificateInput.TrustedRoots(this, TrustedCertificate));
            _proxy = ProxyInput.From(Proxy, ProxyCredential);
        }
        catch (CertIntegrationException ex)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex, TrustedCertificate));
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == HostSet)
        {
            Fetch(HostName.Trim(), Port, HostName);
            return;
        }

        foreach (string text in Uri)
        {
            string t = UriText.WithDefaultScheme(text);

            if (!System.Uri.TryCreate(t, UriKind.Absolute, out System.Uri? u) || u.Scheme != System.Uri.UriSchemeHttps || u.Host.Length == 0)
            {
                WriteFailure(new CertIntegrationException(ErrorIds.UriInvalid, FailureKind.InvalidArgument, $"'{UriText.Redact(text)}' is not an https:// URL or host name."), UriText.Redact(text));
                continue;
            }

            Fetch(TlsProbe.HostOf(u), u.Port, text);
        }
    }

    private void Fetch(string host, int port, object target)
    {
        WriteVerbose($"Connecting to {host}:{port}" + (_proxy is null ? "." : $" through the proxy {_proxy.Display}."));
        HandshakeObservation obs;
        try
        {
            obs = Await(TlsProbe.ObserveAsync(host, port, _validator, TimeoutSec, StopToken, _proxy));
        }
        catch (CertIntegrationException ex)
        {
            // The proxy refused the tunnel (ProxyRefused, ProxyAuthenticationRequired).
            WriteFailure(ex, target);
            return;
        }
        catch (SocketException ex)
        {
            WriteFailure(new CertIntegrationException(ErrorIds.ServerUnreachable, FailureKind.ConnectionError,
                $"Could not connect to {host}:{port}: {ex.Message}", ex), target);
            return;
        }
        catch (OperationCanceledException) when (!StopToken.IsCancellationRequested)
        {
            WriteFailure(new CertIntegrationException(ErrorIds.ServerUnreachable, FailureKind.OperationTimeout,
                $"{host}:{port} did not complete a TLS handshake within {TimeoutSec} s."), target);
            return;
        }
        catch (Exception ex) when (ex is System.IO.IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            WriteFailure(new CertIntegrationException(ErrorIds.TlsHandshakeFailed, FailureKind.ProtocolError,
                $"The TLS handshake with {host}:{port} failed: {ex.Message}", ex), target);
            return;
        }

        if (obs.Presented.Length == 0)
        {
            WriteFailure(new CertIntegrationException(ErrorIds.TlsHandshakeFailed, FailureKind.ProtocolError,
                $"{host}:{port} presented no certificate: the TLS handshake failed ({obs.Error?.Message ?? "no TLS"}). The server may not offer TLS 1.2 or 1.3, or may not speak TLS on this port."), target);
            return;
        }

        List<X509Certificate2> chain = ChainBuilder.OrderFromLeaf(obs.Presented);
        if (chain.Count < obs.Presented.Length)
        {
            WriteVerbose($"{host}:{port} sent {obs.Presented.Length - chain.Count} certificate(s) that are not part of its chain; they are left out.");
        }

        bool rootAdded = false;
        if (IncludeRoot && obs.Validation?.Root is { } root && !chain.Any(c => c.Thumbprint == root.Thumbprint)
            && string.Equals(root.Subject, root.Issuer, StringComparison.Ordinal) && string.Equals(chain[chain.Count - 1].Issuer, root.Subject, StringComparison.Ordinal))
        {
            chain.Add(root);
            rootAdded = true;
        }

        var output = new ServerCertificateChain(chain, host, port)
        {
            IsTrusted = obs.Validation?.Valid ?? false,
            ValidationErrors = obs.Validation?.Errors ?? new[] { "NotValidated" },
            RootAddedFromLocalStore = rootAdded,
            ClientCertificateRequested = obs.ClientCertificateRequested,
            AcceptableIssuers = obs.AcceptableIssuers.ToArray(),
            TlsProtocol = obs.Protocol,
        };
        if (obs.Validation is { Valid: false } v)
        {
            WriteVerbose($"{host}:{port}: the chain is not trusted here: {string.Join(" ", v.Errors)}");
        }

        WriteObject(output);
    }
}
