using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// `gradient_checkpointing`: a transformer layer run through <see cref="Run"/> keeps only its input for the backward;
/// its activations are freed as the forward goes, and the backward recomputes them (with gradients on) before
/// back-propagating through them, as transformers' gradient_checkpointing_enable() (torch.utils.checkpoint, the
/// re-entrant form). The recomputation takes the very operations of the forward, so the loss and every gradient are
/// bit for bit those without it; LoRA dropout would draw new masks, so the option refuses dropout (see TrainingOptions).
/// Switched on per thread by the training loop around its forward (<see cref="Enable"/>): evaluation and trials without
/// the option call the layer directly.
/// </summary>
public static class GradientCheckpointing
{
    [ThreadStatic] private static bool _enabled;

    /// <summary>Checkpoints layers run through <see cref="Run"/> on this thread until disposed (when <paramref name="enabled"/>).</summary>
    public static IDisposable Enable(bool enabled)
    {
        var previous = _enabled;
        _enabled = enabled;
        return new Restore(previous);
    }

    /// <summary>
    /// layer(hidden, context...) for one transformer layer; <paramref name="context"/> are the tensors the layer reads
    /// besides its input (rotary cos and sin, the mask), kept alive for the recomputation.
    /// </summary>
    public static Tensor Run(Func<Tensor, Tensor[], Tensor> layer, Tensor hidden, params Tensor[] context)
    {
        if (!_enabled || !is_grad_enabled()) return layer(hidden, context);
        // The first layer's input (a frozen embedding's output) needs no gradient, yet the node must exist for the
        // adapters inside to get theirs (transformers' enable_input_require_grads).
        var input = hidden.requires_grad ? hidden : hidden.detach().requires_grad_(true);
        object[] vars = [input, layer, .. context];
        return CheckpointedLayer.apply(vars);
    }

    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => _enabled = previous;
    }
}

/// <summary>The autograd node of one checkpointed layer: forward without a graph, backward by recomputing it with one.</summary>
public sealed class CheckpointedLayer : autograd.SingleTensorFunction<CheckpointedLayer>
{
    private const string LayerKey = "layer";

    public override string Name => nameof(CheckpointedLayer);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var layer = (Func<Tensor, Tensor[], Tensor>)vars[1];
        var context = vars.Skip(2).Cast<Tensor>().ToArray();
        ctx.save_for_backward([input, .. context]);
        ctx.save_data(LayerKey, layer);
        using var scope = NewDisposeScope(); // the layer's activations go as soon as it returns
        return layer(input, context).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var saved = ctx.get_saved_variables();
        var layer = (Func<Tensor, Tensor[], Tensor>)ctx.get_data(LayerKey);
        Tensor gradInput;
        using (var scope = NewDisposeScope())
        {
            var input = saved[0].detach().requires_grad_(true);
            Tensor output;
            using (enable_grad()) output = layer(input, saved.Skip(1).ToArray());
            autograd.backward([output], [grad_output]); // the adapters' gradients accumulate as without checkpointing
            gradInput = input.grad!.MoveToOuterDisposeScope();
        }
        foreach (var t in saved) t.Dispose();
        List<Tensor> grads = [gradInput, null!];
        for (var i = 1; i < saved.Count; i++) grads.Add(null!);
        return grads;
    }
}
