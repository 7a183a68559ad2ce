using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

public sealed class QuantizedBaseTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static readonly LlamaConfig Tiny = new()
    {
        VocabSize = 257, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 2, MaxPositionEmbeddings = 64,
    };

    [Fact]
    public void The_quantised_product_and_its_input_gradient_equal_those_of_a_linear_layer_on_the_dequantised_weight()
    {
        using var scope = NewDisposeScope();
        var weight = randn([48, 64], generator: new Generator(1));
        using var quantized = Nf4.Quantize(weight);
        var dequantized = Nf4.Dequantize(quantized);
        var x1 = randn([5, 64], generator: new Generator(2)).requires_grad_(true);
        var x2 = x1.detach().clone().requires_grad_(true);

        var y1 = QuantizedLinearFunction.Apply(x1, quantized, null);
        var y2 = nn.functional.linear(x2, dequantized);
        y1.pow(2).sum().backward();
        y2.pow(2).sum().backward();

        Assert.Equal(y2.data<float>().ToArray(), y1.data<float>().ToArray());
        Assert.Equal(x2.grad!.data<float>().ToArray(), x1.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Quantising_a_lora_llama_holds_every_frozen_linear_but_the_head_in_4_bits_and_leaves_the_adapters_fp32()
    {
        using var llama = LlamaModel.Create(Tiny, seed: 1);
        LoraInjector.Inject(llama, new TrainingConfig { Model = "llama", Dataset = "text", Rank = 4, TargetModules = ["q_proj", "v_proj"] }, seed: 2);
        var fullBytes = llama.parameters().Sum(p => p.numel() * 4);

        var (layers, bytes) = BaseQuantization.Apply(llama, QuantizeMode.Nf4);

        Assert.Equal(2 * 7, layers); // q, k, v, o, gate, up, down in each of the 2 layers
        Assert.All(llama.named_parameters().Where(p => p.name.Contains("lora_", StringComparison.Ordinal)), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        Assert.Equal(Tiny.VocabSize * Tiny.HiddenSize, llama.named_parameters().Single(p => p.name == "lm_head.weight").parameter.numel());
        var left = llama.parameters().Sum(p => p.numel() * 4);
        Assert.True(left + bytes < fullBytes / 2, $"{left} + {bytes} bytes of {fullBytes}");
    }

    [Theory]
    [InlineData(QuantizeMode.Nf4, false)]
    [InlineData(QuantizeMode.Int8, false)]
    [InlineData(QuantizeMode.Nf4, true)]
    public void A_lora_fine_tune_on_a_quantised_base_trains_end_to_end_near_the_fp32_base_and_writes_the_same_peft_files(QuantizeMode quantize, bool doubleQuant)
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
        var quantized = TrialTrainer.Run(new TrainingRequest(config with { Quantize = quantize, DoubleQuant = doubleQuant }, spec, _workspace.Sub(quantize.ConfigName()), _workspace.Sub("bases")),
            null, CancellationToken.None);

        var (a, b) = (fp32.Metrics[MetricNames.TestLoss], quantized.Metrics[MetricNames.TestLoss]);
        Assert.True(Math.Abs(b - a) / a < 0.02, $"test_loss fp32 {a}, {quantize} {b}");
        Assert.NotEqual(a, b);
        var (fpWeights, _) = PeftAdapter.Load(Path.Combine(_workspace.Sub("fp32"), TrialTrainer.AdapterFolder));
        var (qWeights, _) = PeftAdapter.Load(Path.Combine(_workspace.Sub(quantize.ConfigName()), TrialTrainer.AdapterFolder));
        Assert.Equal(fpWeights.Keys.Order(), qWeights.Keys.Order());
        foreach (var w in fpWeights.Values.Concat(qWeights.Values)) w.Dispose();
    }

    [Theory]
    [InlineData("nf4", "full", "llama", "text", "quantize nf4 freezes the base in nf4, but adapter full trains every weight")]
    [InlineData("fp4", "lora", "llama", "text", "quantize must be one of none, nf4, int8, got 'fp4'")]
    [InlineData("int8", "lora", "mlp", "mnist", "quantize int8 is for decoders")]
    public void A_quantised_base_that_cannot_train_is_refused_at_validation_naming_the_value(string quantize, string adapter, string model, string dataset, string message)
    {
        var problems = Configuration.ConfigJson.Problems(new TrainingConfig { Model = model, Dataset = dataset }, ("adapter", adapter), ("quantize", quantize));

        var problem = Assert.Single(problems, p => p.Key == "quantize");

        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Double_quant_is_bitsandbytes_bnb_4bit_use_double_quant_needs_nf4_and_leaves_trial_ids_alone_when_off()
    {
        Assert.Equal("double_quant", TrainingOptions.Aliases["bnb_4bit_use_double_quant"]);
        var problem = Assert.Single(new TrainingConfig { Model = "llama", Dataset = "text", Quantize = QuantizeMode.Int8, DoubleQuant = true }.Problems(),
            p => p.Key == "double_quant");
        Assert.Contains("double_quant quantises NF4's block scales, but quantize is int8", problem.Message, StringComparison.Ordinal);
        Assert.Empty(new TrainingConfig { Model = "llama", Dataset = "text", Quantize = QuantizeMode.Nf4, DoubleQuant = true }.Problems());
        Assert.DoesNotContain("double_quant", System.Text.Json.JsonSerializer.Serialize(new TrainingConfig { Model = "llama", Dataset = "text", Quantize = QuantizeMode.Nf4 }));
    }
}
