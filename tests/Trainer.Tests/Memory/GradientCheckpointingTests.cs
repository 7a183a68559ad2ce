using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

public sealed class GradientCheckpointingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static readonly LlamaConfig Tiny = new()
    {
        VocabSize = 257, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 3, NumAttentionHeads = 2, MaxPositionEmbeddings = 64,
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_checkpointed_step_gives_bit_for_bit_the_loss_and_every_gradient_of_the_step_without_it(bool lora)
    {
        var (loss, grads) = Step(lora, checkpointing: false);
        var (checkpointedLoss, checkpointedGrads) = Step(lora, checkpointing: true);

        Assert.Equal(loss, checkpointedLoss);
        Assert.Equal(grads.Keys, checkpointedGrads.Keys);
        Assert.NotEmpty(grads);
        foreach (var (name, grad) in grads)
        {
            Assert.True(grad.Any(g => g != 0), $"{name} got no gradient");
            Assert.True(grad.SequenceEqual(checkpointedGrads[name]), $"{name} differs");
        }
    }

    [Fact]
    public void A_trial_with_gradient_checkpointing_ends_with_the_metrics_and_adapter_bytes_of_the_same_trial_without_it()
    {
        var folder = _workspace.Sub("tiny-llama");
        using (var llama = LlamaModel.Create(Tiny, seed: 1)) llama.SavePretrained(folder);
        var config = new TrainingConfig
        {
            Model = "llama", Dataset = "text", Rank = 4, Alpha = 8, TargetModules = ["all-linear"], SequenceLength = 32,
            BatchSize = 8, MaxSteps = 6, EvalEvery = 6, LearningRate = 1e-2, Seed = 2,
        };
        var spec = new BaseModelSpec { Checkpoint = folder };

        var plain = TrialTrainer.Run(new TrainingRequest(config, spec, _workspace.Sub("plain"), _workspace.Sub("bases")), null, CancellationToken.None);
        var checkpointed = TrialTrainer.Run(new TrainingRequest(config with { GradientCheckpointing = true }, spec, _workspace.Sub("checkpointed"), _workspace.Sub("bases")), null, CancellationToken.None);

        Assert.Equal(plain.Metrics, checkpointed.Metrics);
        Assert.Equal(plain.FileSha256["adapter/adapter_model.safetensors"], checkpointed.FileSha256["adapter/adapter_model.safetensors"]);
    }

    [Fact]
    public void Gradient_checkpointing_with_lora_dropout_is_refused_at_validation()
    {
        var config = new TrainingConfig { Model = "llama", Dataset = "text", Dropout = 0.1, GradientCheckpointing = true };

        var problem = Assert.Single(config.Problems(), p => p.Key == "gradient_checkpointing");

        Assert.Contains("LoRA dropout 0.1", problem.Message, StringComparison.Ordinal);
    }

    private static (float Loss, Dictionary<string, float[]> Grads) Step(bool lora, bool checkpointing)
    {
        using var llama = LlamaModel.Create(Tiny, seed: 1);
        if (lora)
        {
            LoraInjector.Inject(llama, new TrainingConfig { Model = "llama", Dataset = "text", Rank = 4, TargetModules = ["all-linear"] }, seed: 2);
            using var noGrad = no_grad();
            foreach (var layer in llama.modules().OfType<LoraLinear>()) layer.LoraB.normal_(0, 0.1, new Generator(3)); // B ≠ 0: A gets gradients too
        }
        else
        {
            foreach (var p in llama.parameters()) p.requires_grad = true;
        }
        using var scope = NewDisposeScope();
        var tokens = randint(0, 257, [2, 16], dtype: ScalarType.Int64, generator: new Generator(4));
        Tensor logits;
        using (GradientCheckpointing.Enable(checkpointing)) logits = llama.forward(tokens);
        var loss = TaskLoss.Compute(TaskKind.CausalLm, logits.narrow(1, 0, 15), tokens.narrow(1, 1, 15));
        loss.backward();
        var grads = llama.named_parameters().Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
        return (loss.item<float>(), grads);
    }
}
