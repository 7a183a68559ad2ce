using Orchestrator.Trainer.Models.Decoders;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// The one forward call of training and evaluation: a decoder given [B, 3, T] inputs (ids, attention mask, position ids,
/// as instruction datasets batch them) gets all three through <see cref="ICausalLanguageModel.Logits"/>; every other
/// model and input goes through its forward.
/// </summary>
public static class ModelForward
{
    public static Tensor Run(nn.Module<Tensor, Tensor> model, Tensor inputs) =>
        inputs.dim() == 3 && model is ICausalLanguageModel decoder
            ? decoder.Logits(inputs.select(1, 0), inputs.select(1, 1), inputs.select(1, 2))
            : model.forward(inputs);
}
