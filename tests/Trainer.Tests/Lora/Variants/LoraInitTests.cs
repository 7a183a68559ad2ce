using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora.Variants;

public sealed class LoraInitTests(ITestOutputHelper output)
{
    private const int Rank = 3;
    private const double Alpha = 6; // scaling 2, so the 1/s inside PiSSA's √(σ/s) is exercised

    /// <summary>An [8, 6] weight with a clear spectrum (σ = 8, 6, 4, 1, 0.5, 0.25) from a seeded draw.</summary>
    private static Tensor Weight()
    {
        using var generator = new Generator(17, CPU);
        var (u, _) = linalg.qr(randn([8, 6], generator: generator));
        var (v, _) = linalg.qr(randn([6, 6], generator: generator));
        return u.matmul(diag(tensor(new float[] { 8, 6, 4, 1, 0.5f, 0.25f }))).matmul(v.t());
    }

    private static LoraLinear Adapt(Tensor weight, string init, long seed = 1) => Adapt(weight, LoraInitMethod.Parse(init), seed);

    private static LoraLinear Adapt(Tensor weight, LoraInitMethod init, long seed = 1)
    {
        using var generator = LinearInit.Generator(seed);
        var linear = LinearInit.Create(weight.shape[1], weight.shape[0], hasBias: true, generator);
        using (no_grad()) linear.weight!.copy_(weight);
        return new LoraLinear(linear, new LoraLayerSettings(Rank, Alpha, Init: init), seed);
    }

    /// <summary>
    /// Singular vectors and QR columns are defined up to sign: flip each of B's columns (and A's matching row) so that
    /// the column's largest entry is positive, in ours and the reference alike.
    /// </summary>
    private static (Tensor A, Tensor B) SignFixed(Tensor a, Tensor b)
    {
        var index = b.abs().argmax(0);
        var signs = b.gather(0, index.unsqueeze(0)).squeeze(0).sign();
        return (a.mul(signs.unsqueeze(1)), b.mul(signs.unsqueeze(0)));
    }

    private double Compare(string what, LoraLinear layer, JsonElement reference, double tolerance)
    {
        var (a, b) = SignFixed(layer.LoraA.detach(), layer.LoraB.detach());
        var (ra, rb) = SignFixed(PlainTorchReference.ToTensor(reference.GetProperty("a")), PlainTorchReference.ToTensor(reference.GetProperty("b")));
        var da = PlainTorchReference.MaxAbsDifference(a, ra);
        var db = PlainTorchReference.MaxAbsDifference(b, rb);
        var dw = PlainTorchReference.MaxAbsDifference(layer.BaseLayer.weight!, PlainTorchReference.ToTensor(reference.GetProperty("residual")));
        output.WriteLine($"{what} vs plain torch: max |ΔA| = {da:E2}, max |ΔB| = {db:E2}, max |ΔW_res| = {dw:E2}");
        Assert.True(da < tolerance && db < tolerance && dw < tolerance, $"{what}: {da}, {db}, {dw}");
        return Math.Max(da, Math.Max(db, dw));
    }

    [Fact]
    public void PiSSA_starts_A_and_B_on_the_top_r_singular_vectors_scaled_by_root_sigma_and_leaves_the_residual_in_the_base()
    {
        using var scope = NewDisposeScope();
        var weight = Weight();
        using var layer = Adapt(weight, LoraInitMethod.Pissa);
        var reference = PlainTorchReference.Run(new JsonObject
        {
            ["case"] = "pissa", ["w"] = PlainTorchReference.ToJson(weight), ["rank"] = Rank, ["scaling"] = layer.Scaling,
        });
        Compare("PiSSA", layer, reference, 1e-5);

        // The definition itself: the rows of A are orthogonal with squared norms σ_i / s.
        var gram = layer.LoraA.matmul(layer.LoraA.t());
        Assert.True(gram.allclose(diag(tensor(new float[] { 8, 6, 4 }).div(layer.Scaling)), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void PiSSA_niter_K_is_torch_svd_lowrank_with_K_subspace_iterations_from_the_same_seed()
    {
        using var scope = NewDisposeScope();
        var weight = Weight();
        var start = LoraInit.Pissa(weight, Rank, 2.0, subspaceIterations: 2, new Generator(23, CPU));
        var reference = PlainTorchReference.Run(new JsonObject
        {
            ["case"] = "pissa_niter", ["w"] = PlainTorchReference.ToJson(weight), ["rank"] = Rank, ["scaling"] = 2.0, ["niter"] = 2, ["seed"] = 23,
        });
        var (a, b) = SignFixed(start.A, start.B);
        var (ra, rb) = SignFixed(PlainTorchReference.ToTensor(reference.GetProperty("a")), PlainTorchReference.ToTensor(reference.GetProperty("b")));
        var da = PlainTorchReference.MaxAbsDifference(a, ra);
        var db = PlainTorchReference.MaxAbsDifference(b, rb);
        var dw = PlainTorchReference.MaxAbsDifference(start.Residual!, PlainTorchReference.ToTensor(reference.GetProperty("residual")));
        output.WriteLine($"pissa_niter_2 vs torch.svd_lowrank(niter=2), seed 23: max |ΔA| = {da:E2}, max |ΔB| = {db:E2}, max |ΔW_res| = {dw:E2}");
        Assert.True(da < 1e-4 && db < 1e-4 && dw < 1e-4, $"{da}, {db}, {dw}");
    }

    [Fact]
    public void PiSSA_niter_K_through_a_layer_is_seeded_by_the_adapter_seed()
    {
        using var scope = NewDisposeScope();
        var weight = Weight();
        using var first = Adapt(weight, "pissa_niter_1", seed: 3);
        using var second = Adapt(weight, "pissa_niter_1", seed: 3);
        Assert.True(first.LoraA.Same(second.LoraA));
        Assert.True(first.BaseLayer.weight!.Same(second.BaseLayer.weight!));
    }

    [Fact]
    public void OLoRA_starts_A_and_B_from_the_QR_of_W_and_leaves_the_residual_in_the_base()
    {
        using var scope = NewDisposeScope();
        var weight = Weight();
        using var layer = Adapt(weight, LoraInitMethod.Olora);
        var reference = PlainTorchReference.Run(new JsonObject
        {
            ["case"] = "olora", ["w"] = PlainTorchReference.ToJson(weight), ["rank"] = Rank, ["scaling"] = layer.Scaling,
        });
        Compare("OLoRA", layer, reference, 1e-5);
        // B's columns are orthonormal (Q's first r columns).
        Assert.True(layer.LoraB.t().matmul(layer.LoraB).allclose(eye(Rank), rtol: 0, atol: 1e-5));
    }

    [Theory]
    [InlineData("pissa")]
    [InlineData("pissa_niter_2")]
    [InlineData("olora")]
    public void Inits_that_move_W_into_the_adapter_leave_the_layer_output_unchanged_at_step_0(string init)
    {
        using var scope = NewDisposeScope();
        var weight = Weight();
        using var layer = Adapt(weight, init);
        var x = randn(5, 6);
        var expected = x.matmul(weight.t()).add(layer.BaseLayer.bias!);
        Assert.True(layer.forward(x).allclose(expected, rtol: 1e-4, atol: 1e-5));
        Assert.NotNull(layer.InitialLoraA);
        Assert.False(layer.BaseLayer.weight!.allclose(weight)); // the base holds the residual now
    }

    [Fact]
    public void Kaiming_and_gaussian_leave_the_base_weight_alone_and_keep_no_initial_adapter()
    {
        using var scope = NewDisposeScope();
        var weight = Weight();
        using var layer = Adapt(weight, LoraInitMethod.Gaussian);
        Assert.True(layer.BaseLayer.weight!.Same(weight));
        Assert.Null(layer.InitialLoraA);
    }
}
