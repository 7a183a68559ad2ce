using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>PEFT's init_lora_weights methods we train (the config's `init`, without pissa_niter's K).</summary>
public enum LoraInitKind
{
    /// <summary>PEFT's default (init_lora_weights=true): A kaiming-uniform, B zero.</summary>
    Kaiming,
    /// <summary>A ~ N(0, (1/r)²), B zero.</summary>
    Gaussian,
    /// <summary>A, B from W's top-r singular vectors scaled by √σ; the base keeps the residual.</summary>
    Pissa,
    /// <summary>A, B from the QR decomposition of W; the base keeps the residual.</summary>
    Olora,
}

/// <summary>
/// The config's `init`: `kaiming`, `gaussian`, `pissa`, `pissa_niter_K` (PiSSA through a randomized SVD with K ≥ 1
/// subspace iterations, as PEFT parses it) or `olora`. The default value is kaiming; <see cref="ToString"/> is the spelling.
/// </summary>
[JsonConverter(typeof(LoraInitMethodConverter))]
public readonly record struct LoraInitMethod
{
    private const string PissaNiterPrefix = "pissa_niter_";

    /// <summary>The values as a message lists them.</summary>
    public const string Described = "kaiming, gaussian, pissa, pissa_niter_K (K ≥ 1 subspace iterations) or olora";

    public static readonly LoraInitMethod Kaiming = new(LoraInitKind.Kaiming);
    public static readonly LoraInitMethod Gaussian = new(LoraInitKind.Gaussian);
    public static readonly LoraInitMethod Pissa = new(LoraInitKind.Pissa);
    public static readonly LoraInitMethod Olora = new(LoraInitKind.Olora);

    private LoraInitMethod(LoraInitKind kind, int? subspaceIterations = null) => (Kind, SubspaceIterations) = (kind, subspaceIterations);

    /// <summary>PiSSA through a randomized SVD with <paramref name="iterations"/> subspace iterations (`pissa_niter_K`).</summary>
    public static LoraInitMethod PissaNiter(int iterations) =>
        iterations >= 1 ? new(LoraInitKind.Pissa, iterations) : throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "pissa_niter_K needs K ≥ 1");

    public LoraInitKind Kind { get; }
    /// <summary>K of `pissa_niter_K`; null for every other method (plain pissa: a full SVD).</summary>
    public int? SubspaceIterations { get; }

    /// <summary>Whether the method moves part of the base weight into the adapter (PiSSA, OLoRA): the adapter is then saved against the unmodified base.</summary>
    public bool ChangesBase => Kind is LoraInitKind.Pissa or LoraInitKind.Olora;

    public static bool TryParse(string? text, out LoraInitMethod method)
    {
        method = text switch
        {
            "kaiming" => Kaiming,
            "gaussian" => Gaussian,
            "pissa" => Pissa,
            "olora" => Olora,
            _ when text is not null && text.StartsWith(PissaNiterPrefix, StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(PissaNiterPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k >= 1 => PissaNiter(k),
            _ => default,
        };
        return text is not null && method.ToString() == text;
    }

    /// <exception cref="ArgumentException">When <paramref name="text"/> is none of <see cref="Described"/>.</exception>
    public static LoraInitMethod Parse(string text) =>
        TryParse(text, out var method) ? method : throw new ArgumentException($"init must be one of {Described}, got '{text}'", nameof(text));

    public override string ToString() => (Kind, SubspaceIterations) switch
    {
        (LoraInitKind.Pissa, { } k) => PissaNiterPrefix + k.ToString(CultureInfo.InvariantCulture),
        (LoraInitKind.Gaussian, _) => "gaussian",
        (LoraInitKind.Pissa, _) => "pissa",
        (LoraInitKind.Olora, _) => "olora",
        _ => "kaiming",
    };
}

/// <summary>Reads and writes <see cref="LoraInitMethod"/> as its spelling.</summary>
public sealed class LoraInitMethodConverter : JsonConverter<LoraInitMethod>
{
    public override LoraInitMethod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && LoraInitMethod.TryParse(reader.GetString(), out var method)
            ? method
            : throw new JsonException($"init must be one of {LoraInitMethod.Described}");

    public override void Write(Utf8JsonWriter writer, LoraInitMethod value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
