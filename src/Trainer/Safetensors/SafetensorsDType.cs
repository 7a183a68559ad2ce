using TorchSharp;

namespace Orchestrator.Trainer.Safetensors;

/// <summary>The safetensors dtype names this library reads and writes, and their TorchSharp equivalents.</summary>
public static class SafetensorsDType
{
    private sealed record Entry(string Name, torch.ScalarType ScalarType, int Size, int WriterRank);

    // WriterRank mirrors the declaration order of the Rust crate's `Dtype` enum; its writer lays tensors out by
    // descending dtype (then by name) so that larger-alignment data comes first.
    private static readonly Entry[] Entries =
    [
        new("BOOL", torch.ScalarType.Bool, 1, 0),
        new("U8", torch.ScalarType.Byte, 1, 1),
        new("I8", torch.ScalarType.Int8, 1, 2),
        new("I16", torch.ScalarType.Int16, 2, 3),
        new("F16", torch.ScalarType.Float16, 2, 4),
        new("BF16", torch.ScalarType.BFloat16, 2, 5),
        new("I32", torch.ScalarType.Int32, 4, 6),
        new("F32", torch.ScalarType.Float32, 4, 7),
        new("F64", torch.ScalarType.Float64, 8, 8),
        new("I64", torch.ScalarType.Int64, 8, 9),
    ];

    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    public static bool TryFromName(string name, out torch.ScalarType scalarType)
    {
        var entry = Entries.FirstOrDefault(e => e.Name == name);
        scalarType = entry?.ScalarType ?? default;
        return entry is not null;
    }

    public static string NameOf(torch.ScalarType scalarType) =>
        Find(scalarType).Name;

    public static int SizeOf(torch.ScalarType scalarType) => Find(scalarType).Size;

    internal static int WriterRank(torch.ScalarType scalarType) => Find(scalarType).WriterRank;

    private static Entry Find(torch.ScalarType scalarType) =>
        Entries.FirstOrDefault(e => e.ScalarType == scalarType)
        ?? throw new NotSupportedException($"Tensor dtype {scalarType} has no safetensors equivalent here (supported: {string.Join(", ", Entries.Select(e => e.Name))}).");
}
