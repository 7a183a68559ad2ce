using System.Collections;
using System.Text.Json;
using Parquet.Serialization;

namespace Orchestrator.Trials.Data;

/// <summary>One row of a dataset file, with where it came from; <see cref="Error"/> when it could not be read as an object.</summary>
/// <param name="Number">The JSONL line (1-based) or the Parquet row (1-based).</param>
public sealed record DatasetRow(string File, long Number, bool IsParquet, IReadOnlyDictionary<string, object?>? Fields, string? Error = null)
{
    /// <summary>`file:line` for JSONL, `file row N` for Parquet: what every message about the row names.</summary>
    public string Location => IsParquet ? $"{File} row {Number}" : $"{File}:{Number}";
}

/// <summary>
/// Reads the rows of a JSONL file (one JSON object a line, blank lines skipped) or a Parquet file (read with Parquet.Net)
/// as plain values: string, long, double, bool, null, lists and string-keyed dictionaries, so the instruction loader
/// and the task probe read the same rows the same way.
/// </summary>
public static class DatasetRows
{
    public const string Jsonl = ".jsonl";
    public const string Parquet = ".parquet";
    public static readonly IReadOnlyList<string> Extensions = [Jsonl, Parquet];

    public static bool IsRowFile(string path) => Extensions.Any(ext => path.EndsWith(ext, StringComparison.OrdinalIgnoreCase));

    public static IEnumerable<DatasetRow> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"dataset file '{path}' does not exist", path);
        return path.EndsWith(Parquet, StringComparison.OrdinalIgnoreCase) ? ReadParquet(path) : ReadJsonl(path);
    }

    private static IEnumerable<DatasetRow> ReadJsonl(string path)
    {
        long number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            DatasetRow row;
            try
            {
                using var document = JsonDocument.Parse(line);
                row = document.RootElement.ValueKind == JsonValueKind.Object
                    ? new DatasetRow(path, number, false, (IReadOnlyDictionary<string, object?>)FromJson(document.RootElement)!)
                    : new DatasetRow(path, number, false, null, $"expected a JSON object, found {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }
            catch (JsonException e)
            {
                row = new DatasetRow(path, number, false, null, $"not valid JSON ({e.Message})");
            }
            yield return row;
        }
    }

    private static IEnumerable<DatasetRow> ReadParquet(string path)
    {
        IList<Dictionary<string, object?>> data;
        try
        {
            using var stream = File.OpenRead(path);
            var result = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult();
            data = result.Data.Select(row => row.ToDictionary(kv => kv.Key, kv => kv.Value)).ToList()!;
        }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"'{path}' could not be read as Parquet: {e.Message}", e);
        }
        for (var i = 0; i < data.Count; i++)
            yield return new DatasetRow(path, i + 1, true, (IReadOnlyDictionary<string, object?>)Plain(data[i])!);
    }

    private static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal),
        _ => null,
    };

    /// <summary>Parquet.Net's untyped values (dictionaries for structs, lists for repeated fields) as the plain ones JSONL gives.</summary>
    private static object? Plain(object? value) => value switch
    {
        null or string or bool or double => value,
        long or int or short or sbyte or byte or uint or ushort => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        float f => (double)f,
        IDictionary<string, object?> dict => dict.ToDictionary(kv => kv.Key, kv => Plain(kv.Value), StringComparer.Ordinal),
        IDictionary dict => dict.Keys.Cast<object>().ToDictionary(k => k.ToString()!, k => Plain(dict[k]), StringComparer.Ordinal),
        IEnumerable list => list.Cast<object?>().Select(Plain).ToList(),
        _ => value.ToString(),
    };
}
