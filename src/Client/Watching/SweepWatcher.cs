using Orchestrator.Client.Commands;
using Orchestrator.Client.Commands.Cluster;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Output;
using Orchestrator.Silo.Hosting;

namespace Orchestrator.Client.Watching;

/// <summary>
/// Follows a sweep until it ends, drawing <see cref="SweepView"/>: the summary, the running trials, the best few.
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
            return await output.LiveAsync(async region =>
            {
                SweepSnapshot? last = null;
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
                        throw await ClusterCommand.SweepNotFoundAsync(current!, sweep, cancellationToken); // the poll just answered through it

                    var snapshot = new SweepSnapshot(status, trials);
                    region.Show(SweepView.Render(snapshot));
                    foreach (var line in SweepView.Changes(last, snapshot)) region.Log(line);
                    last = snapshot;
                    if (status.IsTerminal) return status;
                    await Task.Delay(pollInterval, cancellationToken);
                }
            });
        }
        finally
        {
            if (ownsSession && current is not null) await current.DisposeAsync();
        }
    }

    private static async Task<(SweepStatus Status, IReadOnlyList<TrialRecord> Trials)> PollAsync(ClusterSession session, string sweep,
        CancellationToken cancellationToken)
    {
        var grain = session.Client.GetGrain<ISweepGrain>(sweep);
        var status = await grain.GetStatusAsync(cancellationToken);
        return (status, await grain.GetTrialsAsync(cancellationToken));
    }
}
