using System.Globalization;
using Orchestrator.Client.Commands;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Output;

namespace Orchestrator.Client.Watching;

/// <summary>
/// Follows a sweep until it ends, drawing <see cref="SweepView"/>: the summary, the running trials, the best few.
/// If the connection drops it reconnects (same address) and carries on: the sweep does not depend on a watcher.
/// </summary>
public sealed class SweepWatcher(ConsoleOutput output, TimeSpan pollInterval)
{
    public async Task<SweepStatus> WatchAsync(Func<CancellationToken, Task<ClusterSession>> connect, ClusterSession session, string sweep,
        CancellationToken cancellationToken)
    {
        var current = session;
        var ownsSession = false;
        try
        {
            return await output.LiveAsync(async region =>
            {
                SweepSnapshot? last = null;
                while (true)
                {
                    SweepStatus status;
                    IReadOnlyList<TrialRecord> trials;
                    try
                    {
                        var grain = current.Client.GetGrain<ISweepGrain>(sweep);
                        status = await grain.GetStatusAsync(cancellationToken);
                        trials = await grain.GetTrialsAsync(cancellationToken);
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested && !current.HostsSilo)
                    {
                        // A dropped gateway surfaces as a rejection, a timeout or a cancelled call: all mean reconnect.
                        output.Warning($"connection lost ({e.Message.Split('\n')[0]}); reconnecting");
                        if (ownsSession) await current.DisposeAsync();
                        current = await ReconnectAsync(connect, cancellationToken);
                        ownsSession = true;
                        continue;
                    }
                    if (status.State == SweepState.NotFound)
                        throw new UserInputException($"no sweep named '{sweep}'", ExitCodes.NotFound);

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
            if (ownsSession) await current.DisposeAsync();
        }
    }

    private static async Task<ClusterSession> ReconnectAsync(Func<CancellationToken, Task<ClusterSession>> connect, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try { return await connect(cancellationToken); }
            catch (UserInputException) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromSeconds(Math.Min(10, delay.TotalSeconds * 2));
            }
        }
    }
}
