namespace Orchestrator.Trials.Models.Llama;

/// <summary>The Hugging Face model_types that are Llama's decoder with switches, read by <see cref="LlamaConfig"/>.</summary>
public static class RotaryDecoderTypes
{
    public const string Llama = "llama";
    public const string Mistral = "mistral";
    public const string Qwen2 = "qwen2";
    public const string Qwen3 = "qwen3";

    public static IReadOnlyList<string> All { get; } = [Llama, Mistral, Qwen2, Qwen3];
}
