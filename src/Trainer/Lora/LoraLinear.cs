using System.Globalization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>The knobs of one adapted layer (PEFT's per-layer LoRA settings).</summary>
public sealed record LoraLayerSettings(int Rank, double Alpha, double Dropout = 0, bool UseRslora = false, LoraInitMethod Init = default, bool UseDora = false)
{
    /// <summary>alpha/r, or alpha/sqrt(r) with rsLoRA (Kalajdzievski 2023), which keeps updates stable at high rank.</summary>
    public double Scaling => UseRslora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>The same rules as <see cref="TrainingConfig"/> (rank, alpha, dropout of <see cref="TrainingOptions"/>), checked per layer; init is valid by its type.</summary>
    /// <exception cref="InvalidTrainingConfigException">A setting breaks its rule.</exception>
    public void Validate()
    {
        var problems = new List<TrainingConfigProblem>();
        void Check(string key, string? need, object value)
        {
            if (need is not null) problems.Add(new(key, string.Create(CultureInfo.InvariantCulture, $"{key} must be {need}, got {value}")));
        }
        Check("rank", TrainingOptions.Get("rank").CheckInt(Rank), Rank);
        Check("alpha", TrainingOptions.Get("alpha").CheckNumber(Alpha), Alpha);
        Check("dropout", TrainingOptions.Get("dropout").CheckNumber(Dropout), Dropout);
        if (problems.Count > 0) throw new InvalidTrainingConfigException(problems);
    }
}

/// <summary>
/// A frozen <see cref="Linear"/> plus a trainable low-rank update: y = base(x) + (dropout(x) Aᵀ Bᵀ) · scaling, with
/// A [r, in] and B [out, r] laid out as PEFT's lora_A / lora_B weights. B starts at zero, so a fresh adapter
/// leaves the layer's output unchanged. PiSSA and OLoRA start A and B on W's principal part and take it out of the
/// base weight instead (<see cref="LoraInit"/>). With DoRA (Liu et al. 2024) the adapted weight is decomposed into a
/// trained magnitude per output row and a direction: W' = m · (W + s·B·A) / ‖W + s·B·A‖, the norm over each row of
/// the [out, in] weight, detached from the graph as the paper's section 4.3 and PEFT do; m starts at ‖W‖.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    // Field names are the registered component names (PEFT's layout: base_layer, lora_A, lora_B, lora_dropout, lora_magnitude_vector).
#pragma warning disable IDE1006
    private readonly Linear base_layer;
    private readonly Parameter lora_A;
    private readonly Parameter lora_B;
    private readonly GeneratorDropout? lora_dropout;
    private readonly Parameter? lora_magnitude_vector;
#pragma warning restore IDE1006

    // DoRA's row norms at merge time: unmerging divides by the same numbers.
    private Tensor? mergedWeightNorm;

    public LoraLinear(Linear baseLayer, LoraLayerSettings settings, long seed)
        : this(baseLayer, settings, CreateGenerator(seed), disposeGenerator: true)
    {
    }

    public LoraLinear(Linear baseLayer, LoraLayerSettings settings, Generator generator)
        : this(baseLayer, settings, generator, disposeGenerator: false)
    {
    }

    private LoraLinear(Linear baseLayer, LoraLayerSettings settings, Generator generator, bool disposeGenerator)
        : base(nameof(LoraLinear))
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();

        try
        {
            Settings = settings;
            base_layer = baseLayer;
            InFeatures = baseLayer.in_features;
            OutFeatures = baseLayer.out_features;

            var weight = BaseWeight;
            weight.requires_grad = false;
            if (baseLayer.bias is { } bias) bias.requires_grad = false;

            var device = weight.device;
            // fp32 over a half-precision or quantised base (PEFT's autocast_adapter_dtype), else the base's own type.
            var dtype = weight.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? ScalarType.Float32 : weight.dtype;
            using (no_grad())
            {
                // Drawn on the CPU so one generator gives the same adapter on every device.
                var start = LoraInit.Create(settings.Init, weight, OutFeatures, InFeatures, settings.Rank, settings.Scaling, generator);
                lora_A = new Parameter(Placed(start.A, dtype, device), requires_grad: true);
                lora_B = new Parameter(Placed(start.B, dtype, device), requires_grad: true);
                if (start.Residual is { } residual)
                {
                    // Kept to save the adapter against the unmodified base (PEFT's path_initial_model_for_weight_conversion).
                    InitialLoraA = lora_A.detach().cpu().clone();
                    InitialLoraB = lora_B.detach().cpu().clone();
                    weight.copy_(residual);
                    residual.Dispose();
                }
                if (settings.UseDora)
                {
                    using var norm = WeightNorm();
                    lora_magnitude_vector = new Parameter(norm.clone(), requires_grad: true);
                }
            }

            lora_dropout = settings.Dropout > 0 ? new GeneratorDropout(settings.Dropout) : null;
            RegisterComponents();
        }
        finally
        {
            if (disposeGenerator) generator.Dispose();
        }
    }

    public LoraLayerSettings Settings { get; }
    public long InFeatures { get; }
    public long OutFeatures { get; }
    public int Rank => Settings.Rank;
    public double Scaling => Settings.Scaling;

    /// <summary>The wrapped, frozen layer.</summary>
    public Linear BaseLayer => base_layer;

    /// <summary>[r, in], PEFT's lora_A.weight.</summary>
    public Parameter LoraA => lora_A;

    /// <summary>[out, r], PEFT's lora_B.weight.</summary>
    public Parameter LoraB => lora_B;

    /// <summary>DoRA's trained magnitude m [out] (PEFT's lora_magnitude_vector); null without DoRA.</summary>
    public Parameter? MagnitudeVector => lora_magnitude_vector;

    /// <summary>
    /// A and B as PiSSA / OLoRA started them (CPU copies), when that start moved part of W out of the base weight;
    /// null for kaiming and gaussian. Saving against the unmodified base needs them: ΔW = s·(B·A − B₀·A₀).
    /// </summary>
    public Tensor? InitialLoraA { get; }

    /// <inheritdoc cref="InitialLoraA"/>
    public Tensor? InitialLoraB { get; }

    /// <summary>True while the adapter is folded into the base weight; the forward pass then skips the adapter path.</summary>
    public bool Merged { get; private set; }

    /// <summary>Whether the wrapped layer's bias trains (PEFT bias `all` / `lora_only`). The layer must have a bias to set true.</summary>
    public bool BiasTrains
    {
        get => base_layer.bias is { requires_grad: true };
        set
        {
            if (base_layer.bias is { } bias) bias.requires_grad = value;
            else if (value) throw new InvalidOperationException("The wrapped linear layer has no bias to train.");
        }
    }

    /// <summary>Trainable parameters this layer adds: r·(in+out), DoRA's out magnitudes, plus the bias when it trains.</summary>
    public long TrainableParameterCount =>
        lora_A.numel() + lora_B.numel() + (lora_magnitude_vector?.numel() ?? 0)
        + (base_layer.bias is { requires_grad: true } bias ? bias.numel() : 0);

    /// <summary>
    /// W, the base layer's weight [out, in]: the one place this layer reads (and, for PiSSA / OLoRA and merging,
    /// writes in place) it, so a base stored another way changes here only.
    /// </summary>
    private Tensor BaseWeight => base_layer.weight ?? throw new InvalidOperationException("The wrapped linear layer has no weight.");

    public override Tensor forward(Tensor input)
    {
        if (Merged) return base_layer.forward(input);

        using var scope = NewDisposeScope();
        var result = FrozenLinear.Forward(base_layer, input); // through its quantised weight when the base is quantised
        var dropping = lora_dropout is not null && training;
        if (lora_magnitude_vector is null && !dropping && input.dtype != lora_A.dtype)
        {
            // A half-precision base's input under fp32 adapters: widened inside, not kept widened for the backward.
            return result.add_(LowRankUpdateFunction.Apply(input, lora_A, lora_B).mul_(Scaling)).MoveToOuterDisposeScope();
        }
        // In the adapter's own type (fp32) when the frozen base computes in half precision (base_dtype), as PEFT casts.
        var x = (dropping ? lora_dropout!.forward(input) : input).to(lora_A.dtype);
        var update = nn.functional.linear(nn.functional.linear(x, lora_A), lora_B);
        if (lora_magnitude_vector is null) return result.add_(update.mul_(Scaling)).MoveToOuterDisposeScope();

        // PEFT's DoraLinearLayer.forward: (m/‖W + s·BA‖ − 1)·(x Wᵀ) + m/‖W + s·BA‖ · s·(x Aᵀ Bᵀ), added to base(x).
        // Without active dropout x Wᵀ is base(x) less its bias; with it, W applied to the dropped input.
        using var norm = WeightNorm();
        var factor = lora_magnitude_vector.div(norm);
        var baseResult = dropping
            ? nn.functional.linear(x, BaseWeight)
            : base_layer.bias is { } bias ? result.sub(bias) : result;
        var dora = baseResult.mul(factor.sub(1)).add_(update.mul_(factor).mul_(Scaling));
        return result.add_(dora).MoveToOuterDisposeScope();
    }

    /// <summary>Folds the adapter into the base weight (for inference). A second call does nothing.</summary>
    public void Merge()
    {
        if (Merged) return;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var delta = DeltaWeight();
            if (lora_magnitude_vector is null)
            {
                BaseWeight.add_(delta);
            }
            else
            {
                // PEFT's DoRA merge: W ← (m/‖W + ΔW‖)·(W + ΔW), keeping the norm to undo it exactly.
                mergedWeightNorm = WeightNorm().DetachFromDisposeScope();
                BaseWeight.add_(delta).mul_(lora_magnitude_vector.div(mergedWeightNorm).unsqueeze(1));
            }
        }
        Merged = true;
    }

    /// <summary>Takes the merged update back out of the base weight. Does nothing when not merged.</summary>
    public void Unmerge()
    {
        if (!Merged) return;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var delta = DeltaWeight();
            if (mergedWeightNorm is not null)
            {
                BaseWeight.div_(lora_magnitude_vector!.div(mergedWeightNorm).unsqueeze(1));
                mergedWeightNorm.Dispose();
                mergedWeightNorm = null;
            }
            BaseWeight.sub_(delta);
        }
        Merged = false;
    }

    /// <summary>ΔW = B·A·scaling, [out, in]. The caller owns the returned tensor.</summary>
    public Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        return lora_B.matmul(lora_A).mul_(Scaling).detach().MoveToOuterDisposeScope();
    }

    /// <summary>‖W + s·B·A‖ per output row [out], detached (PEFT's get_weight_norm on a detached B·A). The caller owns it.</summary>
    private Tensor WeightNorm()
    {
        using var scope = NewDisposeScope();
        using var delta = DeltaWeight();
        return linalg.norm(BaseWeight.detach().add(delta), dims: [1]).detach().MoveToOuterDisposeScope();
    }

    private static Tensor Placed(Tensor tensor, ScalarType dtype, Device device)
    {
        if (tensor.dtype == dtype && tensor.device.type == device.type && tensor.device.index == device.index) return tensor;
        var moved = tensor.to(dtype, device);
        tensor.Dispose();
        return moved;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            InitialLoraA?.Dispose();
            InitialLoraB?.Dispose();
            mergedWeightNorm?.Dispose();
        }
        base.Dispose(disposing);
    }

    internal static Generator CreateGenerator(long seed) => new(unchecked((ulong)seed), CPU);
}
