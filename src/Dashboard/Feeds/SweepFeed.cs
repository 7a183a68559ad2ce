using System.Threading.Channels;
using Orchestrator.Dashboard.Api;
using Orchestrator.Storage;

namespace Orchestrator.Dashboard.Feeds;

/// <summary>
/// One sweep seen from this process: a cache of its trials kept current by asking the sweep grain for what changed
/// since the last version (<see cref="ISweepGrain.GetChangesAsync"/>). While any browser watches, one loop polls
/// every <see cref="DashboardOptions.PollInterval"/> and fans each change out to every subscriber; without watchers a
/// request refreshes a stale cache itself. Either way the grain sees at most one short call per interval from this
/// process, however many tabs are open. Learning curves asked for once are kept and extended from the same changes; a
/// finished trial's curve is read from its stored metrics.jsonl, which outlives the grain's memory (a restart).
/// </summary>
public sealed class SweepFeed(string name, IClusterClient client, IArtifactStore store, DashboardOptions options)
{
    /// <summary>Changed trials carried by one pushed update; more than this and the page re-reads what it shows.</summary>
    public const int UpdateTrialLimit = 200;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<TrialRecord> _trials = [];
    private readonly Dictionary<string, List<MetricPoint>> _curves = new(StringComparer.Ordinal);
    private readonly List<Channel<SweepUpdate>> _subscribers = [];
    private SweepSnapshot? _snapshot;
    private readonly Lock _analysisGate = new();
    private (int Finished, MetricObjective Objective, SweepAnalysis Analysis)? _analysis;
    private long _version;
    private Task? _loop;

    public string Name { get; } = name;

    private ISweepGrain Grain => client.GetGrain<ISweepGrain>(Name);

    /// <summary>The cached sweep, refreshed first when older than the poll interval.</summary>
    public async Task<SweepSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _snapshot);
        if (current is not null && DateTimeOffset.UtcNow - current.HeardAt < options.PollInterval) return current;
        await RefreshAsync(cancellationToken);
        return Volatile.Read(ref _snapshot)!;
    }

    /// <summary>
    /// Metric histories: a finished trial's from its metrics.jsonl (whole, even after the silo restarted), any other's
    /// from the grain; fetched once per trial, then extended from the polled changes.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>>> GetCurvesAsync(IReadOnlyList<string> trialIds, CancellationToken cancellationToken)
    {
        List<string> missing;
        lock (_gate) missing = trialIds.Where(id => !_curves.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
        {
            var snapshot = await GetAsync(cancellationToken);
            var finished = snapshot.Trials.Where(t => t.State is TrialState.Succeeded or TrialState.Pruned or TrialState.Failed or TrialState.Cancelled)
                .Select(t => t.TrialId).ToHashSet(StringComparer.Ordinal);
            var stored = new Dictionary<string, IReadOnlyList<MetricPoint>>(StringComparer.Ordinal);
            foreach (var id in missing.Where(finished.Contains))
                if (ArtifactPaths.IsValidName(id) && await TrialMetricsFile.ReadAsync(store, Name, id, cancellationToken) is { Count: > 0 } points)
                    stored[id] = points;
            var asked = missing.Where(id => !stored.ContainsKey(id)).ToList();
            var fetched = asked.Count > 0 ? await Grain.GetCurvesAsync(asked, cancellationToken) : new Dictionary<string, IReadOnlyList<MetricPoint>>();
            lock (_gate)
                foreach (var (id, points) in stored.Concat(fetched))
                    _curves.TryAdd(id, [.. points]);
        }
        lock (_gate)
            return trialIds.Distinct().Where(_curves.ContainsKey)
                .ToDictionary(id => id, id => (IReadOnlyList<MetricPoint>)_curves[id].ToList());
    }

    /// <summary>
    /// The page's plots and importance, computed again only when a trial has finished since (or the objective changed):
    /// they read finished trials only, and fitting the importance forest is the costly part of a page.
    /// </summary>
    public SweepAnalysis GetAnalysis(SweepSnapshot snapshot)
    {
        var finished = snapshot.Trials.Count(t => t.State is TrialState.Succeeded or TrialState.Pruned);
        lock (_analysisGate)
        {
            if (_analysis is { } cached && cached.Finished == finished && cached.Objective == snapshot.Status.Objective) return cached.Analysis;
            var analysis = SweepAnalyzer.Analyze(snapshot.Trials, snapshot.Status.Objective);
            _analysis = (finished, snapshot.Status.Objective, analysis);
            return analysis;
        }
    }

    /// <summary>A browser's stream of updates; disposing the subscription ends it. The first update is the current status.</summary>
    public async Task<(ChannelReader<SweepUpdate> Updates, IDisposable Subscription)> SubscribeAsync(CancellationToken cancellationToken)
    {
        var snapshot = await GetAsync(cancellationToken);
        // A slow browser loses old updates, not memory: each update is complete for status, and the page re-reads its table.
        var channel = Channel.CreateBounded<SweepUpdate>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.DropOldest });
        channel.Writer.TryWrite(new SweepUpdate(snapshot.Status, [], false));
        lock (_gate)
        {
            _subscribers.Add(channel);
            if (_loop is null || _loop.IsCompleted) _loop = Task.Run(PollWhileWatchedAsync, CancellationToken.None);
        }
        return (channel.Reader, new Subscription(this, channel));
    }

    public int Subscribers { get { lock (_gate) return _subscribers.Count; } }

    private async Task PollWhileWatchedAsync()
    {
        while (true)
        {
            lock (_gate)
                if (_subscribers.Count == 0) { _loop = null; return; }
            try
            {
                await RefreshAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The grain's silo may be restarting: the next poll tries again; browsers keep their last view.
            }
            await Task.Delay(options.PollInterval);
        }
    }

    /// <summary>
    /// Asks the grain now, whatever the poll interval, and sends what changed to every subscriber: the last word of a
    /// process that stops (a `run` whose sweep ended) before its streams close. A grain that does not answer is let go.
    /// </summary>
    public async Task RefreshNowAsync(TimeSpan timeout)
    {
        using var bounded = new CancellationTokenSource(timeout);
        try
        {
            await RefreshAsync(bounded.Token, force: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Stopping anyway: the page keeps the last view it had.
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken, bool force = false)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var current = Volatile.Read(ref _snapshot);
            if (!force && current is not null && DateTimeOffset.UtcNow - current.HeardAt < options.PollInterval / 2) return; // another caller just did
            var changes = await Grain.GetChangesAsync(_version, cancellationToken);
            SweepUpdate update;
            Channel<SweepUpdate>[] subscribers;
            lock (_gate)
            {
                // A version that went backwards is a grain that re-activated from its journal: start over.
                if (changes.Version < _version) { _trials.Clear(); _index.Clear(); }
                foreach (var trial in changes.Trials)
                {
                    if (_index.TryGetValue(trial.TrialId, out var at)) _trials[at] = trial;
                    else { _index[trial.TrialId] = _trials.Count; _trials.Add(trial); }
                    if (_curves.TryGetValue(trial.TrialId, out var curve)) Extend(curve, trial);
                }
                _version = changes.Version;
                Volatile.Write(ref _snapshot, new SweepSnapshot(changes.Status, _trials.ToArray(), DateTimeOffset.UtcNow));
                update = new SweepUpdate(changes.Status, changes.Trials.Count <= UpdateTrialLimit ? changes.Trials : [], changes.Trials.Count > UpdateTrialLimit);
                subscribers = [.. _subscribers];
            }
            if (current is null || changes.Trials.Count > 0 || !Equals(current.Status, changes.Status))
                foreach (var s in subscribers) s.Writer.TryWrite(update);
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The latest metrics of a changed trial become the next point of its curve (a repeated step replaces the later points).</summary>
    private static void Extend(List<MetricPoint> curve, TrialRecord trial)
    {
        if (trial.Metrics.Count == 0) return;
        if (curve.Count > 0 && curve[^1].Step == trial.Step && ReferenceEquals(curve[^1].Metrics, trial.Metrics)) return;
        curve.RemoveAll(p => p.Step > trial.Step);
        if (curve.Count > 0 && curve[^1].Step == trial.Step)
        {
            var merged = new Dictionary<string, double>(curve[^1].Metrics);
            foreach (var (k, v) in trial.Metrics) merged[k] = v;
            curve[^1] = new MetricPoint(trial.Step, merged);
        }
        else curve.Add(new MetricPoint(trial.Step, trial.Metrics));
    }

    private void Unsubscribe(Channel<SweepUpdate> channel)
    {
        lock (_gate) _subscribers.Remove(channel);
        channel.Writer.TryComplete();
    }

    private sealed class Subscription(SweepFeed feed, Channel<SweepUpdate> channel) : IDisposable
    {
        public void Dispose() => feed.Unsubscribe(channel);
    }
}
