using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Tests.Training;
using TorchSharp;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class MnistDatasetTests
{
    private static string ShippedMnist => Path.Combine(DatasetCatalog.DefaultDataDirectory, "mnist");

    [Fact]
    public void The_shipped_mnist_has_8000_training_and_2000_test_digits_as_unit_range_pixels_and_int64_labels()
    {
        using var mnist = MnistDataset.Load(ShippedMnist);

        Assert.Equal(TaskKind.Classification, mnist.Task);
        Assert.Equal(8000, mnist.TrainCount);
        Assert.Equal(2000, mnist.TestCount);
        Assert.Equal([8000L, 784L], mnist.TrainInputs.shape);
        Assert.Equal(torch.ScalarType.Int64, mnist.TrainTargets.dtype);
        Assert.InRange(mnist.TrainInputs.min().item<float>(), 0f, 0f);
        Assert.InRange(mnist.TrainInputs.max().item<float>(), 0.99f, 1f);
        Assert.Equal(10, mnist.TrainTargets.unique().Item1.numel());
    }

    [Fact]
    public void A_folder_of_official_uncompressed_files_with_dotted_names_loads_too()
    {
        using var workspace = new TestWorkspace();
        foreach (var (source, target) in new[]
                 {
                     ("train-images-idx3-ubyte.gz", "train-images.idx3-ubyte"), ("train-labels-idx1-ubyte.gz", "train-labels.idx1-ubyte"),
                     ("t10k-images-idx3-ubyte.gz", "t10k-images.idx3-ubyte"), ("t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte"),
                 })
        {
            IdxFile.Write(workspace.Sub(target), IdxFile.Read(Path.Combine(ShippedMnist, source)), gzip: false);
        }

        Assert.True(DatasetProbe.IsMnistFolder(workspace.Root));
        using var dataset = DatasetCatalog.Load(new() { Dataset = workspace.Root });
        Assert.Equal(8000, dataset.TrainCount);
    }

    [Fact]
    public void Labels_that_are_not_digits_are_rejected_naming_the_label_file()
    {
        using var workspace = new TestWorkspace();
        foreach (var file in Directory.GetFiles(ShippedMnist, "*.gz")) File.Copy(file, workspace.Sub(Path.GetFileName(file)));
        var labels = workspace.Sub("t10k-labels-idx1-ubyte.gz");
        var array = IdxFile.Read(labels);
        array.Data[5] = 42;
        IdxFile.Write(labels, array, gzip: true);

        var error = Assert.Throws<IdxFormatException>(() => MnistDataset.Load(workspace.Root));

        Assert.Equal(labels, error.FilePath);
        Assert.Contains("label 42 at index 5", error.Message);
    }
}
