using Orchestrator.Sweeps.Search;

namespace Orchestrator.Sweeps.Tests;

public class ParzenEstimatorTests
{
    private static readonly SearchDimension Rank = new() { Name = "rank", Kind = DimensionKind.Numeric, Low = 1, High = 64, Step = 1, Integer = true };
    private static readonly SearchDimension Dropout = new() { Name = "dropout", Kind = DimensionKind.Numeric, Low = 0, High = 0.5 };

    /// <summary>A long history of an integer option: each value observed many times, with Optuna's ramp of weights.</summary>
    private static (double[] X, double[] W) History(int n, Func<int, double> value)
    {
        var x = Enumerable.Range(0, n).Select(value).Order().ToArray();
        return (x, TpeSampler.RampWeights(n));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(300)]
    [InlineData(5000)]
    public void An_integer_options_probabilities_over_its_values_sum_to_1_with_repeated_observations_merged(int n)
    {
        var (x, w) = History(n, i => 1 + (i * 37 % 64) / 4 * 4); // 16 distinct values, each observed n/16 times
        var estimator = new ParzenEstimator(Rank, x, w);

        var values = Enumerable.Range(1, 64).Select(v => (double)v).ToArray();
        var total = estimator.LogPdf(values).Sum(Math.Exp);

        Assert.Equal(1.0, total, 6); // the erfc used has a relative error under 1.2e-7
    }

    [Fact]
    public void Repeated_observations_weigh_as_the_kernels_they_stand_for()
    {
        // Three observations of 8 and one of 40, all of weight 1: the kernel at 8 carries three times the mass of
        // the one at 40 (they have the same width: each is clipped to the narrowest), so the density at 8 is higher.
        var estimator = new ParzenEstimator(Rank, [8, 8, 8, 40], [1, 1, 1, 1]);
        var single = new ParzenEstimator(Rank, [8, 40], [1, 1]);

        var at8 = estimator.LogPdf([8, 40]);
        var at8Single = single.LogPdf([8, 40]);

        Assert.True(at8[0] - at8[1] > at8Single[0] - at8Single[1] + 0.5, $"{at8[0]} {at8[1]} vs {at8Single[0]} {at8Single[1]}");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(2000)]
    public void A_continuous_options_density_integrates_to_1(int n)
    {
        var (x, w) = History(n, i => 0.5 * ((i * 0.6180339887) % 1.0));
        var estimator = new ParzenEstimator(Dropout, x, w);

        const int steps = 20_000;
        var h = 0.5 / steps;
        var midpoints = Enumerable.Range(0, steps).Select(i => (i + 0.5) * h).ToArray();
        var integral = estimator.LogPdf(midpoints).Sum(lp => Math.Exp(lp) * h);

        Assert.Equal(1.0, integral, 4);
    }
}
