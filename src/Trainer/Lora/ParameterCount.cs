using TorchSharp;

namespace Orchestrator.Trainer.Lora;

/// <summary>Counts a model's parameters (each tensor once, however many paths reach it).</summary>
public static class ParameterCount
{
    public static long Total(torch.nn.Module model) => model.parameters().Sum(p => p.numel());

    public static long Trainable(torch.nn.Module model) => model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
}
