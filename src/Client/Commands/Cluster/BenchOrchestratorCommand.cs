using Orchestrator.Grains.Sweeps;
using Orchestrator.Contracts.Hosting;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Output;
using Orchestrator.Silo.Training;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `bench orchestrator --trials N`: N no-op trials through the real grains, journal, scheduler and trainer service
/// of the embedded default (only the TorchSharp call is replaced by a no-op), timed from submit to finished.
/// The per-trial figure is the orchestration overhead a real trial pays on top of its training. With `--silos 2`
/// and `--cluster redis://...` the same runs on a Redis-clustered set of in-process silos talking over loopback, so
/// the cost of mutual TLS (`--tls-*`) on silo-to-silo calls shows as the difference against a plaintext run.
/// </summary>
public sealed class BenchOrchestratorCommand : OrchestratorCommand
{
    private static readonly Option<int> TrialsOption = new("--trials") { Description = "Number of no-op trials.", DefaultValueFactory = _ => 10_000 };
    private static readonly Option<int> SlotsOption = new("--slots") { Description = "Worker slots.", DefaultValueFactory = _ => 16 };
    private static readonly Option<int> WarmupOption = new("--warmup")
    {
        Description = "No-op trials of an untimed sweep run first in the same process, so the timed one measures a warm process "
            + "(JIT tiers, caches, thread pool) as a long-running silo is; 0 times a cold start.",
        DefaultValueFactory = _ => 0,
    };
    private static readonly Option<int> SilosOption = new("--silos")
    {
        Description = "In-process silos. 1: the embedded default. 2 or more: a cluster over --cluster redis://HOST:PORT whose silos talk " +
            "over loopback (mutual TLS when --tls-cert/--tls-key/--tls-ca give a silo certificate), the slots split between them.",
        DefaultValueFactory = _ => 1,
    };

    public BenchOrchestratorCommand() : base("orchestrator", "Per-trial orchestration overhead: no-op trials through the real grains, persistence and scheduler.")
    {
        Options.Add(TrialsOption);
        Options.Add(SlotsOption);
        Options.Add(SilosOption);
        Options.Add(WarmupOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var trials = parseResult.GetValue(TrialsOption);
        var slots = parseResult.GetValue(SlotsOption);
        if (trials is < 1 or > 10_000) throw new UserInputException($"--trials {trials} is not valid: use 1 to 10000", ExitCodes.UsageError);
        if (slots is < 1 or > 64) throw new UserInputException($"--slots {slots} is not valid: use 1 to 64", ExitCodes.UsageError);
        var warmup = parseResult.GetValue(WarmupOption);
        if (warmup is < 0 or > 10_000) throw new UserInputException($"--warmup {warmup} is not valid: use 0 to 10000", ExitCodes.UsageError);
        var silos = parseResult.GetValue(SilosOption);
        if (silos is < 1 or > 8 || silos > slots) throw new UserInputException($"--silos {silos} is not valid: use 1 to 8, at most --slots", ExitCodes.UsageError);

        var dataDir = Path.Combine(Path.GetTempPath(), $"orchestrator-bench-{Environment.ProcessId}");
        var hosts = new List<Microsoft.AspNetCore.Builder.WebApplication>();
        try
        {
            string mode;
            IClusterClient client;
            await using var session = silos == 1
                ? await ClusterSession.ConnectAsync(ClusterAddress.Parse("localhost", dataDir, null, "artifacts", "bench", "bench"), slots, cancellationToken,
                    services => services.AddSingleton<ITrialRunner, NoopTrialRunner>())
                : null;
            if (session is not null)
            {
                client = session.Client;
                mode = "embedded";
            }
            else
            {
                var tls = ConnectionOptions.ResolveTls(parseResult);
                hosts.AddRange(await StartClusterAsync(ConnectionOptions.Resolve(parseResult), tls, silos, slots, dataDir, cancellationToken));
                client = hosts[0].Services.GetRequiredService<IClusterClient>();
                mode = $"{silos} silos over Redis, {(tls is null ? "plaintext" : "mutual TLS")}";
            }
            if (warmup > 0) await RunSweepAsync(client, "bench-orchestrator-warmup", warmup, slots, cancellationToken);
            var (submitted, total, status) = await RunSweepAsync(client, "bench-orchestrator", trials, slots, cancellationToken);
            var perTrial = total.TotalMilliseconds / trials;
            var result = new
            {
                trials,
                warmupTrials = warmup,
                slots,
                mode,
                cores = Environment.ProcessorCount,
                submitMs = submitted.TotalMilliseconds,
                totalSeconds = total.TotalSeconds,
                perTrialMs = perTrial,
                trialsPerSecond = trials / total.TotalSeconds,
                succeeded = status.Succeeded,
            };
            if (output.IsJson) output.Json(result);
            else output.KeyValues([
                ("trials", trials.ToString(CultureInfo.InvariantCulture)),
                ("warm-up trials before (untimed)", warmup.ToString(CultureInfo.InvariantCulture)),
                ("slots / cores", $"{slots} / {Environment.ProcessorCount}"),
                ("mode", mode),
                ("submit (parse + expand + journal)", $"{submitted.TotalMilliseconds:0} ms"),
                ("submit → finished", $"{total.TotalSeconds:0.00} s"),
                ("per trial", $"{perTrial:0.000} ms"),
                ("throughput", $"{trials / total.TotalSeconds:0} trials/s"),
                ("succeeded", status.Succeeded.ToString(CultureInfo.InvariantCulture)),
            ], "orchestrator overhead (no-op trials)");
            return status.Succeeded == trials ? ExitCodes.Success : ExitCodes.Failed;
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync(CancellationToken.None);
                await host.DisposeAsync();
            }
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>One sweep of <paramref name="trials"/> no-op trials (one seed each), timed from submit to its end.</summary>
    private static async Task<(TimeSpan Submitted, TimeSpan Total, SweepStatus Status)> RunSweepAsync(IClusterClient client, string name, int trials, int slots,
        CancellationToken cancellationToken)
    {
        var yaml = string.Join('\n',
            $"name: {name}",
            "task: { model: mlp, dataset: mnist }",
            "metric: { name: train_loss, goal: minimize }",
            "method: grid",
            $"run_cap: {trials}",
            $"parallel: {slots}",
            "parameters:",
            $"  seed: {{ values: [{string.Join(", ", Enumerable.Range(0, trials))}] }}",
            "");
        var grain = client.GetGrain<ISweepGrain>(name);
        var clock = Stopwatch.StartNew();
        var submit = await grain.SubmitAsync(yaml, "bench.yaml", cancellationToken);
        if (!submit.Accepted) throw new InvalidOperationException(submit.Message);
        var submitted = clock.Elapsed;
        SweepStatus status;
        do
        {
            await Task.Delay(20, cancellationToken);
            status = await grain.GetStatusAsync(cancellationToken);
        } while (!status.IsTerminal);
        return (submitted, clock.Elapsed, status);
    }

    /// <summary>
    /// Silos of a fresh service id on the given Redis, each on loopback ports, with the no-op runner: the lease,
    /// progress and completion calls of trials on the other silos cross a real (optionally TLS) connection.
    /// </summary>
    private static async Task<List<Microsoft.AspNetCore.Builder.WebApplication>> StartClusterAsync(ClusterAddress address, Orchestrator.Silo.Security.TlsFiles? tls,
        int silos, int slots, string dataDir, CancellationToken cancellationToken)
    {
        if (address.Kind != ClusterKind.Redis)
            throw new UserInputException("--silos 2 or more needs --cluster redis://HOST:PORT (a Redis for membership and state)", ExitCodes.UsageError);
        var service = $"bench-{Guid.NewGuid():N}"[..14];
        var hosts = new List<Microsoft.AspNetCore.Builder.WebApplication>();
        for (var i = 0; i < silos; i++)
        {
            var options = new Orchestrator.Silo.Hosting.SiloHostOptions
            {
                Cluster = address.Value,
                RedisPassword = address.RedisPassword,
                Storage = Path.Combine(dataDir, "artifacts"),
                DataDir = Path.Combine(dataDir, $"silo-{i}"),
                Slots = slots / silos + (i < slots % silos ? 1 : 0),
                SiloPort = FreePort.Next(),
                GatewayPort = FreePort.Next(),
                HttpPort = 0,
                ServiceId = service,
                ClusterId = service,
                SiloName = $"bench-{i}",
                Tls = tls,
            };
            try
            {
                var host = await Orchestrator.Silo.Hosting.SiloHost.BuildAsync(options, SiloConsoleLog.OnStandardError(services => services.AddSingleton<ITrialRunner, NoopTrialRunner>()));
                await host.StartAsync(cancellationToken);
                hosts.Add(host);
            }
            catch (Exception e) when (e is Orchestrator.Silo.Hosting.SiloHostOptionsException or Orchestrator.Silo.Hosting.ClusterAccessException)
            {
                throw new UserInputException(e.Message, ExitCodes.UsageError);
            }
        }
        return hosts;
    }

    /// <summary>Stands in for TorchSharp only: returns at once, no files, no metrics (nothing is claimed about training).</summary>
    private sealed class NoopTrialRunner : ITrialRunner
    {
        public TrainingOutcome Run(TrialLease lease, TrialWorkspace workspace, ITrainingObserver observer, CancellationToken cancellationToken) =>
            new(new Dictionary<string, double>(), 0, 0, 0, TimeSpan.Zero, false, new Dictionary<string, string>(), null, "");
    }
}
