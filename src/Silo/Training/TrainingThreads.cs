using System.Collections.Concurrent;

namespace Orchestrator.Silo.Training;

/// <summary>
/// The threads trials train on: off the grain scheduler and the thread pool (a trial blocks its thread for as long as
/// it trains), one trial per thread at a time, and never queued behind another trial. A thread that finishes waits
/// for the next trial instead of exiting, so a sweep of short trials does not pay a thread start for each (the
/// largest cost of a no-op trial in `bench orchestrator`). There are at most as many as trials ever ran at once.
/// </summary>
public sealed class TrainingThreads
{
    public static readonly TrainingThreads Shared = new();

    private readonly ConcurrentStack<Worker> _idle = new();
    private int _started;

    /// <summary>Threads started so far (the most trials that trained at once).</summary>
    public int Started => Volatile.Read(ref _started);

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Run()
        {
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
        }
        if (_idle.TryPop(out var worker)) worker.Assign(Run);
        else
        {
            Interlocked.Increment(ref _started);
            new Worker(this, Run);
        }
        return done.Task;
    }

    private sealed class Worker
    {
        private readonly TrainingThreads _owner;
        // A plain monitor, not a SemaphoreSlim: SemaphoreSlim.Wait spins before it blocks, and sixteen idle trial
        // threads spinning on two cores were the largest CPU cost of `bench orchestrator` (a profile: 36 % of its CPU).
        private readonly object _gate = new(); // an object, not a Lock: Monitor.Wait needs a monitor
        private Action? _work;

        public Worker(TrainingThreads owner, Action first)
        {
            _owner = owner;
            _work = first;
            new Thread(Loop) { IsBackground = true, Name = "trial" }.Start();
        }

        /// <summary>Only an idle worker, popped from the stack by exactly one caller, is assigned work.</summary>
        public void Assign(Action work)
        {
            lock (_gate)
            {
                _work = work;
                Monitor.Pulse(_gate);
            }
        }

        private void Loop()
        {
            while (true)
            {
                Action work;
                lock (_gate)
                {
                    while (_work is null) Monitor.Wait(_gate);
                    work = _work;
                    _work = null;
                }
                work();
                _owner._idle.Push(this);
            }
        }
    }
}
