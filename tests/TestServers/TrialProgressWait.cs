namespace Orchestrator.TestServers;

/// <summary>
/// Waits on a process cluster's trials (each poll one <c>trials --json</c>) until a condition holds, by the rule of
/// <see cref="ProgressWait"/>: it fails only when no trial changed for <c>stall</c>. A query that fails mid-fault is retried.
/// </summary>
public static class TrialProgressWait
{
    public static async Task<IReadOnlyList<TrialRow>> UntilAsync(
        Func<Task<CliResult>> queryTrials, string what, Func<IReadOnlyList<TrialRow>, bool> condition, TimeSpan stall, Func<Task<string>> logTails) =>
        await ProgressWait.UntilAsync<IReadOnlyList<TrialRow>>(async () =>
        {
            var result = await queryTrials();
            if (result.ExitCode != 0) return new(null, result.ToString());
            var trials = CliJson.Parse<List<TrialRow>>(result.Stdout);
            return new(trials, string.Join("; ", trials.Select(t => t.ToString())));
        }, condition, what, stall, logTails);
}
