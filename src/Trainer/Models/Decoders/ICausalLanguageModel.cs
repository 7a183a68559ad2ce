using Orchestrator.Trainer.Lora;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>
/// A decoder language model as transformers' <c>*ForCausalLM</c>: token ids to next-token logits. Datasets, losses,
/// evaluation and generation talk to this, whatever the family (llama, mistral, qwen2, qwen3, gpt2).
/// </summary>
public interface ICausalLanguageModel : IDisposable, IModulesToSave
{
    /// <summary>
    /// Makes the modules <paramref name="names"/> name train in full beside an adapter (PEFT's modules_to_save), before
    /// the adapter is injected; <see cref="IModulesToSave.ModulesToSave"/> then lists their full paths (<see cref="DecoderModulesToSave"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A name matches no module with weights, or names a head tied to the embedding.</exception>
    void TrainInFull(IReadOnlyList<string> names);

    int VocabSize { get; }

    /// <summary>The most positions the model was built for (max_position_embeddings / n_positions).</summary>
    int MaxPositions { get; }

    /// <summary>
    /// Logits [B, T, V] for int64 token ids [B, T]. <paramref name="attentionMask"/> [B, T] is 1 on real tokens and 0 on
    /// padding (padded keys are never attended to); <paramref name="positionIds"/> [B, T] default to the count of real
    /// tokens before each one (<see cref="CausalMasks.PositionIds"/>), so left or right padding never changes a real
    /// token's logits, and packed examples restart their positions when the caller passes them.
    /// </summary>
    Tensor Logits(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null);
}
