using System.Text.Json;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Instructions;

/// <summary>
/// A decoder's modules_to_save (PEFT's): the named modules train in full beside the LoRA adapter, are saved whole in its
/// file under PEFT's keys, and come back when the adapter is loaded or merged.
/// </summary>
public sealed class ModulesToSaveTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private string Data(int rows) => TinyDecoders.WriteJsonl(_workspace.Sub("labels.jsonl"), Enumerable.Range(0, rows).Select(i =>
        new { prompt = $"Review {i}: {(i % 2 == 0 ? "great" : "awful")} film.", completion = i % 2 == 0 ? " positive" : " negative" }));

    [Fact]
    public void The_final_norm_trains_beside_the_adapter_is_saved_under_peft_keys_and_loads_and_merges_back()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var data = Data(64);
        var config = new TrainingConfig
        {
            Model = folder, Dataset = data, Adapter = AdapterKind.Lora, Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"], ModulesToSave = ["norm"],
            SequenceLength = 32, BatchSize = 8, MaxSteps = 6, LearningRate = 1e-2, Seed = 2,
        };
        var outcome = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("trial"), _workspace.Sub("bases")), new RecordingObserver(), CancellationToken.None);

        var adapterFolder = Path.Combine(_workspace.Sub("trial"), TrialTrainer.AdapterFolder);
        using (var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(adapterFolder, PeftAdapterConfig.FileName))))
        {
            // The full path, so PEFT (which matches modules_to_save by suffix) wraps this module and no layer's input_layernorm.
            Assert.Equal(["model.norm"], document.RootElement.GetProperty("modules_to_save").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("CAUSAL_LM", document.RootElement.GetProperty("task_type").GetString());
        }
        var (saved, _) = SafetensorsFile.ReadAll(Path.Combine(adapterFolder, PeftAdapter.WeightsFileName));
        var (baseWeights, _) = SafetensorsFile.ReadAll(Path.Combine(folder, LlamaModel.WeightsFileName));
        var norm = saved[PeftAdapter.KeyPrefix + "model.norm.weight"];
        Assert.Equal(baseWeights["model.norm.weight"].shape, norm.shape);
        Assert.True(norm.sub(baseWeights["model.norm.weight"]).abs().max().item<float>() > 1e-4, "the final norm trained");
        Assert.DoesNotContain(saved.Keys, k => k.Contains("layernorm", StringComparison.Ordinal));
        Assert.Equal(2L * ((4 * 32 + 32 * 4) + (4 * 32 + 16 * 4)) + 32, outcome.TrainableParameters); // q's (32 out) and v's (16 out: 2 kv heads of 8) A and B in two layers, and the norm's 32

        // Loaded onto a fresh base (PeftModel.from_pretrained), the adapter gives back the trained model's test loss.
        using var dataset = InstructionDataset.Load(data, folder, config);
        using var loaded = CausalLanguageModels.FromPretrained(folder);
        PeftAdapterLoader.Apply((nn.Module)loaded, adapterFolder);
        Assert.Equal(outcome.Metrics[MetricNames.TestLoss], MeanLoss((nn.Module<Tensor, Tensor>)loaded, dataset), 4);

        // Merged into the weights, the model is the same function, the norm included.
        var merged = _workspace.Sub("merged");
        AdapterMerge.MergeAndSave(folder, adapterFolder, merged);
        using var mergedModel = CausalLanguageModels.FromPretrained(merged);
        Assert.Equal(outcome.Metrics[MetricNames.TestLoss], MeanLoss((nn.Module<Tensor, Tensor>)mergedModel, dataset), 4);
        using var baseModel = CausalLanguageModels.FromPretrained(folder);
        Assert.True(Math.Abs(outcome.Metrics[MetricNames.TestLoss] - MeanLoss((nn.Module<Tensor, Tensor>)baseModel, dataset)) > 1e-3, "the adapter changed the loss");
    }

    [Fact]
    public void A_head_tied_to_the_embeddings_or_a_name_matching_nothing_is_refused_naming_the_modules()
    {
        using var tied = LlamaModel.Create(TinyDecoders.Config with { TieWordEmbeddings = true }, seed: 1);
        var head = Assert.Throws<ArgumentException>(() => tied.TrainInFull(["lm_head"]));
        Assert.Contains("tie_word_embeddings", head.Message, StringComparison.Ordinal);
        Assert.Contains("model.embed_tokens", head.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => tied.TrainInFull(["embed_tokens"]));

        var unknown = Assert.Throws<ArgumentException>(() => tied.TrainInFull(["final_norm"]));
        Assert.Contains("'final_norm' names no module", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("model.norm", unknown.Message, StringComparison.Ordinal);

        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        using (var quantised = (LlamaModel)CausalLanguageModels.FromPretrained(folder, new Orchestrator.Trainer.Memory.BaseLoad(null, QuantizeMode.Nf4)))
        {
            var layer = Assert.Throws<ArgumentException>(() => quantised.TrainInFull(["layers.0.mlp.down_proj"]));
            Assert.Contains("quantised as the base loaded", layer.Message, StringComparison.Ordinal);
            quantised.TrainInFull(["norm", "lm_head"]); // QLoRA leaves them in fp32
        }

        using var untied = LlamaModel.Create(TinyDecoders.Config, seed: 1);
        untied.TrainInFull(["lm_head", "norm"]);
        Assert.Equal(["lm_head", "model.norm"], untied.ModulesToSave);
    }

    [Fact]
    public void The_rule_table_allows_it_for_a_decoders_lora_on_an_fp32_or_quantised_base_only()
    {
        var decoder = new TrainingConfig { Model = "llama", Dataset = "text", ModulesToSave = ["norm"] };
        Assert.Empty(decoder.Problems());
        Assert.Equal(JsonSerializer.Serialize(decoder with { ModulesToSave = null }), JsonSerializer.Serialize(new TrainingConfig { Model = "llama", Dataset = "text" })); // absent: no key, ids unchanged

        static string Refusal(TrainingConfig config) => Assert.Single(config.Problems(), p => p.Key == "modules_to_save").Message;
        Assert.Contains("adapter full trains every weight already", Refusal(decoder with { Adapter = AdapterKind.Full }), StringComparison.Ordinal);
        Assert.Contains("use base_dtype fp32", Refusal(decoder with { BaseDtype = BaseDtype.Bf16 }), StringComparison.Ordinal);
        Assert.Empty((decoder with { Quantize = QuantizeMode.Nf4 }).Problems()); // QLoRA's norms and head stay fp32
        Assert.Contains("is for decoders", Refusal(decoder with { Model = "mlp", Dataset = "mnist" }), StringComparison.Ordinal);
        Assert.Contains("must list module names", Refusal(decoder with { ModulesToSave = [] }), StringComparison.Ordinal);
        Assert.NotNull(Orchestrator.Trials.Packing.PackCompatibility.WhyNotPackable(decoder));
    }

    private static double MeanLoss(nn.Module<Tensor, Tensor> model, InstructionDataset dataset)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        double sum = 0;
        long count = 0;
        foreach (var batch in dataset.TestBatches(16))
        {
            using var scope = torch.NewDisposeScope();
            sum += TaskLoss.Compute(dataset.Task, ModelForward.Run(model, batch.Inputs), batch.Targets, nn.Reduction.Sum).item<float>();
            count += batch.Targets.ne(InstructionDataset.IgnoreIndex).sum().item<long>();
        }
        return sum / count;
    }
}
