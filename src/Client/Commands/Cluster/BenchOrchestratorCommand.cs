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
/// The per-trial figure is the orchestration overhead a real trial pays on top of its training.
/// </summary>
public sealed class BenchOrchestratorCommand : OrchestratorCommand
{
    private static readonly Option<int> TrialsOption = new("--trials") { Description = "Number of no-op trials.", DefaultValueFactory = _ => 10_000 };
    private static readonly Option<int> SlotsOption = new("--slots") { Description = "Worker slots.", DefaultValueFactory = _ => 16 };

    public BenchOrchestratorCommand() : base("orchestrator", "Per-trial orchestration overhead: no-op trials through the real grains, persistence and scheduler.")
    {
        Options.Add(TrialsOption);
        Options.Add(SlotsOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var trials = parseResult.GetValue(TrialsOption);
        var slots = parseResult.GetValue(SlotsOption);
        if (trials is < 1 or > 10_000) throw new UserInputException($"--trials {trials} is not valid: use 1 to 10000", ExitCodes.UsageError);
        if (slots is < 1 or > 64) throw new UserInputException($"--slots {slots} is not valid: use 1 to 64", ExitCodes.UsageError);

        var dataDir = Path.Combine(Path.GetTempPath(), $"orchestrator-bench-{Environment.ProcessId}");
        try
        {
            var address = ClusterAddress.Parse("localhost", dataDir, null, "artifacts", "bench", "bench");
            await using var session = await ClusterSession.ConnectAsync(address, slots, cancellationToken,
                services => services.AddSingleton<ITrialRunner, NoopTrialRunner>());
            var yaml = string.Join('\n',
                "name: bench-orchestrator",
                "task: { model: mlp, dataset: mnist }",
                "metric: { name: train_loss, goal: minimize }",
                "method: grid",
                $"run_cap: {trials}",
                $"parallel: {slots}",
                "parameters:",
                $"  seed: {{ values: [{string.Join(", ", Enumerable.Range(0, trials))}] }}",
                "");
            var grain = session.Client.GetGrain<ISweepGrain>("bench-orchestrator");
            var clock = Stopwatch.StartNew();
            var submit = await grain.SubmitAsync(new SweepSubmission(yaml, "bench.yaml"), cancellationToken);
            if (!submit.Accepted) throw new InvalidOperationException(submit.Message);
            var submitted = clock.Elapsed;
            SweepStatus status;
            do
            {
                await Task.Delay(20, cancellationToken);
                status = await grain.GetStatusAsync(cancellationToken);
            } while (!status.IsTerminal);
            var total = clock.Elapsed;
            var perTrial = total.TotalMilliseconds / trials;
            var result = new
            {
                trials,
                slots,
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
                ("slots / cores", $"{slots} / {Environment.ProcessorCount}"),
                ("submit (parse + expand + journal)", $"{submitted.TotalMilliseconds:0} ms"),
                ("submit → finished", $"{total.TotalSeconds:0.00} s"),
                ("per trial", $"{perTrial:0.000} ms"),
                ("throughput", $"{trials / total.TotalSeconds:0} trials/s"),
                ("succeeded", status.Succeeded.ToString(CultureInfo.InvariantCulture)),
            ], "orchestrator overhead (embedded, no-op trials)");
            return status.Succeeded == trials ? ExitCodes.Success : ExitCodes.Failed;
        }
        finally
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Stands in for TorchSharp only: returns at once, no files, no metrics (nothing is claimed about training).</summary>
    private sealed class NoopTrialRunner : ITrialRunner
    {
        public TrainingOutcome Run(TrialLease lease, TrialWorkspace workspace, ITrainingObserver observer, CancellationToken cancellationToken) =>
            new(new Dictionary<string, double>(), 0, 0, 0, TimeSpan.Zero, false, new Dictionary<string, string>(), null, "");
    }
}
