using System.Globalization;
using Orchestrator.Client.Commands;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Output;
using Orchestrator.Silo.Hosting;

namespace Orchestrator.Client.Watching;

/// <summary>
/// Follows a sweep until it ends: an overall bar with ETA, a bar per running trial, the best result so far.
/// If the connection drops it reconnects (same address) and carries on, through the grain-call pipeline with no
/// time limit: the sweep does not depend on a watcher. A process that hosts the silo itself has nothing to reconnect to.
/// </summary>
public sealed class SweepWatcher(ConsoleOutput output, TimeSpan pollInterval, GrainCallResilience? resilience = null)
{
    private readonly GrainCallResilience _resilience = resilience ?? new GrainCallResilience();

    public async Task<SweepStatus> WatchAsync(Func<CancellationToken, Task<ClusterSession>> connect, ClusterSession session, string sweep,
        CancellationToken cancellationToken)
    {
        ClusterSession? current = session;
        var ownsSession = false;
        try
        {
            return await output.ProgressAsync(async board =>
            {
                var overall = board.Add($"{sweep}", 1);
                var bars = new Dictionary<string, ProgressBar>(StringComparer.Ordinal);
                while (true)
                {
                    var (status, trials) = current is { HostsSilo: true } host
                        ? await PollAsync(host, sweep, cancellationToken)
                        : await _resilience.ExecuteAsync($"watch {sweep}", async ct =>
                        {
                            if (current is null)
                            {
                                current = await connect(ct);
                                ownsSession = true;
                            }
                            try
                            {
                                return await PollAsync(current, sweep, ct);
                            }
                            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                            {
                                // A dropped gateway surfaces as a rejection, a timeout or a cancelled call: all mean reconnect.
                                output.Warning($"connection lost ({e.Message.Split('\n')[0]}); reconnecting");
                                if (ownsSession) await current.DisposeAsync();
                                current = null;
                                ownsSession = false;
                                throw;
                            }
                        }, cancellationToken, GrainCallResilience.Unbounded);
                    if (status.State == SweepState.NotFound)
                        throw new UserInputException($"no sweep named '{sweep}'", ExitCodes.NotFound);

                    var best = status.BestMetric is { } b ? $" · best {status.Metric} {ConsoleOutput.Number(b)} ({status.BestTrial})" : "";
                    overall.Update(status.Done, $"{sweep}: {status.Done}/{status.Total} done, {status.Running} running{best}", status.Total);
                    foreach (var t in trials.Where(t => t.State == TrialState.Running))
                    {
                        if (!bars.TryGetValue(t.TrialId, out var bar)) bars[t.TrialId] = bar = board.Add(t.TrialId, Math.Max(1, t.TotalSteps));
                        bar.Update(t.Step, $"{t.TrialId} {Describe(t)}", t.TotalSteps > 0 ? t.TotalSteps : null);
                    }
                    foreach (var (id, bar) in bars.ToList())
                    {
                        var t = trials.FirstOrDefault(x => x.TrialId == id);
                        if (t is null || t.State == TrialState.Running) continue;
                        bar.Complete($"{id} {t.State.ToString().ToLowerInvariant()} {Describe(t)}");
                        bars.Remove(id);
                    }
                    if (status.IsTerminal)
                    {
                        overall.Complete($"{sweep}: {status.State.ToString().ToLowerInvariant()}, {status.Succeeded} succeeded, {status.Pruned} pruned, {status.Failed} failed{best}");
                        return status;
                    }
                    await Task.Delay(pollInterval, cancellationToken);
                }
            });
        }
        finally
        {
            if (ownsSession && current is not null) await current.DisposeAsync();
        }
    }

    private static async Task<(SweepStatus Status, IReadOnlyList<TrialView> Trials)> PollAsync(ClusterSession session, string sweep,
        CancellationToken cancellationToken)
    {
        var grain = session.Client.GetGrain<ISweepGrain>(sweep);
        var status = await grain.GetStatusAsync(cancellationToken);
        return (status, await grain.GetTrialsAsync(cancellationToken));
    }

    private static string Describe(TrialView t)
    {
        var shown = t.Parameters.Where(p => p.Key is "rank" or "alpha" or "lr" or "seed" or "target_modules" || t.Parameters.Count <= 3)
            .Select(p => $"{p.Key}={p.Value}");
        var metric = t.Metrics.Where(m => m.Key.StartsWith("test_", StringComparison.Ordinal) || m.Key == "train_loss")
            .Select(m => $"{m.Key}={m.Value.ToString("0.####", CultureInfo.InvariantCulture)}").Take(2);
        return $"[{t.Kind}] {string.Join(' ', shown)} {string.Join(' ', metric)}".TrimEnd();
    }
}
