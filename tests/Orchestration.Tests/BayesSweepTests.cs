using System.Globalization;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Sweeps;
using Orchestrator.Silo.Persistence;
using Orchestrator.Sweeps;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// method: bayes. Suggestions are made from the ledger as slots ask for work, journaled before they are leased, and
/// replay rebuilds TPE from the results without suggesting anything itself.
/// </summary>
public sealed class BayesSweepTests : IAsyncLifetime
{
    private const string Name = "bayes-by-hand";
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly WorkerSlot Worker = new("hand/0", "hand", "cpu", 0);

    private static string Spec(int runCap = 14, int parallel = 3) => $$"""
        name: {{Name}}
        seed: 5
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        method: bayes
        run_cap: {{runCap}}
        parallel: {{parallel}}
        parameters:
          lr: { distribution: log_uniform_values, min: 0.0001, max: 0.1 }
          rank: { values: [1, 2, 4, 8, 16] }
          dropout: { distribution: q_uniform, min: 0, max: 0.3, q: 0.05 }
          max_steps: { value: 10 }
        """;

    private readonly string _dataDir = SweepCluster.NewDataDir();
    private SweepCluster? _cluster;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        SweepCluster.TryDelete(_dataDir);
    }

    /// <summary>A made-up accuracy with its best at lr 0.01, rank 8.</summary>
    private static double Accuracy(IReadOnlyDictionary<string, ParameterValue> config)
    {
        double lr = config["lr"].AsNumber!.Value, rank = config["rank"].AsNumber!.Value;
        return 0.9 - 0.05 * Math.Pow(Math.Log10(lr) + 2, 2) - 0.01 * Math.Pow(Math.Log2(rank) - 3, 2);
    }

    private static TrialCompletion Completion(string trial, int attempt, double accuracy) =>
        new(trial, attempt, new Dictionary<string, double> { ["test_accuracy"] = accuracy }, 10, 100, 10, 0.1, false, null, null);

    // --- the ledger alone ---------------------------------------------------------------------------------------

    /// <summary>Plays a bayes sweep through a ledger: suggest for free slots, lease, complete the oldest, until run_cap.</summary>
    private static List<SweepEvent> Play(int runCap, int parallel, int stopAfterEvents = int.MaxValue, List<SweepEvent>? start = null)
    {
        var ledger = new SweepLedger();
        var events = new List<SweepEvent>();
        void Apply(SweepEvent e) { ledger.Apply(JournalJson.Deserialize<SweepEvent>(JournalJson.Serialize(e))); events.Add(e); }
        foreach (var e in start ?? [SweepPlan.Of(SweepFile.Parse(Spec(runCap, parallel), "b.yaml")).Submitted(T0)]) Apply(e);
        while (!ledger.AllTerminal && events.Count < stopAfterEvents)
        {
            var free = parallel - ledger.Count(TrialState.Running);
            foreach (var s in BayesSuggestions.Next(ledger, free - ledger.Count(TrialState.Queued), T0)) Apply(s);
            foreach (var t in ledger.Queued.Take(free).ToList()) Apply(new TrialLeased(T0, t.Id, 1, "w"));
            var oldest = ledger.Trials.FirstOrDefault(t => t.State == TrialState.Running);
            if (oldest is null) break;
            Apply(new TrialCompleted(T0, oldest.Id, 1, Completion(oldest.Id, 1, Accuracy(oldest.ConfigValues))));
        }
        return events;
    }

    private static List<string> Suggestions(IEnumerable<SweepEvent> events) =>
        events.OfType<TrialSuggested>().Select(s => $"{s.Number}:{s.Trial.Id}").ToList();

    [Fact]
    public void The_same_seed_and_results_in_the_same_order_give_the_same_suggestions_up_to_run_cap_each_once()
    {
        var first = Play(30, 4);
        var again = Play(30, 4);
        Assert.Equal(Suggestions(first), Suggestions(again));
        Assert.Equal(30, Suggestions(first).Count);
        Assert.Equal(Enumerable.Range(0, 30), first.OfType<TrialSuggested>().Select(s => s.Number));
        Assert.Equal(30, first.OfType<TrialSuggested>().Select(s => s.Trial.Id).Distinct().Count());
    }

    [Fact]
    public void A_ledger_replayed_from_the_journal_mid_sweep_continues_with_the_suggestions_the_live_one_made()
    {
        var whole = Play(30, 4);
        var cut = whole.Take(whole.Count / 2).ToList();
        // Replay the first half (as an activation after a crash does) and play on: nothing repeated, nothing lost.
        var resumed = Play(30, 4, start: cut);
        Assert.Equal(Suggestions(whole), Suggestions(resumed));
    }

    [Fact]
    public void Tpe_suggestions_after_the_startup_trials_beat_the_startup_trials()
    {
        var events = Play(40, 2);
        var scores = events.OfType<TrialCompleted>().Select(c => c.Completion.Metrics["test_accuracy"]).ToList();
        Assert.True(scores.Skip(20).Average() > scores.Take(10).Average(),
            $"startup mean {scores.Take(10).Average():F4}, after {scores.Skip(20).Average():F4}");
    }

    [Fact]
    public void A_small_space_is_exhausted_without_repeating_a_trial_and_the_sweep_finishes()
    {
        var spec = SweepFile.Parse(Spec(50, 2).Replace("lr: { distribution: log_uniform_values, min: 0.0001, max: 0.1 }", "lr: { values: [0.001, 0.01] }")
            .Replace("dropout: { distribution: q_uniform, min: 0, max: 0.3, q: 0.05 }", "dropout: { value: 0 }"), "b.yaml");
        var events = Play(50, 2, start: [SweepPlan.Of(spec).Submitted(T0)]);
        Assert.Equal(10, events.OfType<TrialSuggested>().Select(s => s.Trial.Id).Distinct().Count()); // 2 × 5 points
        Assert.Single(events.OfType<SearchExhausted>());
    }

    // --- the grain ----------------------------------------------------------------------------------------------

    private async Task<SweepCluster> StartAsync() => _cluster = await SweepCluster.StartAsync(1, _dataDir, slotsPerSilo: 0);

    /// <summary>Leases what the slot gets and completes the leases with <see cref="Accuracy"/>, <paramref name="rounds"/> times.</summary>
    private static async Task RunAsync(ISweepGrain sweep, int rounds, int keepRunning = 0)
    {
        for (int i = 0; i < rounds; i++)
        {
            var leases = await sweep.LeaseAsync(Worker, 8);
            var trials = (await sweep.GetTrialsAsync()).ToDictionary(t => t.TrialId);
            foreach (var lease in leases.Skip(keepRunning))
                await sweep.CompleteTrialAsync(Completion(lease.TrialId, lease.Attempt, Accuracy(trials[lease.TrialId].Config)));
        }
    }

    private async Task<List<TrialSuggested>> JournaledSuggestionsAsync()
    {
        using var journal = new FileEventJournal(Path.Combine(_dataDir, "state", "journal"));
        var records = await journal.ReadAllAsync(JournalStreams.Sweep(Name), CancellationToken.None);
        return records.Select(r => JournalJson.Deserialize<SweepEvent>(r)).OfType<TrialSuggested>().ToList();
    }

    [Fact]
    public async Task A_bayes_sweep_suggests_when_slots_ask_never_more_than_parallel_and_finishes_at_run_cap()
    {
        var cluster = await StartAsync();
        var submitted = await cluster.SubmitAsync(Name, Spec());
        Assert.Contains("bayes (TPE) suggests up to 14 trials", submitted.Message);
        Assert.Equal(0, (await cluster.Sweep(Name).GetStatusAsync()).Total);

        var first = await cluster.Sweep(Name).LeaseAsync(Worker, 8);
        Assert.Equal(3, first.Count); // parallel: 3, three different points
        Assert.Equal(3, first.Select(l => System.Text.Json.JsonSerializer.Serialize(l.Config)).Distinct().Count());
        foreach (var lease in first)
            await cluster.Sweep(Name).CompleteTrialAsync(Completion(lease.TrialId, lease.Attempt, 0.5));
        await RunAsync(cluster.Sweep(Name), 10);

        var status = await cluster.Sweep(Name).GetStatusAsync();
        Assert.Equal((SweepState.Finished, 14, 14), (status.State, status.Total, status.Succeeded));
        var suggested = await JournaledSuggestionsAsync();
        Assert.Equal(Enumerable.Range(0, 14), suggested.Select(s => s.Number));
        Assert.Equal((await cluster.Sweep(Name).GetTrialsAsync()).Select(t => t.TrialId).Order(), suggested.Select(s => s.Trial.Id).Order());
    }

    [Fact]
    public async Task A_restarted_silo_continues_a_bayes_sweep_with_no_suggestion_lost_or_repeated_and_raising_run_cap_adds_suggestions()
    {
        var cluster = await StartAsync();
        await cluster.SubmitAsync(Name, Spec());
        await RunAsync(cluster.Sweep(Name), 3, keepRunning: 1); // one trial of each round stays running
        var before = await JournaledSuggestionsAsync();
        var running = (await cluster.Sweep(Name).GetTrialsAsync()).Where(t => t.State == TrialState.Running).Select(t => t.TrialId).ToList();
        Assert.NotEmpty(running);

        await cluster.DisposeAsync(); // the whole silo goes; the journal stays
        _cluster = null;
        cluster = await StartAsync();
        var trials = await cluster.Sweep(Name).GetTrialsAsync();
        Assert.Equal(before.Select(s => s.Trial.Id).Order(), trials.Select(t => t.TrialId).Order());

        // The running trials are handed out again (same slot: same lease), then the search goes on to run_cap.
        var again = await cluster.Sweep(Name).LeaseAsync(Worker, 8);
        Assert.Subset(again.Select(l => l.TrialId).ToHashSet(), running.ToHashSet());
        foreach (var lease in again)
            await cluster.Sweep(Name).CompleteTrialAsync(Completion(lease.TrialId, lease.Attempt, 0.5));
        await RunAsync(cluster.Sweep(Name), 12);
        var status = await cluster.Sweep(Name).GetStatusAsync();
        Assert.Equal((SweepState.Finished, 14, 14), (status.State, status.Total, status.Succeeded));
        var suggested = await JournaledSuggestionsAsync();
        Assert.Equal(Enumerable.Range(0, 14), suggested.Select(s => s.Number));
        Assert.Equal(before.Select(s => s.Trial.Id), suggested.Take(before.Count).Select(s => s.Trial.Id));
        Assert.Equal(14, suggested.Select(s => s.Trial.Id).Distinct().Count());

        // Raising run_cap reopens the finished sweep for more suggestions.
        var raised = await cluster.SubmitAsync(Name, Spec(runCap: 18));
        Assert.Equal(SubmitOutcome.Extended, raised.Outcome);
        Assert.Contains("run_cap raised to 18: up to 4 more suggestions", raised.Message);
        await RunAsync(cluster.Sweep(Name), 6);
        status = await cluster.Sweep(Name).GetStatusAsync();
        Assert.Equal((SweepState.Finished, 18, 18), (status.State, status.Total, status.Succeeded));
    }

    [Fact]
    public async Task A_paused_bayes_sweep_suggests_nothing_until_resumed()
    {
        var cluster = await StartAsync();
        await cluster.SubmitAsync(Name, Spec());
        await cluster.Sweep(Name).ControlAsync(SweepCommand.Pause);
        Assert.Empty(await cluster.Sweep(Name).LeaseAsync(Worker, 8));
        Assert.Empty(await JournaledSuggestionsAsync());
        await cluster.Sweep(Name).ControlAsync(SweepCommand.Resume);
        Assert.Equal(3, (await cluster.Sweep(Name).LeaseAsync(Worker, 8)).Count);
        Assert.Equal(3, (await JournaledSuggestionsAsync()).Count);
    }
}
