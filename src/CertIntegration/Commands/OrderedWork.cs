using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace CertIntegration.Commands;

/// <summary>
/// CPU work of a cmdlet's inputs on a bounded number of worker threads, with everything the user sees done on the
/// pipeline thread in input order: each input's results (files renamed into place, output, warnings, errors) as soon
/// as it and every earlier one are done. At most <c>capacity</c> inputs are held at a time, so memory stays flat
/// however many come down the pipeline; the pipeline thread waits for the oldest when the window is full.
/// A stop (Ctrl+C) ends every wait at once; work not started yet never starts, and results that were never shown
/// are abandoned (staged files discarded) when the cmdlet is disposed.
/// </summary>
internal sealed class OrderedWork<T> : IDisposable
    where T : class
{
    private readonly Queue<Entry> _window = new();
    private readonly TaskFactory _workers;
    private readonly CancellationToken _stop;
    private readonly int _capacity;

    public OrderedWork(int workers, int capacity, CancellationToken stop)
    {
        _stop = stop;
        _capacity = Math.Max(1, capacity);
        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, Math.Max(1, workers)).ConcurrentScheduler;
        _workers = new TaskFactory(stop, TaskCreationOptions.DenyChildAttach, TaskContinuationOptions.None, scheduler);
    }

    /// <summary>Workers for CPU-bound work: one per core.</summary>
    public static int DefaultWorkers => Math.Max(1, Math.Min(Environment.ProcessorCount, 64));

    /// <summary>Inputs in flight: enough to keep every worker busy while the pipeline thread reads the next ones.</summary>
    public static int DefaultCapacity => Math.Max(4, Math.Min(4 * DefaultWorkers, 256));

    /// <summary>Inputs started and not yet shown.</summary>
    public int Pending => _window.Count;

    /// <summary>
    /// Runs <paramref name="work"/> on a worker. On the pipeline thread, in input order: <paramref name="show"/> with
    /// its result, or <paramref name="failed"/> with its exception. <paramref name="abandon"/> receives a result
    /// that is never shown (the pipeline stopped).
    /// </summary>
    public void Add(Func<T> work, Action<T> show, Action<Exception> failed, Action<T>? abandon = null)
    {
        MakeRoom();
        _window.Enqueue(new Entry(_workers.StartNew(work), show, failed, abandon, null));
        ShowReady();
    }

    /// <summary>An input with no work for the workers (e.g. an error found on the pipeline thread), shown in its turn.</summary>
    public void Add(Action show)
    {
        ShowReady();
        if (_window.Count == 0)
        {
            show();
            return;
        }

        MakeRoom();
        _window.Enqueue(new Entry(null, null, null, null, show));
    }

    /// <summary>Shows the oldest inputs that are done, without waiting.</summary>
    public void ShowReady()
    {
        while (_window.Count > 0 && (_window.Peek().Work is not { } task || task.IsCompleted))
        {
            ShowHead();
        }
    }

    /// <summary>Waits for every input and shows each in order (EndProcessing).</summary>
    public void Complete()
    {
        while (_window.Count > 0)
        {
            WaitFor(_window.Peek());
            ShowHead();
        }
    }

    private void MakeRoom()
    {
        ShowReady();
        while (_window.Count >= _capacity)
        {
            WaitFor(_window.Peek());
            ShowHead();
        }
    }

    private void WaitFor(Entry entry)
    {
        if (entry.Work is not { } task)
        {
            return;
        }

        try
        {
            task.Wait(_stop);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (AggregateException)
        {
            // the work's own exception is shown through its entry
        }
    }

    private void ShowHead()
    {
        Entry entry = _window.Dequeue();
        if (entry.Work is not { } task)
        {
            entry.ShowOnly!();
            return;
        }

        T result;
        try
        {
            result = task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception ex)
        {
            entry.Failed!(ex);
            return;
        }

        entry.Show!(result);
    }

    /// <summary>Waits for work still running (moments: it is CPU work) and abandons every result not shown.</summary>
    public void Dispose()
    {
        while (_window.Count > 0)
        {
            Entry entry = _window.Dequeue();
            if (entry.Work is not { } task)
            {
                continue;
            }

            try
            {
                task.Wait();
            }
            catch (AggregateException)
            {
                // cancelled before it started, or failed: nothing to abandon
            }

            if (task.Status == TaskStatus.RanToCompletion)
            {
                entry.Abandon?.Invoke(task.Result);
            }
        }
    }

    private sealed class Entry
    {
        public Entry(Task<T>? work, Action<T>? show, Action<Exception>? failed, Action<T>? abandon, Action? showOnly)
        {
            Work = work;
            Show = show;
            Failed = failed;
            Abandon = abandon;
            ShowOnly = showOnly;
        }

        public Task<T>? Work { get; }

        public Action<T>? Show { get; }

        public Action<Exception>? Failed { get; }

        public Action<T>? Abandon { get; }

        public Action? ShowOnly { get; }
    }
}
