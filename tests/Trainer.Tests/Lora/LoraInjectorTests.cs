using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora;

public sealed class LoraInjectorTests
{
    private static readonly string[] BlockModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>A Llama-like stack: model.layers.N.self_attn.{q,v}_proj, model.layers.N.mlp.up_proj and an lm_head.</summary>
    private sealed class Stack : nn.Module<Tensor, Tensor>
    {
        private sealed class Attention : nn.Module<Tensor, Tensor>
        {
#pragma warning disable IDE1006
            private nn.Module<Tensor, Tensor> q_proj;
            private nn.Module<Tensor, Tensor> v_proj;
#pragma warning restore IDE1006
            public Attention(Generator g) : base(nameof(Attention))
            {
                q_proj = LinearInit.Create(8, 8, false, g);
                v_proj = LinearInit.Create(8, 8, false, g);
                RegisterComponents();
            }
            public override Tensor forward(Tensor x) => q_proj.forward(x) + v_proj.forward(x);
        }

        private sealed class Mlp : nn.Module<Tensor, Tensor>
        {
#pragma warning disable IDE1006
            private nn.Module<Tensor, Tensor> up_proj;
#pragma warning restore IDE1006
            public Mlp(Generator g) : base(nameof(Mlp)) { up_proj = LinearInit.Create(8, 8, true, g); RegisterComponents(); }
            public override Tensor forward(Tensor x) => up_proj.forward(x);
        }

        private sealed class Layer : nn.Module<Tensor, Tensor>
        {
#pragma warning disable IDE1006
            private readonly Attention self_attn;
            private readonly Mlp mlp;
#pragma warning restore IDE1006
            public Layer(Generator g) : base(nameof(Layer)) { self_attn = new Attention(g); mlp = new Mlp(g); RegisterComponents(); }
            public override Tensor forward(Tensor x) => mlp.forward(self_attn.forward(x));
        }

        private sealed class Body : nn.Module<Tensor, Tensor>
        {
            private readonly TorchSharp.Modules.ModuleList<Layer> layers;
            public Body(Generator g) : base(nameof(Body)) { layers = nn.ModuleList(new Layer(g), new Layer(g), new Layer(g)); RegisterComponents(); }
            public override Tensor forward(Tensor x) { foreach (var l in layers) x = l.forward(x); return x; }
        }

#pragma warning disable IDE1006
        private readonly Body model;
        private nn.Module<Tensor, Tensor> lm_head;
#pragma warning restore IDE1006

        public Stack() : base(nameof(Stack))
        {
            using var g = LinearInit.Generator(5);
            model = new Body(g);
            lm_head = LinearInit.Create(8, 4, false, g);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => lm_head.forward(model.forward(x));
    }

    private static TrainingConfig Targets(params string[] targets) => new() { Rank = 8, Alpha = 16, TargetModules = targets };

    [Theory]
    [InlineData(new[] { "q_proj", "v_proj" }, 8_192)]
    [InlineData(new[] { "q_proj", "k_proj", "v_proj", "o_proj" }, 16_384)]
    [InlineData(new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" }, 47_104)]
    public void Rank8_on_the_256_wide_block_trains_the_studys_parameter_counts(string[] targets, long expected)
    {
        using var model = new TransformerBlockModel(seed: 1);
        var injection = LoraInjector.Inject(model, Targets(targets), seed: 2);
        Assert.Equal(expected, injection.TrainableParameters);
        Assert.Equal(expected, ParameterCount.Trainable(model));
        Assert.Equal(targets, injection.Modules.Select(m => m.Path));
    }

    [Fact]
    public void Rank8_on_q_and_v_of_a_256_wide_block_trains_8192_parameters()
    {
        var report = ParameterReport.Compute(BuiltInModels.TransformerBlock, 8, ["q_proj", "v_proj"]);
        Assert.Equal(8_192, report.TrainableParameters);
    }

    [Fact]
    public void All_linear_on_the_block_adapts_all_seven_projections()
    {
        using var model = new TransformerBlockModel(seed: 1);
        var injection = LoraInjector.Inject(model, Targets(LoraInjector.AllLinear), seed: 2);
        Assert.Equal(BlockModules, injection.Modules.Select(m => m.Path));
        Assert.Equal(47_104, injection.TrainableParameters);
    }

    [Fact]
    public void Injected_adapters_become_registered_submodules_and_fields()
    {
        using var model = new TransformerBlockModel(seed: 1);
        LoraInjector.Inject(model, Targets("q_proj"), seed: 2);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("q_proj.lora_A", names);
        Assert.Contains("q_proj.base_layer.weight", names);
        Assert.IsType<LoraLinear>(model.named_children().Single(c => c.name == "q_proj").module);
        // The adapter's wrapped layer is no longer a linear module of the model's own.
        Assert.Equal(BlockModules.Skip(1), LoraInjector.LinearModulePaths(model));
    }

    [Fact]
    public void A_fresh_injection_leaves_the_model_output_unchanged_and_the_adapter_is_in_the_forward_path()
    {
        using var scope = NewDisposeScope();
        using var model = new TransformerBlockModel(seed: 1);
        model.eval();
        var x = randn(2, 4, 256);
        var before = model.forward(x).detach().clone();
        var injection = LoraInjector.Inject(model, Targets("q_proj", "v_proj"), seed: 2);
        Assert.True(model.forward(x).allclose(before, rtol: 1e-5, atol: 1e-5));

        using (no_grad()) injection.Modules[1].Layer.LoraB.add_(0.5);
        Assert.False(model.forward(x).allclose(before, rtol: 1e-3, atol: 1e-3));
    }

    [Theory]
    [InlineData(BiasMode.None, new string[0])]
    [InlineData(BiasMode.LoraOnly, new[] { "l1.base_layer.bias" })]
    [InlineData(BiasMode.All, new[] { "l1.base_layer.bias", "l2.bias", "l3.bias" })]
    public void After_backward_only_adapter_parameters_and_the_bias_mode_s_biases_have_gradients(BiasMode bias, string[] trainedBiases)
    {
        using var scope = NewDisposeScope();
        using var model = new MlpModel(seed: 1, dropout: 0);
        LoraInjector.Inject(model, Targets("l1") with { Bias = bias }, seed: 2);
        nn.functional.cross_entropy(model.forward(randn(4, 784)), tensor(new long[] { 1, 2, 3, 4 })).backward();

        var withGrad = model.named_parameters().Where(p => p.parameter.grad is not null).Select(p => p.name).ToList();
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        string[] expected = ["l1.lora_A", "l1.lora_B", .. trainedBiases];
        Assert.Equal(expected.Order(), withGrad.Order());
        Assert.Equal(expected.Order(), trainable.Order());
    }

    [Fact]
    public void Unknown_target_names_throw_listing_the_models_linear_modules()
    {
        using var model = new TransformerBlockModel(seed: 1);
        var error = Assert.Throws<LoraTargetException>(() => LoraInjector.Inject(model, Targets("q_proj", "query"), seed: 2));
        Assert.Contains("'query'", error.Message);
        foreach (var module in BlockModules) Assert.Contains(module, error.Message);
        Assert.Equal(BlockModules, error.LinearModules);
    }

    [Fact]
    public void A_target_matches_a_dotted_suffix_of_the_path()
    {
        using var model = new Stack();
        Assert.Equal(
            ["model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj", "model.layers.2.self_attn.q_proj"],
            LoraInjector.Inject(model, Targets("q_proj"), 1).Modules.Select(m => m.Path));
    }

    [Fact]
    public void A_target_does_not_match_part_of_a_name()
    {
        Assert.False(LoraInjector.NameMatches("model.layers.0.self_attn.q_proj", "proj"));
        Assert.True(LoraInjector.NameMatches("model.layers.0.self_attn.q_proj", "self_attn.q_proj"));
        Assert.True(LoraInjector.NameMatches("q_proj", "q_proj"));
    }

    [Fact]
    public void The_regex_must_match_the_whole_path()
    {
        using var model = new Stack();
        var config = new TrainingConfig { TargetModulesRegex = @"model\.layers\.[01]\.self_attn\.(q|v)_proj" };
        Assert.Equal(
            ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"],
            LoraInjector.Inject(model, config, 1).Modules.Select(m => m.Path));
        Assert.Throws<LoraTargetException>(() =>
            LoraInjector.SelectTargets(LoraInjector.LinearModulePaths(new Stack()), new TrainingConfig { TargetModulesRegex = "q_proj" }));
    }

    [Fact]
    public void All_linear_leaves_out_the_lm_head()
    {
        using var model = new Stack();
        var paths = LoraInjector.Inject(model, Targets(LoraInjector.AllLinear), 1).Modules.Select(m => m.Path).ToList();
        Assert.Equal(9, paths.Count);
        Assert.DoesNotContain("lm_head", paths);
    }

    [Fact]
    public void Layers_to_transform_keeps_only_the_listed_layer_indices()
    {
        using var model = new Stack();
        var config = Targets("q_proj", "up_proj") with { LayersToTransform = [0, 2] };
        Assert.Equal(
            ["model.layers.0.self_attn.q_proj", "model.layers.0.mlp.up_proj", "model.layers.2.self_attn.q_proj", "model.layers.2.mlp.up_proj"],
            LoraInjector.Inject(model, config, 1).Modules.Select(m => m.Path));
        Assert.Equal(3, LoraInjector.LayerIndex("model.layers.3.self_attn.q_proj"));
        Assert.Equal(1, LoraInjector.LayerIndex("encoder.1.attn.q"));
        Assert.Null(LoraInjector.LayerIndex("q_proj"));
    }

    [Fact]
    public void Rank_and_alpha_patterns_override_per_module()
    {
        using var model = new Stack();
        var config = Targets("q_proj", "v_proj") with
        {
            RankPattern = new Dictionary<string, int> { ["v_proj"] = 2, [@"layers\.1\.self_attn\.q_proj"] = 4 },
            AlphaPattern = new Dictionary<string, double> { ["q_proj"] = 32 },
        };
        var byPath = LoraInjector.Inject(model, config, 1).Modules.ToDictionary(m => m.Path, m => m.Layer.Settings);
        Assert.Equal(8, byPath["model.layers.0.self_attn.q_proj"].Rank);
        Assert.Equal(32, byPath["model.layers.0.self_attn.q_proj"].Alpha);
        Assert.Equal(4, byPath["model.layers.1.self_attn.q_proj"].Rank);
        Assert.Equal(2, byPath["model.layers.2.self_attn.v_proj"].Rank);
        Assert.Equal(16, byPath["model.layers.2.self_attn.v_proj"].Alpha);
    }

    [Fact]
    public void The_same_seed_gives_the_same_adapters()
    {
        using var first = new TransformerBlockModel(1);
        using var second = new TransformerBlockModel(1);
        var a = LoraInjector.Inject(first, Targets("q_proj", "v_proj"), 9);
        var b = LoraInjector.Inject(second, Targets("q_proj", "v_proj"), 9);
        Assert.True(a.Modules[1].Layer.LoraA.Same(b.Modules[1].Layer.LoraA));
    }

    [Fact]
    public void Injection_sets_every_adapter_to_the_models_training_mode()
    {
        using var model = new MlpModel(1);
        model.eval();
        var injection = LoraInjector.Inject(model, Targets("l1"), 1);
        Assert.False(injection.Modules[0].Layer.training);
    }
}
