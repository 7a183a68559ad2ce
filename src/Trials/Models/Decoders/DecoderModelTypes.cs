using System.Text.Json;
using Orchestrator.Trials.Models.Llama;

namespace Orchestrator.Trials.Models.Decoders;

/// <summary>The model_types of Hugging Face decoder folders this project loads, and how to tell one from config.json.</summary>
public static class DecoderModelTypes
{
    public static IReadOnlyList<string> All { get; } = [.. RotaryDecoderTypes.All, Gpt2Config.ModelTypeName];

    /// <summary>The model_type of <paramref name="configPath"/>, checked against <see cref="All"/>.</summary>
    public static string Read(string configPath)
    {
        string? modelType;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(configPath));
            modelType = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("model_type", out var value)
                && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath}: not valid JSON ({e.Message}).", e);
        }
        if (modelType is null)
            throw new InvalidDataException($"{configPath}: no \"model_type\"; supported decoder model types: {string.Join(", ", All)}.");
        if (!All.Contains(modelType))
            throw new InvalidDataException($"{configPath}: model_type '{modelType}' is not a supported decoder; supported: {string.Join(", ", All)}.");
        return modelType;
    }
}
