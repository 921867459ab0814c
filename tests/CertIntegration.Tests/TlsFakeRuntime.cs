using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CertIntegration.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace CertIntegration.Tests;

/// <summary>
/// An in-process Kestrel server on 127.0.0.1 that behaves like the Cloud Integration runtime behind its load balancer:
/// it asks for a client certificate naming the CAs it trusts, lets the handshake go on without one, rejects
/// certificates that do not chain to those CAs, and answers 200 (known certificate with the role), 403 (known, no
/// role), 401 with an invalid_client body (trusted but unknown) or 401 (no certificate).
/// </summary>
public sealed class FakeCpiRuntime : IDisposable
{
    private readonly WebApplication _app;

    private FakeCpiRuntime(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"https://127.0.0.1:{Port}";

    public static X509Certificate2 WithKey(Issued issued)
    {
        var store = new Pkcs12StoreBuilder().Build();
        var entry = new X509CertificateEntry(issued.Certificate);
        store.SetKeyEntry("k", new AsymmetricKeyEntry(issued.Keys.Private), new[] { entry });
        using var ms = new MemoryStream();
        store.Save(ms, "pw".ToCharArray(), new SecureRandom());
        return X509CertificateLoader.LoadPkcs12(ms.ToArray(), "pw", X509KeyStorageFlags.EphemeralKeySet);
    }

    public static X509Certificate2 Public(Issued issued) => X509CertificateLoader.LoadCertificate(issued.Der);

    /// <param name="withRole">Thumbprints of certificates configured in a service key whose instance has the role.</param>
    /// <param name="withoutRole">Thumbprints configured in a service key without the role.</param>
    /// <param name="responseDelay">Time each request takes, like an iFlow at work (for the benchmark).</param>
    public static FakeCpiRuntime Start(TestPki pki, IEnumerable<Issued> trustedClientRoots, IEnumerable<string> withRole, IEnumerable<string> withoutRole, TimeSpan? responseDelay = null)
    {
        X509Certificate2 serverCert = WithKey(pki.Server);
        var serverChain = new X509Certificate2Collection { Public(pki.Intermediate) };
        var roots = new X509Certificate2Collection();
        foreach (Issued r in trustedClientRoots)
        {
            roots.Add(Public(r));
        }

        var role = new HashSet<string>(withRole, StringComparer.OrdinalIgnoreCase);
        var noRole = new HashSet<string>(withoutRole, StringComparer.OrdinalIgnoreCase);

        // The load balancer's view: the CA list is sent in the CertificateRequest; the client's chain must end in one of them.
        var context = SslStreamCertificateContext.Create(serverCert, serverChain, offline: true,
            trust: SslCertificateTrust.CreateForX509Collection(roots, sendTrustInHandshake: true));
        bool ValidateClient(object sender, X509Certificate? cert, X509Chain? chain, SslPolicyErrors errors)
        {
            if (cert is null)
            {
                return true; // no certificate: the request goes on and is answered 401
            }

            using var own = new X509Chain();
            own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            own.ChainPolicy.CustomTrustStore.AddRange(roots);
            own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                // only what the client sent: the intermediates are not known to the server otherwise
                own.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            }

            own.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2"));
            return own.Build(X509CertificateLoader.LoadCertificate(cert.GetRawCertData()));
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                    OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = context,
                        ClientCertificateRequired = true,
                        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                        RemoteCertificateValidationCallback = ValidateClient,
                    }),
                });
            });
        });
        WebApplication app = builder.Build();
        app.Run(async ctx =>
        {
            if (responseDelay is { } delay)
            {
                await Task.Delay(delay);
            }

            X509Certificate2? client = ctx.Connection.ClientCertificate ?? await ctx.Connection.GetClientCertificateAsync();
            if (client is null)
            {
                ctx.Response.StatusCode = 401;
                await ctx.Response.WriteAsync("Unauthorized");
                return;
            }

            if (ctx.Request.Path.StartsWithSegments("/http/redirect"))
            {
                ctx.Response.StatusCode = 302;
                ctx.Response.Headers.Location = "https://login.elsewhere.example/sso?from=cpi";
                return;
            }

            if (ctx.Request.Path.StartsWithSegments("/oauth/token"))
            {
                ctx.Response.ContentType = "application/json";
                await ctx.Response.WriteAsync("{\"access_token\":\"eyJhbGciOiJSUzI1NiJ9.secret-token-value\",\"token_type\":\"bearer\",\"expires_in\":43199}");
                return;
            }

            if (ctx.Request.Path.StartsWithSegments("/http/unmapped"))
            {
                ctx.Response.StatusCode = 401;
                return;
            }

            if (role.Contains(client.Thumbprint))
            {
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "text/plain";
                await ctx.Response.WriteAsync($"Hello from the test runtime, {client.GetNameInfo(X509NameType.SimpleName, false)}: {ctx.Request.Method} {ctx.Request.Path}");
                return;
            }

            if (noRole.Contains(client.Thumbprint))
            {
                ctx.Response.StatusCode = 403;
                await ctx.Response.WriteAsync("Forbidden");
                return;
            }

            ctx.Response.StatusCode = 401;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed\"}");
        });

        app.StartAsync().Wait(TimeSpan.FromSeconds(20));
        var addresses = app.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer)) is Microsoft.AspNetCore.Hosting.Server.IServer server
            ? server.Features.Get<IServerAddressesFeature>()?.Addresses
            : null;
        string address = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("Kestrel did not report its address");
        int port = new Uri(address).Port;
        return new FakeCpiRuntime(app, port);
    }

    public void Dispose()
    {
        try
        {
            _app.StopAsync().Wait(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _app.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        }
    }
}
