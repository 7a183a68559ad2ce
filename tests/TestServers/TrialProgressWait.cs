using System.Diagnostics;

namespace Orchestrator.TestServers;

/// <summary>
/// Waits on a cluster's trials (each poll one <c>trials --json</c>) until a condition holds, following progress rather
/// than the clock: real training on shared cores is as slow as the machine is busy (a fixed 180 s once ran out at steps
/// 970, 920 and 770 of 1,000 under a load average of 15). The wait fails only when no trial changed (a step, a state, an
/// attempt, a worker) for <c>stall</c>, and five stalls in all bound it. A query that fails mid-fault is retried.
/// </summary>
public static class TrialProgressWait
{
    public static async Task<IReadOnlyList<TrialRow>> UntilAsync(
        Func<Task<CliResult>> queryTrials, string what, Func<IReadOnlyList<TrialRow>, bool> condition, TimeSpan stall, Func<Task<string>> logTails)
    {
        var sinceProgress = Stopwatch.StartNew();
        var overall = Stopwatch.StartNew();
        var last = "";
        string? progress = null;
        while (sinceProgress.Elapsed < stall && overall.Elapsed < 5 * stall)
        {
            var result = await queryTrials();
            if (result.ExitCode == 0)
            {
                var trials = CliJson.Parse<List<TrialRow>>(result.Stdout);
                if (condition(trials)) return trials;
                last = string.Join("; ", trials.Select(t => t.ToString()));
                if (last != progress)
                {
                    progress = last;
                    sinceProgress.Restart();
                }
            }
            else
            {
                last = result.ToString();
            }
            await Task.Delay(250);
        }
        var why = sinceProgress.Elapsed >= stall ? $"no trial changed for {stall.TotalSeconds:0} s" : $"still changing after {overall.Elapsed.TotalSeconds:0} s";
        throw new TimeoutException($"{what}: not reached, {why}. Last: {last}\n{await logTails()}");
    }
}
