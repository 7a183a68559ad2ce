using Orchestrator.Trials.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>A starting adapter: A [r, in], B [out, r], and the base weight to use instead of W (null: W unchanged).</summary>
public sealed record LoraStart(Tensor A, Tensor B, Tensor? Residual);

/// <summary>
/// PEFT's init_lora_weights, one method each. kaiming and gaussian draw A and zero B, so the adapter starts as no
/// change. PiSSA (Meng et al. 2024) and OLoRA (Büyükakyüz 2024) start A and B on the principal part of W and move that
/// part out of the base (W_res = W − s·B·A), so the adapted layer still computes W at step 0.
/// </summary>
public static class LoraInit
{
    /// <summary>
    /// The start <paramref name="init"/> gives a layer of <paramref name="outFeatures"/> × <paramref name="inFeatures"/>
    /// with base weight <paramref name="weight"/> (read by PiSSA and OLoRA only: a quantised base holds a placeholder).
    /// Tensors are float32 on the CPU (the generator's device); the caller owns them.
    /// </summary>
    public static LoraStart Create(LoraInitMethod init, Tensor weight, long outFeatures, long inFeatures, int rank, double scaling, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (init.Kind == LoraInitKind.Pissa) return Pissa(weight, rank, scaling, init.SubspaceIterations, generator);
        if (init.Kind == LoraInitKind.Olora) return Olora(weight, rank, scaling);

        var a = empty(rank, inFeatures, dtype: ScalarType.Float32);
        if (init.Kind == LoraInitKind.Gaussian)
        {
            // PEFT's init_lora_weights="gaussian": A ~ N(0, (1/r)²).
            a.normal_(0, 1.0 / rank, generator);
        }
        else
        {
            // kaiming_uniform_(a=√5) on a [r, in] matrix is U(-1/√in, 1/√in): gain √(2/(1+5)) × √(3/in).
            var bound = 1.0 / Math.Sqrt(inFeatures);
            a.uniform_(-bound, bound, generator); // nn.init.uniform_ ignores the generator in TorchSharp 0.107
        }
        return new LoraStart(a, zeros(outFeatures, rank, dtype: ScalarType.Float32), null);
    }

    /// <summary>
    /// PEFT's pissa_init: W = V S Uᴴ; A = diag(√(S_r/s)) Uᴴ_r, B = V_r diag(√(S_r/s)), so s·B·A is W's best rank-r
    /// part; W_res = W − s·B·A. With <paramref name="subspaceIterations"/>, the top r come from a randomized SVD
    /// (torch.svd_lowrank with niter = K, its random start drawn from <paramref name="generator"/>).
    /// </summary>
    public static LoraStart Pissa(Tensor weight, int rank, double scaling, int? subspaceIterations, Generator generator)
    {
        using var scope = NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32, CPU);
        Tensor vr, sr, uhr;
        if (subspaceIterations is { } niter)
        {
            var (u, s, v) = SvdLowRank(w, rank, niter, generator);
            (vr, sr, uhr) = (u, s, v.t());
        }
        else
        {
            var (u, s, vh) = linalg.svd(w, fullMatrices: false);
            (vr, sr, uhr) = (u[.., ..rank], s[..rank], vh[..rank]);
        }
        var root = sr.div(scaling).sqrt();
        var a = diag(root).matmul(uhr).contiguous();
        var b = vr.matmul(diag(root)).contiguous();
        var residual = w - b.matmul(a).mul(scaling);
        return new LoraStart(a.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), residual.MoveToOuterDisposeScope());
    }

    /// <summary>PEFT's olora_init: W = Q R; A = R[:r], B = Q[:, :r]; W_res = W − s·B·A.</summary>
    public static LoraStart Olora(Tensor weight, int rank, double scaling)
    {
        using var scope = NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32, CPU);
        var (q, r) = linalg.qr(w);
        var a = r[..rank].contiguous();
        var b = q[.., ..rank].contiguous();
        var residual = w - b.matmul(a).mul(scaling);
        return new LoraStart(a.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), residual.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// torch.svd_lowrank(A, q, niter) of torch 1.13 (Halko et al. 2009, algorithm 5.1, as torch arranges it): U [m, q],
    /// S [q], V [n, q] with A ≈ U diag(S) Vᴴ. The Gaussian start is drawn from <paramref name="generator"/>, where
    /// torch draws from its global generator; seeded alike, the two draw the same numbers.
    /// </summary>
    public static (Tensor U, Tensor S, Tensor V) SvdLowRank(Tensor a, int q, int niter, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(a);
        using var scope = NewDisposeScope();
        var (m, n) = (a.shape[0], a.shape[1]);
        Tensor u, s, v;
        if (m < n || n > q)
        {
            // torch approximates the transpose's range here, which keeps the small SVD q wide.
            var basis = ApproximateBasis(a.t(), q, niter, generator); // [n, q]
            (u, s, var vh) = linalg.svd(a.matmul(basis), fullMatrices: false);
            v = basis.matmul(vh.t());
        }
        else
        {
            var basis = ApproximateBasis(a, q, niter, generator); // [m, q]
            (var small, s, var vh) = linalg.svd(a.t().matmul(basis).t(), fullMatrices: false);
            v = vh.t();
            u = basis.matmul(small);
        }
        return (u.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());
    }

    /// <summary>torch's get_approximate_basis: an orthonormal [m, q] basis of <paramref name="a"/>'s range from a Gaussian start and niter power iterations.</summary>
    private static Tensor ApproximateBasis(Tensor a, int q, int niter, Generator generator)
    {
        var start = randn([a.shape[1], q], dtype: a.dtype, generator: generator);
        var basis = linalg.qr(a.matmul(start)).Q;
        for (var i = 0; i < niter; i++)
        {
            basis = linalg.qr(a.t().matmul(basis)).Q;
            basis = linalg.qr(a.matmul(basis)).Q;
        }
        return basis;
    }
}
