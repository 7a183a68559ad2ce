using System.Text.Json;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Decoders;
using Orchestrator.Trainer.Estimation;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models.Decoders;

/// <summary>`lora params` and `estimate` count a decoder folder from its config.json alone, as the loaded model counts itself.</summary>
[Collection(DecoderFoldersCollection.Name)]
public sealed class DecoderArchitectureTests(DecoderFolders folders) : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    /// <summary>A folder with only Llama-2-7B's config.json (no weights: counting must not need them).</summary>
    private string Llama2_7B()
    {
        var folder = _workspace.Sub("llama-2-7b");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(new
        {
            model_type = "llama", hidden_size = 4096, num_hidden_layers = 32, intermediate_size = 11008, vocab_size = 32000,
            num_attention_heads = 32, num_key_value_heads = 32, max_position_embeddings = 4096, rms_norm_eps = 1e-5,
        }));
        return folder;
    }

    [Fact]
    public void Llama_2_7B_with_rank_8_on_q_proj_and_v_proj_adds_4_194_304_parameters()
    {
        var report = ParameterReport.Compute(Llama2_7B(), 8, ["q_proj", "v_proj"]);
        Assert.Equal(4_194_304, report.LoraParameters);
        Assert.Equal(64, report.AdaptedModules.Count);
    }

    [Fact]
    public void Llama_2_7B_with_rank_16_on_all_seven_projections_adds_39_976_960_parameters_and_all_linear_is_the_same_seven()
    {
        var folder = Llama2_7B();
        var seven = ParameterReport.Compute(folder, 16, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]);
        var allLinear = ParameterReport.Compute(folder, 16, [LoraInjector.AllLinear]);
        Assert.Equal(39_976_960, seven.LoraParameters);
        Assert.Equal(seven.LoraParameters, allLinear.LoraParameters);
        Assert.DoesNotContain(allLinear.AdaptedModules, m => m.Contains("lm_head", StringComparison.Ordinal));
        Assert.Equal(6_738_415_616 + 39_976_960, seven.TotalParameters); // Llama-2-7b's 6,738,415,616 plus the adapters
    }

    [Theory]
    [MemberData(nameof(DecoderParityTests.Families), MemberType = typeof(DecoderParityTests))]
    public void Counts_from_config_json_equal_the_loaded_model_with_lora_on_all_linear(string family)
    {
        var folder = folders.Of(family);
        var report = ParameterReport.Compute(folder, 4, [LoraInjector.AllLinear], BiasMode.None);
        using var model = CausalLanguageModels.FromPretrained(folder);
        var injection = LoraInjector.Inject((nn.Module)model, new TrainingConfig { Model = folder, Rank = 4, TargetModules = [LoraInjector.AllLinear] }, seed: 0);

        Assert.Equal(injection.Modules.Select(m => m.Path), report.AdaptedModules);
        Assert.Equal(injection.TotalParameters, report.TotalParameters);
        Assert.Equal(injection.TrainableParameters, report.TrainableParameters);
        Assert.DoesNotContain("lm_head", report.AdaptedModules);
    }

    [Fact]
    public void A_decoder_folder_defaults_to_peft_targets_of_its_model_type()
    {
        Assert.Equal(["c_attn"], TrainingOptions.DefaultTargetModules(folders.Of("gpt2")));
        Assert.Equal(["q_proj", "v_proj"], TrainingOptions.DefaultTargetModules(folders.Of("qwen3")));
        Assert.Equal(["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"], ParameterReport.Compute(folders.Of("gpt2"), 4, []).AdaptedModules);
    }

    [Fact]
    public void The_memory_estimate_of_a_decoder_folder_counts_its_weights_and_lora_from_config_json()
    {
        var folder = Llama2_7B();
        var lora = TrialMemoryEstimator.Estimate(new TrainingConfig { Model = folder, Rank = 8, TargetModules = ["q_proj", "v_proj"], SequenceLength = 512 });
        var full = TrialMemoryEstimator.Estimate(new TrainingConfig { Model = folder, Adapter = AdapterKind.Full, SequenceLength = 512 });
        Assert.Equal((6_738_415_616 + 4_194_304) * 4, lora.WeightsBytes);
        Assert.Equal(4_194_304 * 4, lora.GradientBytes);
        Assert.Equal(6_738_415_616 * 4, full.GradientBytes);
        Assert.Equal(lora.ActivationBytes, full.ActivationBytes);
    }

    [Fact]
    public void Llama_2_7B_modules_to_save_count_as_trainable_from_config_json_the_final_norm_and_the_untied_head()
    {
        var folder = Llama2_7B();
        var norm = ParameterReport.Compute(folder, 8, ["q_proj", "v_proj"], modulesToSave: ["norm"]);
        Assert.Equal(["model.norm"], norm.ModulesToSave); // the whole segment: not input_layernorm
        Assert.Equal(4_194_304, norm.LoraParameters);
        Assert.Equal(4_194_304 + 4096, norm.TrainableParameters);
        Assert.Equal(6_738_415_616 + 4_194_304, norm.TotalParameters); // trained in place: nothing added to the model

        var head = ParameterReport.Compute(folder, 8, [LoraInjector.AllLinear], modulesToSave: ["lm_head"]);
        Assert.Equal(32_000L * 4096, head.TrainableParameters - head.LoraParameters);
        Assert.DoesNotContain("lm_head", head.AdaptedModules); // a saved module is never a target

        // The memory estimate follows: gradients (and AdamW state) for the head too.
        var estimate = TrialMemoryEstimator.Estimate(new TrainingConfig { Model = folder, Rank = 8, TargetModules = ["q_proj", "v_proj"], ModulesToSave = ["lm_head"] });
        Assert.Equal((4_194_304 + 32_000L * 4096) * 4, estimate.GradientBytes);
    }

    [Theory]
    [MemberData(nameof(DecoderParityTests.Families), MemberType = typeof(DecoderParityTests))]
    public void Modules_to_save_counted_from_config_json_equal_the_loaded_model_training_them(string family)
    {
        var folder = folders.Of(family);
        string[] saved = family == "gpt2" ? ["ln_f", "wpe"] : ["norm", "layers.0.input_layernorm"];
        var report = ParameterReport.Compute(folder, 4, [LoraInjector.AllLinear], modulesToSave: saved);
        using var model = CausalLanguageModels.FromPretrained(folder);
        model.TrainInFull(saved);
        var injection = LoraInjector.Inject((nn.Module)model, new TrainingConfig { Model = folder, Rank = 4, TargetModules = [LoraInjector.AllLinear] }, seed: 0);

        Assert.Equal(model.ModulesToSave, report.ModulesToSave);
        Assert.Equal(ParameterCount.Trainable((nn.Module)model), report.TrainableParameters);
        Assert.Equal(injection.TotalParameters, report.TotalParameters);
    }

    [Fact]
    public void Modules_to_save_that_training_refuses_are_refused_when_counted_with_the_same_reason()
    {
        var gpt2 = Assert.Throws<ArgumentException>(() => ParameterReport.Compute(folders.Of("gpt2"), 4, [], modulesToSave: ["h.0.attn.c_attn"]));
        Assert.Contains("Conv1D", gpt2.Message, StringComparison.Ordinal);
        var tied = Assert.Throws<ArgumentException>(() => ParameterReport.Compute(folders.Of("gpt2"), 4, [], modulesToSave: ["lm_head"]));
        Assert.Contains("tie_word_embeddings", tied.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<ArgumentException>(() => ParameterReport.Compute(Llama2_7B(), 4, [], modulesToSave: ["final_norm"]));
        Assert.Contains("'final_norm' names no module", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("model.norm", unknown.Message, StringComparison.Ordinal);
        var encoder = Assert.Throws<ArgumentException>(() => ParameterReport.Compute("mlp", 4, [], modulesToSave: ["norm"]));
        Assert.Contains("is not one", encoder.Message, StringComparison.Ordinal);

        using var loaded = CausalLanguageModels.FromPretrained(folders.Of("gpt2"));
        var same = Assert.Throws<ArgumentException>(() => loaded.TrainInFull(["h.0.attn.c_attn"]));
        Assert.Equal(gpt2.Message, same.Message);
    }
}
