using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using CertIntegration.TestSupport;
using Xunit;
using static CertIntegration.Tests.TlsTestSupport;

namespace CertIntegration.Tests;

/// <summary>What a stop (Ctrl+C) leaves behind: nothing running, nothing failing later in the background.</summary>
public sealed class TlsStopTests : IDisposable
{
    private static readonly TestPki Pki = TestPki.Default;
    private readonly TempDir _tmp = new();
    private readonly PsEngine _ps = new();

    public TlsStopTests()
    {
        Assert.Empty(_ps.Run("$b = ConvertFrom-ServiceKey $args[0]", ServiceKey(_tmp, Pki, Pki.Leaf)).Errors);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _tmp.Dispose();
    }

    [Fact]
    public void StoppedProbesEndBeforeTheirCredentialAndThrottleAreDisposed()
    {
        var failures = new List<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> handler = (_, e) =>
        {
            lock (failures)
            {
                // The event is process-wide: only the module's own tasks count (other tests run in parallel).
                failures.AddRange(e.Exception.Flatten().InnerExceptions.Where(x => (x.StackTrace ?? string.Empty).Contains("CertIntegration.", StringComparison.Ordinal)
                    && !(x.StackTrace ?? string.Empty).Contains("CertIntegration.Tests.", StringComparison.Ordinal)));
            }

            e.SetObserved();
        };
        TaskScheduler.UnobservedTaskException += handler;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(100);
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            for (int round = 0; round < 3; round++)
            {
                using var ps = PowerShell.Create();
                ps.Runspace = _ps.Runspace;
                ps.AddScript("$p = $args[0]; 1..12 | ForEach-Object { \"https://127.0.0.1:$p/$_\" } | Test-MtlsEndpoint -Certificate $b -TimeoutSec 120 -ThrottleLimit 3").AddArgument(port);
                IAsyncResult pending = ps.BeginInvoke();
                Thread.Sleep(700);
                ps.Stop();
                Assert.True(pending.IsCompleted);
            }

            Thread.Sleep(500);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            lock (failures)
            {
                Assert.True(failures.Count == 0, string.Join("\n", failures.Select(f => f.GetType().Name + ": " + f.Message + "\n" + f.StackTrace)));
            }
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= handler;
            listener.Stop();
        }
    }
}
