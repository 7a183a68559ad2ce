using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// MNIST from a folder of the four standard IDX files (plain or .gz, `train-images-idx3-ubyte` or
/// `train-images.idx3-ubyte` spelling). Pixels become floats in [0, 1] (torchvision's ToTensor, as in the
/// rank study), flattened to [N, 784]; labels are int64.
/// </summary>
public static class MnistDataset
{
    public const int Pixels = 28 * 28;
    public const int Classes = 10;

    public static TensorDataset Load(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"MNIST folder not found: {directory}");
        var (trainX, trainY) = LoadSplit(directory, "train");
        var (testX, testY) = LoadSplit(directory, "t10k");
        return new TensorDataset("mnist", TaskKind.Classification, Classes, trainX, trainY, testX, testY);
    }

    private static (Tensor Images, Tensor Labels) LoadSplit(string directory, string split)
    {
        var imagesPath = DatasetProbe.MnistFile(directory, $"{split}-images") ?? throw new FileNotFoundException($"no {split}-images IDX file in {directory}");
        var labelsPath = DatasetProbe.MnistFile(directory, $"{split}-labels") ?? throw new FileNotFoundException($"no {split}-labels IDX file in {directory}");
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);

        if (images.Dimensions.Count != 3 || images.Dimensions[1] * images.Dimensions[2] != Pixels)
            throw new IdxFormatException(imagesPath, $"expected images of shape [N, 28, 28], found [{string.Join(", ", images.Dimensions)}]");
        if (labels.Dimensions.Count != 1)
            throw new IdxFormatException(labelsPath, $"expected labels of shape [N], found [{string.Join(", ", labels.Dimensions)}]");
        if (labels.Dimensions[0] != images.Dimensions[0])
            throw new IdxFormatException(labelsPath, $"{labels.Dimensions[0]} labels for {images.Dimensions[0]} images in {imagesPath}");
        var bad = Array.FindIndex(labels.Data, l => l >= Classes);
        if (bad >= 0)
            throw new IdxFormatException(labelsPath, $"label {labels.Data[bad]} at index {bad} is not a digit");

        var n = images.Dimensions[0];
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(images.Data, [n, Pixels], dtype: ScalarType.Byte).to_type(ScalarType.Float32).div_(255f);
        var y = torch.tensor(labels.Data, [n], dtype: ScalarType.Byte).to_type(ScalarType.Int64);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }
}
