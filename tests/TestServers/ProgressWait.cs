using System.Diagnostics;

namespace Orchestrator.TestServers;

/// <summary>
/// Waits until a condition holds, following progress rather than the clock: real training on shared cores is as slow as
/// the machine is busy (a fixed 180 s once ran out at steps 970, 920 and 770 of 1,000 under a load average of 15). Each
/// poll gives an observation and its fingerprint (the trials' steps, states, attempts, workers); the wait fails only when
/// the fingerprint has not changed for <c>stall</c>, and five stalls in all bound it. The one rule behind every wait on
/// training in the tests (process clusters through <see cref="SiloTrialsApi"/>, the in-process sweep cluster).
/// </summary>
public static class ProgressWait
{
    /// <summary>One poll: the observation (null when the query failed, say mid-fault; it is retried), its progress
    /// fingerprint, and what to print if the wait fails.</summary>
    public readonly record struct Poll<T>(T? Value, string Fingerprint);

    public static async Task<T> UntilAsync<T>(
        Func<Task<Poll<T>>> poll, Func<T, bool> condition, string what, TimeSpan stall, Func<Task<string>> diagnostics,
        TimeSpan? interval = null) where T : class
    {
        var sinceProgress = Stopwatch.StartNew();
        var overall = Stopwatch.StartNew();
        string? progress = null;
        var last = "";
        while (sinceProgress.Elapsed < stall && overall.Elapsed < 5 * stall)
        {
            var observed = await poll();
            last = observed.Fingerprint;
            if (observed.Value is { } value)
            {
                if (condition(value)) return value;
                if (last != progress)
                {
                    progress = last;
                    sinceProgress.Restart();
                }
            }
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(250));
        }
        var why = sinceProgress.Elapsed >= stall ? $"no trial changed for {stall.TotalSeconds:0} s" : $"still changing after {overall.Elapsed.TotalSeconds:0} s";
        throw new TimeoutException($"{what}: not reached, {why}. Last: {last}\n{await diagnostics()}");
    }
}
