using System.Collections.Concurrent;
using Orchestrator.Storage;

namespace Orchestrator.Dashboard.Feeds;

/// <summary>This process's one <see cref="SweepFeed"/> per sweep name.</summary>
public sealed class SweepFeeds(IClusterClient client, IArtifactStore store, DashboardOptions options)
{
    private readonly ConcurrentDictionary<string, SweepFeed> _feeds = new(StringComparer.Ordinal);

    public SweepFeed this[string sweep] => _feeds.GetOrAdd(sweep, name => new SweepFeed(name, client, store, options));
}
