using Orchestrator.Trainer.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Generation;

/// <summary>
/// Continues a prompt with a decoder, one token at a time over the whole sequence (no key/value cache: these are small
/// models and short generations): greedy at temperature 0, else sampled from softmax(logits / temperature) with a
/// generator seeded from <c>seed</c>, so a seed gives the same text every time. Stops at a stop id (EOS) or after
/// maxNewTokens, or when the model's positions run out.
/// </summary>
public static class TextGenerator
{
    public static List<int> Generate(ICausalLanguageModel model, IReadOnlyList<int> prompt, int maxNewTokens, double temperature, long seed, IReadOnlySet<int> stopIds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        if (prompt.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        var module = (nn.Module)model;
        var wasTraining = module.training;
        module.eval();
        var ids = prompt.Select(id => (long)id).ToList();
        var generated = new List<int>();
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        try
        {
            using var noGrad = torch.no_grad();
            while (generated.Count < maxNewTokens && ids.Count < model.MaxPositions)
            {
                using var scope = torch.NewDisposeScope();
                var input = torch.tensor(ids.ToArray(), [1, ids.Count], dtype: ScalarType.Int64);
                var last = model.Logits(input)[0, -1].to_type(ScalarType.Float64);
                var next = temperature <= 0
                    ? (int)last.argmax().item<long>()
                    : (int)torch.multinomial(torch.softmax(last / temperature, 0), 1, false, generator).item<long>();
                generated.Add(next);
                ids.Add(next);
                if (stopIds.Contains(next)) break;
            }
        }
        finally
        {
            module.train(wasTraining);
        }
        return generated;
    }
}
