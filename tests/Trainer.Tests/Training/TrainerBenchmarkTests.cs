using System.Text.Json;
using Orchestrator.Trainer.Benchmarks;
using Xunit.Abstractions;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class TrainerBenchmarkTests(ITestOutputHelper output)
{
    // A sanity run, not a measurement: TRAINER_BENCH_STEPS raises the step count to measure for real.
    private static int Steps => int.TryParse(Environment.GetEnvironmentVariable("TRAINER_BENCH_STEPS"), out var n) ? n : 6;

    [Theory]
    [InlineData("mlp")]
    [InlineData("transformer-block")]
    public void The_benchmark_times_the_trainer_and_the_bare_loop_on_the_same_math(string model)
    {
        var result = TrainerBenchmark.Run(model, Steps, threads: 2);
        output.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));

        Assert.True(result.TrainerStepsPerSecond > 0);
        Assert.True(result.BareStepsPerSecond > 0);
        Assert.Equal(6.0 * result.ParametersTouched * result.TokensPerStep, result.FlopsPerStep);
        if (model == "mlp")
        {
            Assert.Equal(1024, result.TokensPerStep);
            Assert.Equal(55_050 + 8 * (784 + 64) + 8 * (64 + 64) + 8 * (64 + 10), result.ParametersTouched);
        }
        else
        {
            Assert.Equal(320, result.TokensPerStep);
            Assert.Equal(8192, result.TrainableParameters);
        }
    }
}
