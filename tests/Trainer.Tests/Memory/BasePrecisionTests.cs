using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

public sealed class BasePrecisionTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static readonly LlamaConfig Tiny = new()
    {
        VocabSize = 257, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 2, MaxPositionEmbeddings = 64,
    };

    [Fact]
    public void A_bf16_base_holds_every_frozen_weight_in_bf16_while_lora_A_B_and_their_gradients_stay_fp32()
    {
        using var llama = LlamaModel.Create(Tiny, seed: 1);
        LoraInjector.Inject(llama, new TrainingConfig { Model = "llama", Dataset = "text", Rank = 4, TargetModules = ["all-linear"] }, seed: 2);

        var converted = BasePrecision.Apply(llama, BaseDtype.Bf16);

        Assert.True(converted > 0);
        foreach (var (name, parameter) in llama.named_parameters())
            Assert.True(parameter.requires_grad == (parameter.dtype == ScalarType.Float32), $"{name} is {parameter.dtype} (trainable: {parameter.requires_grad})");
        using var scope = NewDisposeScope();
        var tokens = randint(0, 257, [2, 8], dtype: ScalarType.Int64, generator: new Generator(3));
        var logits = llama.forward(tokens);
        Assert.Equal(ScalarType.BFloat16, logits.dtype);
        var loss = TaskLoss.Compute(Trials.Metrics.TaskKind.CausalLm, logits.narrow(1, 0, 7), tokens.narrow(1, 1, 7));
        Assert.Equal(ScalarType.Float32, loss.dtype);
        loss.backward();
        foreach (var (name, parameter) in llama.named_parameters().Where(p => p.parameter.requires_grad))
        {
            Assert.Equal(ScalarType.Float32, parameter.grad!.dtype);
            Assert.True(parameter.grad.abs().sum().item<float>() > 0 || name.Contains("lora_A", StringComparison.Ordinal), $"{name} got no gradient");
        }
    }

    [Fact]
    public void A_bf16_base_trial_ends_within_1_percent_of_the_same_trial_on_fp32_and_writes_the_same_peft_files()
    {
        var folder = _workspace.Sub("tiny-llama");
        using (var llama = LlamaModel.Create(Tiny, seed: 1)) llama.SavePretrained(folder);
        var config = new TrainingConfig
        {
            Model = "llama", Dataset = "text", Rank = 4, Alpha = 8, TargetModules = ["all-linear"], SequenceLength = 32,
            BatchSize = 16, MaxSteps = 20, EvalEvery = 20, LearningRate = 1e-2, Seed = 2,
        };
        var spec = new BaseModelSpec { Checkpoint = folder };

        var fp32 = TrialTrainer.Run(new TrainingRequest(config, spec, _workspace.Sub("fp32"), _workspace.Sub("bases")), null, CancellationToken.None);
        var bf16 = TrialTrainer.Run(new TrainingRequest(config with { BaseDtype = BaseDtype.Bf16 }, spec, _workspace.Sub("bf16"), _workspace.Sub("bases")), null, CancellationToken.None);

        var (a, b) = (fp32.Metrics[Trials.Metrics.MetricNames.TestLoss], bf16.Metrics[Trials.Metrics.MetricNames.TestLoss]);
        Assert.True(Math.Abs(b - a) / a < 0.01, $"test_loss fp32 {a}, bf16 {b}");
        Assert.NotEqual(a, b); // the base really multiplied in bf16
        var (fpWeights, _) = PeftAdapter.Load(Path.Combine(_workspace.Sub("fp32"), TrialTrainer.AdapterFolder));
        var (bfWeights, _) = PeftAdapter.Load(Path.Combine(_workspace.Sub("bf16"), TrialTrainer.AdapterFolder));
        Assert.Equal(fpWeights.Keys.Order(), bfWeights.Keys.Order());
        Assert.All(bfWeights.Values, w => Assert.Equal(ScalarType.Float32, w.dtype));
        foreach (var w in fpWeights.Values.Concat(bfWeights.Values)) w.Dispose();
    }

    [Theory]
    [InlineData("fp8", "lora", "llama", "text", "base_dtype must be one of fp32, bf16, fp16, got 'fp8'")]
    [InlineData("bf16", "full", "llama", "text", "adapter full trains every weight and no fp32 master copy is kept")]
    [InlineData("fp16", "lora", "mlp", "mnist", "base_dtype fp16 is for decoders")]
    public void A_base_dtype_that_cannot_train_is_refused_at_validation_naming_the_value(string dtype, string adapter, string model, string dataset, string message)
    {
        var problems = Configuration.ConfigJson.Problems(new TrainingConfig { Model = model, Dataset = dataset }, ("adapter", adapter), ("base_dtype", dtype));

        var problem = Assert.Single(problems, p => p.Key == "base_dtype");

        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Base_dtype_is_left_out_of_the_config_json_when_absent_so_existing_trial_ids_keep_their_bytes()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new TrainingConfig());
        Assert.DoesNotContain("base_dtype", json, StringComparison.Ordinal);
        Assert.Contains("\"base_dtype\":\"bf16\"", System.Text.Json.JsonSerializer.Serialize(new TrainingConfig { BaseDtype = BaseDtype.Bf16 }), StringComparison.Ordinal);
    }
}
