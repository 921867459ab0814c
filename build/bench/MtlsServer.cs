using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace CertIntegration.Bench;

/// <summary>
/// The endpoint for build/bench-mtls.sh: HTTPS on 127.0.0.1 (Kestrel) that requires a client certificate chaining to
/// the given CA (the handshake fails without one) and answers 200 after a fixed delay, like an iFlow at work.
/// Prints "LISTENING <port>" when ready; runs until stdin closes.
/// </summary>
internal static class MtlsServer
{
    public static int Run(int port, string certPem, string keyPem, string clientCaPem, int delayMs)
    {
        X509Certificate2 server = X509Certificate2.CreateFromPemFile(certPem, keyPem);
        server = new X509Certificate2(server.Export(X509ContentType.Pkcs12)); // a key SslStream can use on every platform
        var clientRoots = new X509Certificate2Collection();
        clientRoots.ImportFromPemFile(clientCaPem);

        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = server;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (cert, chain, _) =>
                {
                    using var own = new X509Chain();
                    own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    own.ChainPolicy.CustomTrustStore.AddRange(clientRoots);
                    own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    if (chain is not null)
                    {
                        own.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
                    }

                    return own.Build(cert);
                };
            }));
        });
        WebApplication app = builder.Build();
        app.Run(async context =>
        {
            await Task.Delay(delayMs, context.RequestAborted);
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("ok " + context.Connection.ClientCertificate?.Subject);
        });
        app.StartAsync().GetAwaiter().GetResult();
        Console.WriteLine($"LISTENING {port}");
        Console.Out.Flush();
        Console.In.ReadToEnd();
        app.StopAsync().GetAwaiter().GetResult();
        return 0;
    }
}
