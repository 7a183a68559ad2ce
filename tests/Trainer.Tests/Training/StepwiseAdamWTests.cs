using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class StepwiseAdamWTests
{
    [Fact]
    public void It_updates_parameters_and_moments_bit_for_bit_as_TorchSharps_AdamW_over_parameter_groups_and_steps()
    {
        using var scope = NewDisposeScope();
        var (torchSharp, torchSharpState) = Train(ps => new AdamW([new AdamW.ParamGroup(ps[..2], 1e-2, 0.9, 0.999, 1e-8, 0.01), new AdamW.ParamGroup(ps[2..], 3e-2, 0.9, 0.999, 1e-8, 0)], 1e-2, 0.9, 0.999, 1e-8));
        var (stepwise, stepwiseState) = Train(ps => new StepwiseAdamW([new AdamW.ParamGroup(ps[..2], 1e-2, 0.9, 0.999, 1e-8, 0.01), new AdamW.ParamGroup(ps[2..], 3e-2, 0.9, 0.999, 1e-8, 0)], 1e-2, 0.9, 0.999, 1e-8));

        for (var i = 0; i < torchSharp.Count; i++)
        {
            Assert.True(stepwise[i].allclose(torchSharp[i], rtol: 0, atol: 0), $"parameter {i} differs");
            Assert.True(stepwiseState[i].ExpAvg.allclose(torchSharpState[i].ExpAvg, rtol: 0, atol: 0), $"exp_avg {i} differs");
            Assert.True(stepwiseState[i].ExpAvgSq.allclose(torchSharpState[i].ExpAvgSq, rtol: 0, atol: 0), $"exp_avg_sq {i} differs");
            Assert.Equal(torchSharpState[i].Step, stepwiseState[i].Step);
        }
    }

    private static (List<Tensor> Parameters, List<(Tensor ExpAvg, Tensor ExpAvgSq, long Step)> State) Train(Func<Parameter[], AdamW> optimizerOf)
    {
        var generator = new Generator(3);
        var parameters = new[] { randn([8, 4], generator: generator), randn([4], generator: generator), randn([4, 8], generator: generator) }
            .Select(t => new Parameter(t, requires_grad: true)).ToArray();
        var optimizer = optimizerOf(parameters);
        var data = new Generator(5);
        for (var step = 0; step < 5; step++)
        {
            optimizer.zero_grad();
            var x = randn([6, 8], generator: data);
            var loss = x.matmul(parameters[0]).add(parameters[1]).tanh().matmul(parameters[2]).pow(2).mean();
            loss.backward();
            optimizer.step();
        }
        var states = optimizer.state_dict().State.Cast<AdamW.State>().Select(s => (s.exp_avg.clone(), s.exp_avg_sq.clone(), s.step)).ToList();
        return (parameters.Select(p => p.detach().clone()).ToList(), states);
    }
}
