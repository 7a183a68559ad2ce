using Orchestrator.Grains.Journal;
using StackExchange.Redis;

namespace Orchestrator.Silo.Persistence;

/// <summary>Cluster mode's journal: one Redis list per stream (RPUSH appends atomically, LRANGE replays).</summary>
public sealed class RedisEventJournal(IConnectionMultiplexer redis, string keyPrefix) : IEventJournal
{
    public async Task AppendAsync(string stream, IReadOnlyList<string> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0) return;
        await redis.GetDatabase().ListRightPushAsync(Key(stream), events.Select(e => (RedisValue)e).ToArray());
    }

    public async Task<IReadOnlyList<string>> ReadAllAsync(string stream, CancellationToken cancellationToken = default)
    {
        var values = await redis.GetDatabase().ListRangeAsync(Key(stream));
        return values.Select(v => v.ToString()).ToList();
    }

    private RedisKey Key(string stream) => $"{keyPrefix}:journal:{stream}";
}
