using Orchestrator.Grains.Sweeps;
using System.CommandLine;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Leaderboards;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Client.Output;
using Orchestrator.Client.Reports;
using Orchestrator.Client.Watching;
using Orchestrator.Sweeps;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`run SWEEP.yaml`: the whole study on this machine — embedded silo, submit, live progress, leaderboard, report.</summary>
public sealed class RunCommand : ClusterCommand
{
    private static readonly Argument<FileInfo> SweepFileArgument = new("sweep") { Description = "The sweep file (YAML)." };
    private static readonly Option<int?> SlotsOption = new("--slots") { Description = "Trials trained at once (default: the sweep's parallel, at most the CPU count)." };
    private static readonly Option<DirectoryInfo?> ReportOption = new("--report") { Description = "Where the study report goes (default reports/SWEEP)." };
    private static readonly Option<int> DashboardPortOption = new("--dashboard-port") { Description = "Port of the dashboard this run serves on 127.0.0.1 while it runs (default 0: a free one; its URL is printed)." };

    public RunCommand() : base("run", "Run a sweep end to end on this machine (embedded silo): progress, leaderboard and a report with plots.")
    {
        Arguments.Add(SweepFileArgument);
        Options.Add(SlotsOption);
        Options.Add(ReportOption);
        Options.Add(DashboardPortOption);
        Options.Add(DashboardCommand.TokenOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var file = parseResult.GetValue(SweepFileArgument)!;
        var spec = SweepFiles.Load(file);
        var address = ConnectionOptions.Resolve(parseResult);
        if (address.Kind != ClusterKind.Embedded)
            throw new UserInputException("run trains on this machine; to use a cluster, use 'submit --watch'", ExitCodes.UsageError);
        Local.DataPrepareCommand.EnsurePrepared(spec.Task.Dataset, output, cancellationToken);
        var slots = parseResult.GetValue(SlotsOption) ?? Math.Max(1, Math.Min(spec.Parallel, Environment.ProcessorCount));
        if (slots is < 1 or > 64) throw new UserInputException($"--slots {slots} is not valid: use 1 to 64", ExitCodes.UsageError);
        var dashboardPort = parseResult.GetValue(DashboardPortOption);
        if (dashboardPort is < 0 or > 65535) throw new UserInputException($"--dashboard-port {dashboardPort} is not valid: use 0 (a free one) to 65535", ExitCodes.UsageError);
        var hosting = new EmbeddedHosting(slots, "run") { Dashboard = new EmbeddedDashboard(dashboardPort, DashboardCommand.ReadToken(parseResult)) };

        var dataDir = Path.GetFullPath(address.DataDir);
        await using var session = await ClusterSession.ConnectAsync(address, hosting, cancellationToken);
        AnnounceSilo(output, session, hosting, spec, dataDir);
        var result = await session.Client.SubmitAsync(spec, cancellationToken);
        if (!result.Accepted) throw new UserInputException(result.Message, ExitCodes.InvalidInput);
        output.Note($"{spec.Name}: {result.Message}");

        // A client whose host stops (a `dashboard` closed mid-sweep) reconnects: to another holder, or it hosts the
        // silo itself and the sweep resumes here; either way it says where the sweep trains now and its page.
        var reconnected = false;
        var status = await new SweepWatcher(output, TimeSpan.FromMilliseconds(500)).WatchAsync(async ct =>
        {
            var again = await ClusterSession.ConnectAsync(address, hosting, ct);
            reconnected = true;
            AnnounceSilo(output, again, hosting, spec, dataDir);
            return again;
        }, session, spec.Name, cancellationToken);

        // After a reconnect the first session's client has no gateway left; the watcher has closed its own.
        await using var after = reconnected ? await ClusterSession.ConnectAsync(address, hosting with { Slots = 0, Dashboard = new() }, cancellationToken) : null;
        var client = (after ?? session).Client;
        var grain = client.GetGrain<ISweepGrain>(spec.Name);
        var trials = await grain.GetTrialsAsync(cancellationToken);
        var specView = (await grain.GetSpecAsync(cancellationToken))!;
        var reportDir = parseResult.GetValue(ReportOption)?.FullName ?? Path.Combine("reports", spec.Name);
        var report = StudyReport.Write(reportDir, specView, trials);
        var entries = await client.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.SweepKey(spec.Name)).GetAsync(0, cancellationToken);
        if (output.IsJson)
        {
            output.Json(new { status, report = report.Markdown, plots = report.Plots });
        }
        else
        {
            LeaderboardQuery.Write(output, LeaderboardQuery.Parse(null, null, 10).Apply(entries), LeaderboardFormat.Table);
            output.Note($"report: {report.Markdown}");
        }
        return status.Succeeded + status.Pruned > 0 || status.Total == 0 ? ExitCodes.Success : ExitCodes.Failed;
    }

    /// <summary>
    /// Where the sweep trains and the page that shows it: this process's embedded silo, or the silo of the process
    /// that already hosts the data directory (a `dashboard` started first), whose dashboard is then the one to open.
    /// Notes, so a `--json` stdout stays the document.
    /// </summary>
    private static void AnnounceSilo(ConsoleOutput output, ClusterSession session, EmbeddedHosting hosting, SweepSpec spec, string dataDir)
    {
        var holder = session.Embedded;
        if (!session.HostsSilo)
        {
            var slots = holder is null ? "" : $" with {holder.Slots} trainer slot{(holder.Slots == 1 ? "" : "s")}";
            var fewer = holder is { Slots: > 0 } && holder.Slots < Math.Min(spec.Parallel, hosting.Slots)
                ? $", {holder.Slots} at a time (parallel: {spec.Parallel}; `dashboard --slots {Math.Min(spec.Parallel, hosting.Slots)}` allows more)"
                : "";
            output.Note($"{holder?.Describe() ?? "another process"} hosts {dataDir}{slots}: {spec.Name} trains in that process{fewer}");
            if (hosting.Dashboard.Port != 0 && holder?.DashboardUrl is not null)
                output.Note($"--dashboard-port {hosting.Dashboard.Port} is not used: that process serves the dashboard");
        }
        if (holder?.DashboardUrl is not { } url) return;
        var readOnly = session.HostsSilo && hosting.Dashboard.Token is null ? " (this machine only; read-only: --dashboard-token allows pause/resume/cancel)" : "";
        output.Note($"dashboard: {url}#/sweep/{Uri.EscapeDataString(spec.Name)}{readOnly}");
    }
}
