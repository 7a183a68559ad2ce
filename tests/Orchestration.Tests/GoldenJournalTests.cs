using System.Text.Json;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Sweeps;
using Orchestrator.Sweeps;
using Orchestrator.TestServers;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// GoldenJournals/golden.jsonl is a sweep grain's journal exactly as the embedded silo wrote it (one JSON line per
/// event): a submission of five trials with ASHA, leases, evaluations (two prunes), a checkpoint, a release and a
/// second attempt, a non-retryable failure and four results. It is checked in and never regenerated: whatever later
/// versions change in parsing, validation or trial-id hashing, this journal must replay to this state.
/// </summary>
public sealed class GoldenJournalTests
{
    private const string Rank1 = "tdd2396f5be1f", Rank2 = "t9a54d5b07c3a", Rank4 = "t357ba56b0ce2", Rank8 = "td44508bb402a", Full = "t71fd6714f25a";

    private static string GoldenPath => Path.Combine(RepositoryRoot.Find(), "tests", "Orchestration.Tests", "GoldenJournals", "golden.jsonl");

    private static IReadOnlyList<SweepEvent> GoldenEvents() =>
        File.ReadAllLines(GoldenPath).Where(l => l.Length > 0).Select(JournalJson.Deserialize<SweepEvent>).ToList();

    [Fact]
    public void The_golden_journal_replays_to_the_same_trials_states_metrics_and_decisions()
    {
        var ledger = new SweepLedger();
        foreach (var e in GoldenEvents()) ledger.Apply(e); // no upgrade step: today's events carry their plans

        Assert.Equal(SweepState.Finished, ledger.State);
        Assert.Equal([Rank1, Rank2, Rank4, Rank8, Full], ledger.Trials.Select(t => t.Id));
        Assert.Equal([TrialKind.Lora, TrialKind.Lora, TrialKind.Lora, TrialKind.Lora, TrialKind.Full], ledger.Trials.Select(t => t.Plan.Kind));
        Assert.Equal([TrialState.Succeeded, TrialState.Pruned, TrialState.Succeeded, TrialState.Failed, TrialState.Succeeded],
            ledger.Trials.Select(t => t.State));
        Assert.Equal([1, 1, 2, 1, 1], ledger.Trials.Select(t => t.Attempt));
        Assert.Equal([false, true, false, true, false], ledger.Trials.Select(t => t.PruneRequested)); // ASHA's rung-1 decisions
        Assert.Equal([0.93, 0.52, 0.96, double.NaN, 0.94],
            ledger.Trials.Select(t => t.Result?.Metrics["test_accuracy"] ?? double.NaN));
        Assert.Equal("adapter-" + Rank4, ledger.Find(Rank4)!.Result!.AdapterSha256);
        Assert.Equal("CUDA error: out of memory", ledger.Find(Rank8)!.Error);
        Assert.Equal(10, Assert.Single(ledger.Find(Rank1)!.Checkpoints).Step);

        // What a lease carries comes from the journal, not from re-expanding the YAML.
        var settings = ledger.Settings!;
        Assert.Equal(("mlp", "mnist", "test_accuracy", true, 5, 1), (settings.Model, settings.Dataset, settings.Metric, settings.Maximize, settings.Parallel, settings.MaxFailures));
        Assert.Equal(new EarlyStoppingRule("asha", MinIter: 1, MaxIter: 9, Eta: 3, Brackets: 1), settings.EarlyStopping);
        Assert.Equal(1, JsonDocument.Parse(settings.BaseJson).RootElement.GetProperty("pretrain").GetProperty("epochs").GetInt32());
        var rank4 = JsonDocument.Parse(ledger.Find(Rank4)!.Plan.ConfigJson).RootElement;
        Assert.Equal((4, 8.0, 4992473232830533835L), (rank4.GetProperty("rank").GetInt32(), rank4.GetProperty("alpha").GetDouble(), rank4.GetProperty("seed").GetInt64()));
        var parameters = ledger.Find(Rank4)!.Plan.Parameters;
        Assert.Equal(["rank", "alpha", "lr", "max_steps", "eval_every"], parameters.Keys); // file order
        Assert.Equal([ParameterValue.Of(4L), ParameterValue.Of(8.0), ParameterValue.Of(0.001), ParameterValue.Of(30L), ParameterValue.Of(10L)], parameters.Values);
        Assert.Equal(ParameterValueKind.Integer, parameters["rank"].Kind);
    }

    [Fact]
    public void Todays_canonical_hash_of_the_golden_spec_is_the_one_it_journaled()
    {
        // Otherwise resubmitting an existing sweep unchanged would be refused as a different spec after an upgrade.
        var submitted = Assert.IsType<SweepSubmitted>(GoldenEvents()[0]);
        Assert.Equal("4acfbd7745fe5e032062c91c79c1fe350c076b0aef9ab1463ccb4fce0340df3d", submitted.SpecHash);
        Assert.Equal(submitted.SpecHash, CanonicalSpec.Of(SweepFile.Parse(submitted.YamlText, submitted.FileName)).Hash);
    }

    [Fact]
    public async Task A_sweep_grain_activated_on_the_golden_journal_reports_the_same_status_best_trial_and_leaderboard()
    {
        var dataDir = SweepCluster.NewDataDir();
        var stream = Path.Combine(dataDir, "state", "journal", "sweeps", "golden.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(stream)!);
        File.Copy(GoldenPath, stream);
        try
        {
            await using var cluster = await SweepCluster.StartAsync(1, dataDir, slotsPerSilo: 0);
            var sweep = cluster.Sweep("golden");

            var status = await sweep.GetStatusAsync();
            Assert.Equal((SweepState.Finished, 5, 3, 1, 1), (status.State, status.Total, status.Succeeded, status.Pruned, status.Failed));
            Assert.Equal((Rank4, 0.96), (status.BestTrial, status.BestMetric));
            var trials = await sweep.GetTrialsAsync();
            Assert.Equal([Rank1, Rank2, Rank4, Rank8, Full], trials.Select(t => t.TrialId));
            Assert.Equal(("mlp", "mnist", true), await sweep.GetSpecAsync() is { } spec ? (spec.Model, spec.Dataset, spec.Maximize) : default);
            // Objectives and the file's name come from the journal (read from this old journal's YAML once, at activation), so
            // report and leaderboard never parse the file.
            var view = (await sweep.GetSpecAsync())!;
            Assert.Equal([new MetricObjective("test_accuracy", true)], view.AllObjectives);
            Assert.Equal("golden", view.Title);

            var board = await cluster.SweepLeaderboardAsync("golden");
            Assert.Equal([Rank4, Full, Rank1, Rank2], board.Select(e => e.Trial.TrialId));

            // The same file again is the same sweep: nothing to add.
            var yaml = Assert.IsType<SweepSubmitted>(GoldenEvents()[0]).YamlText;
            var again = await sweep.SubmitAsync(yaml, "golden.yaml");
            Assert.Equal((true, SubmitOutcome.Unchanged, 0), (again.Accepted, again.Outcome, again.AddedTrials));
        }
        finally
        {
            SweepCluster.TryDelete(dataDir);
        }
    }

    private static IReadOnlyList<SweepEvent> Events(string file) =>
        File.ReadAllLines(Path.Combine(RepositoryRoot.Find(), "tests", "Orchestration.Tests", "GoldenJournals", file))
            .Where(l => l.Length > 0).Select(JournalJson.Deserialize<SweepEvent>).ToList();

    private static SweepLedger Replay(string file)
    {
        var ledger = new SweepLedger();
        foreach (var e in Events(file)) ledger.Apply(e);
        return ledger;
    }

    /// <summary>
    /// GoldenJournals/golden-bayes.jsonl: `orchestrator run` of a TPE sweep (run_cap 6, parallel 2) by the code as it
    /// landed at fe8239f, checked in as written. Its suggestions are journaled decisions: replay takes them as they
    /// are, whatever today's sampler would suggest.
    /// </summary>
    [Fact]
    public void The_golden_bayes_journal_replays_its_journaled_suggestions_and_results()
    {
        var ledger = Replay("golden-bayes.jsonl");

        Assert.Equal(SweepState.Finished, ledger.State);
        Assert.Equal(6, ledger.Trials.Count);
        Assert.All(ledger.Trials, t => Assert.Equal(TrialState.Succeeded, t.State));
        Assert.Equal(6, Events("golden-bayes.jsonl").OfType<TrialSuggested>().Count());
        var best = ledger.Settings!.Objective.BestTrial(ledger.Trials, t => t.Result?.Metrics["test_accuracy"], t => t.State == TrialState.Pruned, t => t.Id)!;
        Assert.Equal(("t76b8669b338c", 0.474), (best.Id, best.Result!.Metrics["test_accuracy"]));
        Assert.Equal(ParameterValue.Of(4L), best.Plan.Parameters["rank"]);
        Assert.Equal(0.016306002, best.Plan.Parameters["lr"].AsNumber!.Value, 9);
        Assert.NotNull(ledger.Settings.Search);
        Assert.Equal(6, ledger.Settings.Search!.RunCap);
    }

    /// <summary>
    /// GoldenJournals/golden-packed.jsonl: `orchestrator run` of a four-rank sweep with `pack: 2` over a pretrained base
    /// (code of fe8239f): two packs of two, each lease journaled with its pack.
    /// </summary>
    [Fact]
    public void The_golden_packed_journal_replays_its_packs_and_results()
    {
        var ledger = Replay("golden-packed.jsonl");

        Assert.Equal(SweepState.Finished, ledger.State);
        Assert.Equal(["tde5160cce588", "t572fec2f42d0", "t19df3f03758e", "t423b90e5d8fb"], ledger.Trials.Select(t => t.Id));
        Assert.All(ledger.Trials, t => Assert.Equal(TrialState.Succeeded, t.State));
        Assert.Equal(["tde5160cce588.1", "tde5160cce588.1", "t19df3f03758e.1", "t19df3f03758e.1"], ledger.Trials.Select(t => t.Pack));
        Assert.Equal("2", ledger.Settings!.Pack);
        Assert.Equal([0.645, 0.652, 0.6475, 0.657], ledger.Trials.Select(t => t.Result!.Metrics["test_accuracy"]));
        // Today's expansion of the journaled spec gives the journaled ids: trial identity did not move.
        var submitted = Assert.IsType<SweepSubmitted>(Events("golden-packed.jsonl")[0]);
        Assert.Equal(ledger.Trials.Select(t => t.Id), SweepExpander.Expand(SweepFile.Parse(submitted.YamlText, submitted.FileName)).Select(p => p.TrialId));
        Assert.Equal(submitted.SpecHash, CanonicalSpec.Of(SweepFile.Parse(submitted.YamlText, submitted.FileName)).Hash);
    }
}
