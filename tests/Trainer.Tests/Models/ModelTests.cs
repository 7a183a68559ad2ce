using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Tests.Lora;
using Orchestrator.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models;

public sealed class ModelTests
{
    [Theory]
    [InlineData(BuiltInModels.Mlp)]
    [InlineData(BuiltInModels.TransformerBlock)]
    public void Built_in_models_expose_exactly_the_linear_module_paths_BuiltInModels_lists(string name)
    {
        using var model = ModelCatalog.Create(name, seed: 1);
        Assert.Equal(BuiltInModels.LinearModules(name), LoraInjector.LinearModulePaths(model));
    }

    [Fact]
    public void The_mlp_maps_flat_or_image_shaped_digits_to_ten_logits()
    {
        using var scope = NewDisposeScope();
        using var model = new MlpModel(seed: 1);
        model.eval();
        var images = randn(3, 1, 28, 28);
        var logits = model.forward(images);
        Assert.Equal(new long[] { 3, 10 }, logits.shape);
        Assert.True(logits.allclose(model.forward(images.reshape(3, 784))));
    }

    [Fact]
    public void The_mlp_has_the_rank_studys_55050_parameters()
    {
        using var model = new MlpModel(seed: 1);
        Assert.Equal(784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10, ParameterCount.Total(model));
        Assert.Equal(MlpModel.DefaultDropout, model.Dropout);
    }

    [Fact]
    public void The_mlp_drops_out_only_in_training()
    {
        using var scope = NewDisposeScope();
        using var model = new MlpModel(seed: 1, dropout: 0.5);
        var x = randn(4, 784);
        model.eval();
        Assert.True(model.forward(x).Same(model.forward(x)));
        model.train();
        Assert.False(model.forward(x).Same(model.forward(x)));
    }

    [Fact]
    public void The_transformer_block_maps_tokens_to_tokens_of_the_same_width()
    {
        using var scope = NewDisposeScope();
        using var model = new TransformerBlockModel(seed: 1);
        var output = model.forward(randn(2, TransformerBlockModel.Tokens, 256));
        Assert.Equal(new long[] { 2, 32, 256 }, output.shape);
    }

    [Fact]
    public void The_transformer_block_trains_on_a_regression_target()
    {
        using var scope = NewDisposeScope();
        using var model = new TransformerBlockModel(seed: 1);
        using var g = LinearInit.Generator(4);
        var x = randn(new long[] { 8, 8, 256 }, generator: g);
        var y = randn(new long[] { 8, 8, 256 }, generator: g);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);
        float first = 0, last = 0;
        for (var step = 0; step < 20; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.forward(x), y);
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first, $"loss {first} -> {last}");
    }

    [Fact]
    public void The_same_seed_builds_the_same_weights()
    {
        using var a = ModelCatalog.Create(BuiltInModels.TransformerBlock, 3);
        using var b = ModelCatalog.Create(BuiltInModels.TransformerBlock, 3);
        using var c = ModelCatalog.Create(BuiltInModels.TransformerBlock, 4);
        var pa = a.parameters().First();
        Assert.True(pa.Same(b.parameters().First()));
        Assert.False(pa.Same(c.parameters().First()));
    }

    [Fact]
    public void Unknown_models_are_refused_with_the_built_in_names()
    {
        var error = Assert.Throws<UnknownModelException>(() => ModelCatalog.Create("resnet50", 1));
        foreach (var name in BuiltInModels.Names) Assert.Contains(name, error.Message);
        Assert.Equal("resnet50", error.Model);
    }

    [Fact]
    public void A_bare_linear_layer_is_named_linear_in_by_out()
    {
        Assert.Equal((512L, 256L), LinearModelName.Parse("linear:512x256"));
        Assert.Null(LinearModelName.Parse("linear:512"));
        using var model = ModelCatalog.Create("linear:16x8", 1);
        Assert.Equal(["linear"], LoraInjector.LinearModulePaths(model));
    }
}
