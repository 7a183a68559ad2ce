using System.CommandLine;
using System.Text.Json;
using Orchestrator.Client.Output;
using Orchestrator.Models.Sharing;
using Orchestrator.Storage;
using Orchestrator.Sweeps;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Packing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `reproduce SWEEP`: re-trains every finished trial of a sweep here, from its recorded spec, config and seed (base
/// model pretrained again in a fresh cache, same torch thread count as recorded), and reports per trial whether the
/// metrics and the adapter's sha256 are identical to what the sweep recorded. A trial that trained in a pack is
/// re-trained in the same pack: the recorded members in the recorded order, a pruned member stopped at its recorded
/// step, a member whose loss diverged failing again on its own.
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
        // The base spec as the journal recorded it and every lease carried it: the file is not parsed again.
        var baseSpec = specView.BaseJson is { } baseJson ? JsonSerializer.Deserialize<BaseModelSpec>(baseJson)! : new BaseModelSpec();
        var everyTrial = (await grain.GetTrialsAsync(cancellationToken)).ToDictionary(t => t.TrialId, StringComparer.Ordinal);
        var trials = everyTrial.Values.Where(t => t.State == TrialState.Succeeded).ToList();

        var scratch = Path.Combine(Path.GetTempPath(), $"orchestrator-reproduce-{Environment.ProcessId}");
        var rows = new List<ReproducedTrial>();
        var previousThreads = Environment.GetEnvironmentVariable(TorchThreads.Variable);
        try
        {
            await output.ProgressAsync(async board =>
            {
                var bar = board.Add($"reproducing {trials.Count} trials of {sweep}", trials.Count);
                var done = new HashSet<string>(StringComparer.Ordinal);
                TrainingRequest RequestOf(TrialRecord trial) => new(
                    JsonSerializer.SerializeToNode(trial.Config).Deserialize<TrainingConfig>()!, baseSpec,
                    Path.Combine(scratch, trial.TrialId), Path.Combine(scratch, "bases"))
                {
                    Resources = new NamedResourceFolders(session.Store),
                };
                void Compare(TrialRecord trial, TrainingOutcome outcome)
                {
                    var adapterSha = outcome.FileSha256.FirstOrDefault(f => f.Key.EndsWith(ArtifactPaths.AdapterWeightsFile, StringComparison.Ordinal)).Value;
                    var metricsMatch = trial.Metrics.Count == outcome.Metrics.Count
                        && trial.Metrics.All(m => outcome.Metrics.TryGetValue(m.Key, out var v) && BitConverter.DoubleToInt64Bits(v) == BitConverter.DoubleToInt64Bits(m.Value));
                    var adapterMatch = trial.AdapterSha256 == adapterSha;
                    rows.Add(new ReproducedTrial(trial.TrialId, trial.Kind.Name(), metricsMatch, adapterMatch, trial.AdapterSha256, adapterSha,
                        trial.Metrics, outcome.Metrics));
                    done.Add(trial.TrialId);
                    bar.Update(rows.Count);
                }
                foreach (var trial in trials)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (done.Contains(trial.TrialId)) continue;
                    var recorded = await RecordedResultAsync(session.Store, sweep, trial.TrialId, cancellationToken);
                    if (recorded?.Threads is > 0) Environment.SetEnvironmentVariable(TorchThreads.Variable, recorded.Threads.ToString());
                    if (recorded?.Pack is { Members.Count: > 1 } pack && pack.Members.All(everyTrial.ContainsKey))
                    {
                        var members = pack.Members.Select(id => everyTrial[id]).ToList();
                        var outcomes = await Task.Factory.StartNew(() => PackedTrialTrainer.Run(
                                members.Select(m => new PackMemberRequest(RequestOf(m), new ReplayObserver(m.State == TrialState.Pruned ? m.Step : null)) { Name = m.TrialId }).ToList(),
                                pack.Id, Enum.Parse<LowRankBatching>(pack.Batching), cancellationToken),
                            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                        for (var i = 0; i < members.Count; i++)
                        {
                            if (members[i].State != TrialState.Succeeded || done.Contains(members[i].TrialId)) continue;
                            if (outcomes[i].Outcome is { } memberOutcome) { Compare(members[i], memberOutcome); continue; }
                            // Succeeded when the sweep ran it, failed now: not reproduced.
                            rows.Add(new ReproducedTrial(members[i].TrialId, members[i].Kind.Name(), false, false, members[i].AdapterSha256, null,
                                members[i].Metrics, new Dictionary<string, double>()));
                            done.Add(members[i].TrialId);
                            bar.Update(rows.Count);
                        }
                        continue;
                    }
                    var outcome = await Task.Factory.StartNew(() => TrialTrainer.Run(RequestOf(trial), null, cancellationToken),
                        cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    Compare(trial, outcome);
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

    private sealed record RecordedResult(
        [property: System.Text.Json.Serialization.JsonPropertyName("threads")] int? Threads,
        [property: System.Text.Json.Serialization.JsonPropertyName("pack")] PackPlacement? Pack);

    /// <summary>A re-run member's observer: stops a pruned member where the sweep stopped it, and fails a diverging one as a silo does.</summary>
    private sealed class ReplayObserver(long? stopAtStep) : ITrainingObserver
    {
        public bool OnProgress(TrainingProgress progress)
        {
            if (progress.Metrics.TryGetValue(MetricNames.TrainLoss, out var loss) && !double.IsFinite(loss))
                throw new InvalidOperationException($"training loss became {loss} at step {progress.Step}");
            return stopAtStep is not { } stop || progress.Step < stop;
        }

        public void OnCheckpoint(string directory, long step) { }
    }

    private sealed record ReproducedTrial(string TrialId, string Kind, bool MetricsMatch, bool AdapterMatch, string? RecordedAdapterSha256,
        string? ReproducedAdapterSha256, IReadOnlyDictionary<string, double> RecordedMetrics, IReadOnlyDictionary<string, double> ReproducedMetrics)
    {
        public bool Identical => MetricsMatch && AdapterMatch;
    }
}
