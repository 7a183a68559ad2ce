using System.Text;
using System.Text.Json;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Storage;

/// <summary>
/// `metrics.jsonl`: a trial's metric history as the trainer reported it, one JSON object a line
/// (<c>{"step":40,"metrics":{"train_loss":0.31}}</c>), stored next to result.json by the silo that trains it (at each
/// checkpoint and at the end) so a learning curve outlives the sweep grain's memory: a silo restart, or a dashboard
/// started after the run.
/// </summary>
public static class TrialMetricsFile
{
    public const string FileName = "metrics.jsonl";

    private sealed record Line(long Step, IReadOnlyDictionary<string, double> Metrics);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static byte[] Serialize(IEnumerable<MetricPoint> points)
    {
        var text = new StringBuilder();
        foreach (var p in points)
            text.Append(JsonSerializer.Serialize(new Line(p.Step, p.Metrics.Where(m => double.IsFinite(m.Value)).ToDictionary()), Json)).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static IReadOnlyList<MetricPoint> Parse(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => JsonSerializer.Deserialize<Line>(l, Json)!)
            .Select(l => new MetricPoint(l.Step, l.Metrics))];

    public static async Task<string> WriteAsync(IArtifactStore store, string sweep, string trial, IEnumerable<MetricPoint> points, CancellationToken cancellationToken) =>
        await store.WriteAsync(ArtifactPaths.TrialMetrics(sweep, trial), new MemoryStream(Serialize(points)), cancellationToken);

    /// <summary>The stored history, or null when the trial has none (trained before this file existed, or never reported).</summary>
    public static async Task<IReadOnlyList<MetricPoint>?> ReadAsync(IArtifactStore store, string sweep, string trial, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(ArtifactPaths.TrialMetrics(sweep, trial), null, cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return Parse(await reader.ReadToEndAsync(cancellationToken));
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
    }
}
