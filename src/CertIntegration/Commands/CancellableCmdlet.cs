using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Commands;

/// <summary>
/// Base for cmdlets that wait on the network: Ctrl+C (StopProcessing) cancels <see cref="StopToken"/>, and every wait
/// on the pipeline thread wakes up for it, so a stop takes effect at once instead of after the timeouts.
/// </summary>
public abstract class CancellableCmdlet : CertIntegrationCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private bool _disposed;

    internal CancellationToken StopToken => _stop.Token;

    protected override void StopProcessing()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // already finished
        }

        base.StopProcessing();
    }

    /// <summary>Waits for a task on the pipeline thread; a stop request ends the wait with PipelineStoppedException.</summary>
    internal T Await<T>(Task<T> task)
    {
        try
        {
            task.Wait(StopToken);
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (AggregateException)
        {
            // the task's own exception is rethrown below, unwrapped
        }

        return task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Ends work still running when the pipeline ends early (e.g. Select-Object -First).
        try
        {
            _stop.Cancel();
        }
        catch (AggregateException)
        {
        }

        Dispose(true);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
