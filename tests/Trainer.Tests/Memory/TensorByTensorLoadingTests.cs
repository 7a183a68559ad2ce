using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Tests.Instructions;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

/// <summary>
/// A decoder folder loads tensor by tensor into a model built on the meta device, each weight in the base's form as it
/// arrives: the same weights as loading fp32 and converting or quantising afterwards, with no full fp32 copy on the way.
/// </summary>
public sealed class TensorByTensorLoadingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Dictionary<string, Tensor> Weights(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    [Fact]
    public void An_fp32_load_holds_the_files_values_on_the_cpu_with_nothing_left_on_the_meta_device()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("llama"));
        using var saved = LlamaModel.Create(TinyDecoders.Config, seed: 1);
        using var loaded = LlamaModel.FromPretrained(folder);
        var expected = Weights(saved);
        foreach (var (name, weight) in Weights(loaded))
        {
            Assert.Equal(DeviceType.CPU, weight.device_type);
            Assert.Equal(ScalarType.Float32, weight.dtype);
            Assert.True(Same(weight, expected[name]), name);
        }
    }

    [Theory]
    [InlineData(BaseDtype.Bf16, ScalarType.BFloat16)]
    [InlineData(BaseDtype.Fp16, ScalarType.Float16)]
    public void A_half_base_loads_its_linear_and_embedding_weights_as_converting_the_fp32_model_would(BaseDtype baseDtype, ScalarType dtype)
    {
        var folder = TinyDecoders.Write(_workspace.Sub("llama"));
        using var fp32 = LlamaModel.FromPretrained(folder);
        using var half = LlamaModel.FromPretrained(folder, new BaseLoad(baseDtype, null));
        var reference = Weights(fp32);
        foreach (var (name, weight) in Weights(half))
        {
            var converted = name.EndsWith("norm.weight", StringComparison.Ordinal) ? ScalarType.Float32 : dtype; // norms: BasePrecision after injection
            Assert.Equal(converted, weight.dtype);
            Assert.True(Same(weight, reference[name].to(converted)), name);
        }
    }

    [Fact]
    public void An_nf4_base_is_quantised_as_it_loads_into_the_codes_quantising_after_loading_gives_and_lora_still_injects_in_fp32()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("llama"));
        using var fp32 = LlamaModel.FromPretrained(folder);
        using var nf4 = LlamaModel.FromPretrained(folder, new BaseLoad(null, QuantizeMode.Nf4));
        var reference = fp32.named_modules().Where(m => m.module is Linear).ToDictionary(m => m.name, m => (Linear)m.module);
        var linears = nf4.named_modules().Where(m => m.module is Linear).ToList();
        Assert.Equal(2 * 7 + 1, linears.Count);
        foreach (var (name, module) in linears)
        {
            var linear = (Linear)module;
            if (name == LoraInjector.OutputHead)
            {
                Assert.Null(FrozenLinear.QuantizedWeightOf(linear)); // the head stays as it is, as bitsandbytes leaves lm_head
                continue;
            }
            var held = Assert.IsType<Nf4Tensor>(FrozenLinear.QuantizedWeightOf(linear));
            using var expected = Nf4.Quantize(reference[name].weight!);
            Assert.True(Same(held.Packed, expected.Packed), name);
            Assert.True(Same(held.Absmax!, expected.Absmax!), name);
            Assert.Equal(0, linear.weight!.numel()); // no full-precision weight kept
        }

        var injection = LoraInjector.Inject(nf4, new TrainingConfig { Model = folder, Dataset = "text", Rank = 4, TargetModules = ["q_proj", "v_proj"] }, seed: 2);
        var (layers, _) = BaseQuantization.Apply(nf4, QuantizeMode.Nf4);
        Assert.Equal(2 * 7, layers);
        Assert.All(injection.Modules, m => Assert.Equal(ScalarType.Float32, m.Layer.LoraA.dtype));
        using var logits = nf4.Logits(torch.tensor(new long[] { 1, 2, 3, 4 }).unsqueeze(0));
        Assert.Equal([1L, 4, TinyDecoders.VocabSize], logits.shape);
    }

    [Fact]
    public void A_lora_layer_over_a_half_base_keeps_its_adapter_in_fp32_as_PEFTs_autocast_adapter_dtype()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("llama"));
        using var half = LlamaModel.FromPretrained(folder, new BaseLoad(BaseDtype.Bf16, null));
        var injection = LoraInjector.Inject(half, new TrainingConfig { Model = folder, Dataset = "text", Rank = 4, TargetModules = ["q_proj"] }, seed: 2);
        Assert.All(injection.Modules, m =>
        {
            Assert.Equal(ScalarType.BFloat16, m.Layer.BaseLayer.weight!.dtype);
            Assert.Equal(ScalarType.Float32, m.Layer.LoraA.dtype);
            Assert.Equal(ScalarType.Float32, m.Layer.LoraB.dtype);
        });
    }
}
