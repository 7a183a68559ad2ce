using System.Text.Json;

namespace Orchestrator.Trainer.Models.HuggingFace;

/// <summary>A sharded checkpoint's <c>model.safetensors.index.json</c>: which shard file holds each tensor.</summary>
public sealed record ShardIndex(IReadOnlyDictionary<string, string> WeightMap)
{
    /// <summary>The shard files, each once, in the order they first appear in sorted tensor order.</summary>
    public IReadOnlyList<string> Files => WeightMap.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).Distinct().ToList();

    public static ShardIndex Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: no \"weight_map\" object.");
            var weights = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String || entry.Value.GetString() is not { Length: > 0 } file
                    || file.Contains('/') || file.Contains('\\') || file.Contains(".."))
                    throw new InvalidDataException($"{path}: tensor '{entry.Name}' maps to '{entry.Value}', not a shard file name in the folder.");
                weights[entry.Name] = file;
            }
            return new ShardIndex(weights);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }

    /// <summary>Writes an index for <paramref name="weightMap"/> (tensor → shard file), with transformers' total_size metadata.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string> weightMap, long totalSize)
    {
        var json = JsonSerializer.Serialize(new
        {
            metadata = new { total_size = totalSize },
            weight_map = new SortedDictionary<string, string>(weightMap.ToDictionary(), StringComparer.Ordinal),
        }, new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(path, json);
    }
}
