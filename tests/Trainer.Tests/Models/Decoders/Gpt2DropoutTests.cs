using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trials.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models.Decoders;

/// <summary>GPT-2's dropout, as transformers': read from config.json (0.1 each when absent), active while training only.</summary>
public sealed class Gpt2DropoutTests
{
    private static Gpt2Config Tiny(double embd, double attn, double resid) =>
        new() { VocabSize = 50, NPositions = 16, NEmbd = 16, NLayer = 2, NHead = 2, EmbdPdrop = embd, AttnPdrop = attn, ResidPdrop = resid };

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    private static Tensor Tokens() => torch.arange(0, 24, dtype: ScalarType.Int64).remainder(50).view(2, 12);

    [Fact]
    public void The_three_probabilities_come_from_config_json_with_transformers_defaults_and_out_of_range_ones_are_refused()
    {
        var given = Gpt2Config.FromJson("""{"model_type": "gpt2", "embd_pdrop": 0.2, "attn_pdrop": 0.0, "resid_pdrop": 0.3}""");
        Assert.Equal((0.2, 0.0, 0.3), (given.EmbdPdrop, given.AttnPdrop, given.ResidPdrop));
        var defaults = Gpt2Config.FromJson("""{"model_type": "gpt2"}""");
        Assert.Equal((0.1, 0.1, 0.1), (defaults.EmbdPdrop, defaults.AttnPdrop, defaults.ResidPdrop));
        Assert.Contains("\"resid_pdrop\": 0.1", defaults.ToJson());

        var error = Assert.Throws<InvalidDataException>(() => Gpt2Config.FromJson("""{"model_type": "gpt2", "attn_pdrop": 1.0}"""));
        Assert.Contains("attn_pdrop 1 must be at least 0 and below 1", error.Message);
    }

    [Fact]
    public void While_training_each_forward_drops_differently_and_in_eval_mode_the_model_is_deterministic()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Gpt2Model.Create(Tiny(0.1, 0.1, 0.1), seed: 3);
        var tokens = Tokens();

        model.eval();
        var evaluated = model.Logits(tokens);
        Assert.True(Same(evaluated, model.Logits(tokens)));

        model.train();
        torch.manual_seed(7);
        var first = model.Logits(tokens);
        var second = model.Logits(tokens);
        Assert.False(Same(first, second));
        Assert.False(Same(first, evaluated));
        torch.manual_seed(7);
        Assert.True(Same(first, model.Logits(tokens))); // the trial's seeded generator makes it repeatable
    }

    [Theory]
    [InlineData(0.5, 0.0, 0.0)]
    [InlineData(0.0, 0.5, 0.0)]
    [InlineData(0.0, 0.0, 0.5)]
    public void Each_probability_acts_on_its_own_and_at_zero_training_equals_eval(double embd, double attn, double resid)
    {
        using var scope = torch.NewDisposeScope();
        using var withDropout = Gpt2Model.Create(Tiny(embd, attn, resid), seed: 3);
        using var without = Gpt2Model.Create(Tiny(0, 0, 0), seed: 3);
        var tokens = Tokens();
        withDropout.eval();
        var evaluated = withDropout.Logits(tokens);

        without.train();
        Assert.True(Same(evaluated, without.Logits(tokens))); // the same weights: only dropout tells them apart
        withDropout.train();
        Assert.False(Same(evaluated, withDropout.Logits(tokens)));
    }
}
