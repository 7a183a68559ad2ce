using System.Text.Json.Nodes;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Grains.Journal;

namespace Orchestrator.Grains.Leaderboards;

/// <summary>
/// Results ranked by their sweep's objective. Each entry is keyed by sweep + trial and journaled once, so retries,
/// duplicate completions and replays after a crash never list a trial twice.
/// </summary>
public sealed class LeaderboardGrain(IEventJournal journal) : Grain, ILeaderboardGrain
{
    private readonly Dictionary<string, LeaderboardEntry> _entries = new(StringComparer.Ordinal);
    private string Stream => JournalStreams.Leaderboard(this.GetPrimaryKeyString());

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var record in await journal.ReadAllAsync(Stream, cancellationToken))
        {
            var entry = JsonNode.Parse(record) is JsonObject { } json && !json.ContainsKey("trial")
                ? LegacyLeaderboardEntry.Upgrade(JournalJson.Deserialize<LegacyLeaderboardEntry>(record))
                : JournalJson.Deserialize<LeaderboardEntry>(record);
            _entries.TryAdd(entry.Key, entry);
        }
    }

    public async Task<int> RecordAsync(IReadOnlyList<LeaderboardEntry> entries, CancellationToken cancellationToken = default)
    {
        var fresh = entries.Where(e => !_entries.ContainsKey(e.Key)).DistinctBy(e => e.Key).ToList();
        if (fresh.Count == 0) return 0;
        await journal.AppendAsync(Stream, fresh.Select(e => JournalJson.Serialize(e)).ToList(), cancellationToken);
        foreach (var e in fresh) _entries[e.Key] = e;
        return fresh.Count;
    }

    public Task<IReadOnlyList<LeaderboardEntry>> GetAsync(int top, CancellationToken cancellationToken = default)
    {
        // A global board mixes sweeps, but they share one metric (it is part of the key), so any entry's goal ranks all.
        var objective = _entries.Values.FirstOrDefault()?.Objective;
        var ranked = objective is null ? [] : objective.RankTrials(_entries.Values, e => e.Score, e => e.Trial.Pruned, e => e.Key);
        return Task.FromResult<IReadOnlyList<LeaderboardEntry>>((top > 0 ? ranked.Take(top) : ranked).ToList());
    }
}
