using System.Text.Json.Nodes;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Peft;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora.Variants;

public sealed class VariantAdapterFilesTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lora-variant-files-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly string[] Targets = ["l1", "l2"];

    /// <summary>An mlp with the adapter of <paramref name="config"/>, trained a few AdamW steps on a fixed regression target.</summary>
    private static MlpModel Trained(TrainingConfig config)
    {
        var model = new MlpModel(1);
        LoraInjector.Inject(model, config, seed: 1);
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = new AdamW(trainable, 0.01);
        using var generator = new Generator(4, CPU);
        using var x = rand([16, 784], generator: generator);
        using var target = randn([16, 10], generator: generator);
        model.train();
        for (var step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.mse_loss(model.forward(x), target).backward();
            optimizer.step();
        }
        model.eval();
        return model;
    }

    private static Tensor Probe() => rand([8, 784], generator: new Generator(3, CPU));

    [Theory]
    [InlineData("pissa", false, false)]
    [InlineData("pissa_niter_2", false, false)]
    [InlineData("olora", false, false)]
    [InlineData("pissa", true, false)]
    [InlineData("olora", false, true)]
    public void A_trained_PiSSA_or_OLoRA_adapter_is_saved_at_rank_2r_against_the_unmodified_base_and_reproduces_the_trained_model(string init, bool useDora, bool useRslora)
    {
        using var scope = NewDisposeScope();
        var config = new TrainingConfig { Model = "mlp", Rank = 2, Alpha = 4, TargetModules = Targets, Init = LoraInitMethod.Parse(init), UseDora = useDora, UseRslora = useRslora };
        using var trained = Trained(config);
        var expected = trained.forward(Probe());

        PeftAdapter.Save(_directory, LoraWeights.GetAgainstUnmodifiedBase(trained), PeftAdapterConfig.FromTrainingConfig(config, Targets, "mlp"));
        var (weights, saved) = PeftAdapter.Load(_directory);
        Assert.Equal(4, saved.R);
        Assert.Equal(useRslora ? 4 * Math.Sqrt(2) : 8, saved.LoraAlpha, 12);
        Assert.Equal(useDora, saved.UseDora);
        Assert.Equal("true", saved.InitLoraWeights); // PEFT's converted adapter: a plain LoRA start on the unmodified base
        Assert.Equal(new long[] { 4, 784 }, weights[LoraWeights.LoraAKey("l1")].shape);
        Assert.Equal(new long[] { MlpModel.HiddenSize, 4 }, weights[LoraWeights.LoraBKey("l1")].shape);

        // The unmodified base (the same seed draws the same mlp) with a plain adapter of the saved config.
        using var unmodified = new MlpModel(1);
        LoraInjector.Inject(unmodified, new TrainingConfig
        {
            Model = "mlp", Rank = saved.R, Alpha = saved.LoraAlpha, TargetModules = Targets, UseDora = saved.UseDora, UseRslora = saved.UseRslora,
        }, seed: 99);
        LoraWeights.Set(unmodified, weights);
        unmodified.eval();
        var difference = PlainTorchReference.MaxAbsDifference(unmodified.forward(Probe()), expected);
        output.WriteLine($"{init}{(useDora ? " + DoRA" : "")}{(useRslora ? " + rsLoRA" : "")}: unmodified base + saved rank-4 adapter vs the trained model, max |Δ logits| = {difference:E2}");
        Assert.True(difference < 1e-4, $"max |Δ| {difference}");
        foreach (var t in weights.Values) t.Dispose();
    }

    [Fact]
    public void A_DoRA_adapter_is_saved_under_PEFTs_keys_with_lora_magnitude_vector_and_use_dora_true()
    {
        using var scope = NewDisposeScope();
        var config = new TrainingConfig { Model = "mlp", Rank = 2, Alpha = 4, TargetModules = Targets, UseDora = true };
        using var trained = Trained(config);
        PeftAdapter.Save(_directory, LoraWeights.GetAgainstUnmodifiedBase(trained), PeftAdapterConfig.FromTrainingConfig(config, Targets, "mlp"));

        var reference = PlainTorchReference.Run(new JsonObject
        {
            ["case"] = "peft_keys",
            ["paths"] = new JsonArray(Targets.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
            ["use_dora"] = true,
            ["file"] = Path.Combine(_directory, PeftAdapter.WeightsFileName),
        });
        var expected = reference.GetProperty("expected").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(expected, reference.GetProperty("saved").EnumerateArray().Select(e => e.GetString()).ToList());
        Assert.Contains("base_model.model.l1.lora_magnitude_vector", expected);
        Assert.Equal([(long)MlpModel.HiddenSize], reference.GetProperty("shapes").GetProperty("base_model.model.l1.lora_magnitude_vector").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Contains("\"use_dora\": true", File.ReadAllText(Path.Combine(_directory, PeftAdapterConfig.FileName)));
    }

    [Fact]
    public void Loading_a_saved_DoRA_adapter_into_a_fresh_model_restores_its_outputs_and_PEFTs_in_model_spelling_loads_too()
    {
        using var scope = NewDisposeScope();
        var config = new TrainingConfig { Model = "mlp", Rank = 2, Alpha = 4, TargetModules = Targets, UseDora = true, Dropout = 0.1 };
        using var trained = Trained(config);
        PeftAdapter.Save(_directory, LoraWeights.Get(trained), PeftAdapterConfig.FromTrainingConfig(config, Targets, "mlp"));
        var (weights, _) = PeftAdapter.Load(_directory);

        using var fresh = new MlpModel(1);
        LoraInjector.Inject(fresh, config, seed: 7);
        LoraWeights.Set(fresh, weights);
        fresh.eval();
        Assert.Equal(trained.forward(Probe()).data<float>().ToArray(), fresh.forward(Probe()).data<float>().ToArray());

        // `…lora_magnitude_vector.weight`, the parameter's name inside a PEFT model, names the same tensor.
        var renamed = weights.ToDictionary(kv => kv.Key.EndsWith(LoraWeights.MagnitudeSuffix, StringComparison.Ordinal) ? kv.Key + ".weight" : kv.Key, kv => kv.Value);
        using var other = new MlpModel(1);
        LoraInjector.Inject(other, config, seed: 8);
        LoraWeights.Set(other, renamed);
        other.eval();
        Assert.Equal(trained.forward(Probe()).data<float>().ToArray(), other.forward(Probe()).data<float>().ToArray());

        // Without the magnitudes a strict load says which are missing.
        var withoutMagnitudes = weights.Where(kv => !kv.Key.EndsWith(LoraWeights.MagnitudeSuffix, StringComparison.Ordinal)).ToDictionary();
        var error = Assert.Throws<ArgumentException>(() => LoraWeights.Set(other, withoutMagnitudes));
        Assert.Contains("base_model.model.l1.lora_magnitude_vector", error.Message);
        foreach (var t in weights.Values) t.Dispose();
    }
}
