using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// The target-module comparison's data: 100 training sequences of 32 tokens × 256 features (batch 10 in the
/// exercise) and 20 test sequences. The exercise regresses onto independent noise, which no model can learn; here
/// the targets come from a fixed random teacher, y = x + 0.5·tanh(x·W₁)·W₂ with W scaled by 1/√256, so a
/// [B, T, 256] → [B, T, 256] block has a real function to approach and test MSE means something.
/// The data does not depend on the trial's seed: every trial sees the same samples.
/// </summary>
public static class SyntheticRegressionDataset
{
    public const int SequenceLength = 32;
    public const int Width = 256;
    public const int TrainSamples = 100;
    public const int TestSamples = 20;
    public const long DataSeed = 20_231_115;

    public static TensorDataset Create(int trainSamples = TrainSamples, int testSamples = TestSamples)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator((ulong)DataSeed);
        var scale = 1.0f / MathF.Sqrt(Width);
        var w1 = torch.randn([Width, Width], generator: generator).mul_(scale);
        var w2 = torch.randn([Width, Width], generator: generator).mul_(scale);
        var x = torch.randn([trainSamples + testSamples, SequenceLength, Width], generator: generator);
        var y = x + 0.5f * torch.tanh(x.matmul(w1)).matmul(w2);

        var trainX = x.narrow(0, 0, trainSamples).contiguous();
        var trainY = y.narrow(0, 0, trainSamples).contiguous();
        var testX = x.narrow(0, trainSamples, testSamples).contiguous();
        var testY = y.narrow(0, trainSamples, testSamples).contiguous();
        var dataset = new TensorDataset("synthetic-regression", TaskKind.Regression, 0,
            trainX.MoveToOuterDisposeScope(), trainY.MoveToOuterDisposeScope(),
            testX.MoveToOuterDisposeScope(), testY.MoveToOuterDisposeScope());
        return dataset;
    }
}
