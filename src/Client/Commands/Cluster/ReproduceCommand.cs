using System.CommandLine;
using System.Text.Json;
using Orchestrator.Client.Output;
using Orchestrator.Models.Sharing;
using Orchestrator.Storage;
using Orchestrator.Sweeps;
using Orchestrator.Trainer.Configuration;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `reproduce SWEEP`: re-trains every finished trial of a sweep here, from its recorded spec, config and seed (base
/// model pretrained again in a fresh cache, same torch thread count as recorded), and reports per trial whether the
/// metrics and the adapter's sha256 are identical to what the sweep recorded.
/// </summary>
public sealed class ReproduceCommand : ClusterCommand
{
    private static readonly Argument<string> SweepArgument = SweepNameArgument();

    public ReproduceCommand() : base("reproduce", "Re-run a finished sweep's trials from its record and check metrics and adapter hashes match bit for bit.")
    {
        Arguments.Add(SweepArgument);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var sweep = ReadSweepName(parseResult, SweepArgument)!;
        await using var session = await ConnectAsync(parseResult, cancellationToken);
        var status = await RequireSweepAsync(session, sweep, cancellationToken);
        if (!status.IsTerminal)
            throw new UserInputException($"{sweep} is {status.State.ToString().ToLowerInvariant()}; reproduce a finished sweep", ExitCodes.InvalidInput);
        var grain = session.Client.GetGrain<ISweepGrain>(sweep);
        var specView = (await grain.GetSpecAsync(cancellationToken))!;
        var spec = SweepFile.Parse(specView.YamlText, specView.FileName);
        var trials = (await grain.GetTrialsAsync(cancellationToken)).Where(t => t.State == TrialState.Succeeded).ToList();

        var scratch = Path.Combine(Path.GetTempPath(), $"orchestrator-reproduce-{Environment.ProcessId}");
        var rows = new List<ReproducedTrial>();
        var previousThreads = Environment.GetEnvironmentVariable(TorchThreads.Variable);
        try
        {
            await output.ProgressAsync(async board =>
            {
                var bar = board.Add($"reproducing {trials.Count} trials of {sweep}", trials.Count);
                foreach (var trial in trials)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var recorded = await RecordedResultAsync(session.Store, sweep, trial.TrialId, cancellationToken);
                    if (recorded?.Threads is > 0) Environment.SetEnvironmentVariable(TorchThreads.Variable, recorded.Threads.ToString());
                    var config = JsonSerializer.SerializeToNode(trial.Config).Deserialize<TrainingConfig>()!;
                    var outDir = Path.Combine(scratch, trial.TrialId);
                    var outcome = await Task.Factory.StartNew(() => TrialTrainer.Run(
                        new TrainingRequest(config, spec.Task.Base ?? new BaseModelSpec(), outDir, Path.Combine(scratch, "bases"))
                        {
                            Resources = new NamedResourceFolders(session.Store),
                        }, null, cancellationToken),
                        cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    var adapterSha = outcome.FileSha256.FirstOrDefault(f => f.Key.EndsWith(ArtifactPaths.AdapterWeightsFile, StringComparison.Ordinal)).Value;
                    var metricsMatch = trial.Metrics.Count == outcome.Metrics.Count
                        && trial.Metrics.All(m => outcome.Metrics.TryGetValue(m.Key, out var v) && BitConverter.DoubleToInt64Bits(v) == BitConverter.DoubleToInt64Bits(m.Value));
                    var adapterMatch = trial.AdapterSha256 == adapterSha;
                    rows.Add(new ReproducedTrial(trial.TrialId, trial.Kind.Name(), metricsMatch, adapterMatch, trial.AdapterSha256, adapterSha,
                        trial.Metrics, outcome.Metrics));
                    bar.Update(rows.Count);
                }
                bar.Complete();
                return 0;
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(TorchThreads.Variable, previousThreads);
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }

        var identical = rows.Count(r => r.Identical);
        if (output.IsJson)
            output.Json(new { sweep, trials = rows.Count, identical, rows });
        else
        {
            output.Table(["trial", "kind", "metrics", "adapter sha256", "verdict"], rows.Select(r => (IReadOnlyList<string>)[
                r.TrialId, r.Kind, r.MetricsMatch ? "identical" : "differ", r.AdapterMatch ? (r.RecordedAdapterSha256 is null ? "(none)" : "identical") : "differ",
                r.Identical ? "reproduced" : "NOT reproduced"]));
            output.Line($"{identical}/{rows.Count} trials reproduced bit for bit");
        }
        return identical == rows.Count ? ExitCodes.Success : ExitCodes.Failed;
    }

    private static async Task<RecordedResult?> RecordedResultAsync(IArtifactStore store, string sweep, string trial, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(ArtifactPaths.TrialResult(sweep, trial), null, cancellationToken);
            return await JsonSerializer.DeserializeAsync<RecordedResult>(stream, cancellationToken: cancellationToken);
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
    }

    private sealed record RecordedResult([property: System.Text.Json.Serialization.JsonPropertyName("threads")] int? Threads);

    private sealed record ReproducedTrial(string TrialId, string Kind, bool MetricsMatch, bool AdapterMatch, string? RecordedAdapterSha256,
        string? ReproducedAdapterSha256, IReadOnlyDictionary<string, double> RecordedMetrics, IReadOnlyDictionary<string, double> ReproducedMetrics)
    {
        public bool Identical => MetricsMatch && AdapterMatch;
    }
}
