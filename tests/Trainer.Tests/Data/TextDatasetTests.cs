using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using TorchSharp;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class TextDatasetTests
{
    [Fact]
    public void The_shipped_text_corpus_gives_next_token_targets_shifted_by_one_position()
    {
        using var text = (TensorDataset)DatasetCatalog.Load(new TrainingConfig { Dataset = "text", SequenceLength = 16 });

        Assert.Equal(TaskKind.CausalLm, text.Task);
        Assert.Equal(257, text.Classes);
        Assert.Equal(16, text.TrainInputs.shape[1]);
        Assert.True(text.TrainInputs.narrow(1, 1, 15).equal(text.TrainTargets.narrow(1, 0, 15)).all().item<bool>());
        Assert.True(text.TestCount > 0);
    }

    [Fact]
    public void An_unknown_dataset_name_is_rejected_listing_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => DatasetCatalog.Load(new TrainingConfig { Dataset = "imagenet" }));
        Assert.Contains("synthetic-regression", error.Message);
    }
}
