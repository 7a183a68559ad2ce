using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>The masks and positions every decoder family shares.</summary>
public static class CausalMasks
{
    /// <summary>
    /// Position ids [B, T]: 0, 1, 2, … without a mask; with one, the number of real tokens before each token (padding gets
    /// 1, as transformers' generate), so a left-padded row sees the same positions as the unpadded one.
    /// </summary>
    public static Tensor PositionIds(Tensor inputIds, Tensor? attentionMask)
    {
        long batch = inputIds.shape[0], tokens = inputIds.shape[1];
        if (attentionMask is null)
            return torch.arange(tokens, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0).expand(batch, tokens);
        using var scope = torch.NewDisposeScope();
        var mask = attentionMask.to(ScalarType.Int64);
        var positions = mask.cumsum(-1) - 1;
        return positions.masked_fill(mask.eq(0), 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Where attention is blocked (true): keys after the query, and padded keys. [T, T] without a mask, [B, 1, T, T] with one.
    /// </summary>
    /// <param name="slidingWindow">Mistral's window: keys <paramref name="slidingWindow"/> or more tokens back are blocked too.</param>
    public static Tensor Blocked(long tokens, Tensor? attentionMask, Device device, int? slidingWindow = null)
    {
        using var scope = torch.NewDisposeScope();
        var causal = torch.ones(tokens, tokens, dtype: ScalarType.Bool, device: device).triu(1);
        if (slidingWindow is { } window)
            causal = causal.logical_or(torch.ones(tokens, tokens, dtype: ScalarType.Bool, device: device).tril(-window));
        if (attentionMask is null) return causal.MoveToOuterDisposeScope();
        var padded = attentionMask.eq(0).to(device).unsqueeze(1).unsqueeze(1); // [B, 1, 1, T]
        return causal.unsqueeze(0).unsqueeze(0).logical_or(padded).MoveToOuterDisposeScope();
    }
}
