using System.Globalization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>The knobs of one adapted layer (PEFT's per-layer LoRA settings).</summary>
public sealed record LoraLayerSettings(int Rank, double Alpha, double Dropout = 0, bool UseRslora = false, string Init = InitModes.Kaiming)
{
    /// <summary>alpha/r, or alpha/sqrt(r) with rsLoRA (Kalajdzievski 2023), which keeps updates stable at high rank.</summary>
    public double Scaling => UseRslora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>The same rules as <see cref="TrainingConfig"/> (rank, alpha, dropout, init of <see cref="TrainingOptions"/>), checked per layer.</summary>
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
        Check("init", TrainingOptions.Get("init").CheckString(Init), $"'{Init}'");
        if (problems.Count > 0) throw new InvalidTrainingConfigException(problems);
    }
}

/// <summary>
/// A frozen <see cref="Linear"/> plus a trainable low-rank update: y = base(x) + (dropout(x) Aᵀ Bᵀ) · scaling, with
/// A [r, in] and B [out, r] laid out as PEFT's lora_A / lora_B weights. B starts at zero, so a fresh adapter
/// leaves the layer's output unchanged.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    // Field names are the registered component names (PEFT's layout: base_layer, lora_A, lora_B, lora_dropout).
#pragma warning disable IDE1006
    private readonly Linear base_layer;
    private readonly Parameter lora_A;
    private readonly Parameter lora_B;
    private readonly GeneratorDropout? lora_dropout;
#pragma warning restore IDE1006

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

            var weight = baseLayer.weight ?? throw new ArgumentException("The wrapped linear layer has no weight.", nameof(baseLayer));
            weight.requires_grad = false;
            if (baseLayer.bias is { } bias) bias.requires_grad = false;

            var device = weight.device;
            var dtype = weight.dtype;
            using (no_grad())
            {
                // Drawn on the CPU so one generator gives the same adapter on every device.
                var a = empty(settings.Rank, InFeatures, dtype: dtype);
                if (settings.Init == InitModes.Gaussian)
                {
                    // PEFT's init_lora_weights="gaussian": A ~ N(0, (1/r)²).
                    a.normal_(0, 1.0 / settings.Rank, generator);
                }
                else
                {
                    // kaiming_uniform_(a=√5) on a [r, in] matrix is U(-1/√in, 1/√in): gain √(2/(1+5)) × √(3/in).
                    var bound = 1.0 / Math.Sqrt(InFeatures);
                    a.uniform_(-bound, bound, generator); // nn.init.uniform_ ignores the generator in TorchSharp 0.107
                }
                if (device.type != DeviceType.CPU)
                {
                    var moved = a.to(device);
                    a.Dispose();
                    a = moved;
                }
                lora_A = new Parameter(a, requires_grad: true);
                lora_B = new Parameter(zeros(OutFeatures, settings.Rank, dtype: dtype, device: device), requires_grad: true);
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

    /// <summary>True while B·A·scaling is folded into the base weight; the forward pass then skips the adapter path.</summary>
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

    /// <summary>Trainable parameters this layer adds: r·(in+out), plus the bias when it trains.</summary>
    public long TrainableParameterCount =>
        lora_A.numel() + lora_B.numel() + (base_layer.bias is { requires_grad: true } bias ? bias.numel() : 0);

    public override Tensor forward(Tensor input)
    {
        if (Merged) return base_layer.forward(input);

        using var scope = NewDisposeScope();
        var result = FrozenLinear.Forward(base_layer, input); // through its quantised weight when the base is quantised
        // In the adapter's own type (fp32) when the frozen base computes in half precision (base_dtype), as PEFT casts.
        var dropped = (lora_dropout is null ? input : lora_dropout.forward(input)).to(lora_A.dtype);
        var update = nn.functional.linear(nn.functional.linear(dropped, lora_A), lora_B).mul_(Scaling);
        return result.add_(update).MoveToOuterDisposeScope();
    }

    /// <summary>Folds B·A·scaling into the base weight (for inference). A second call does nothing.</summary>
    public void Merge()
    {
        if (Merged) return;
        using (no_grad())
        using (var delta = DeltaWeight())
        {
            base_layer.weight!.add_(delta);
        }
        Merged = true;
    }

    /// <summary>Takes the merged update back out of the base weight. Does nothing when not merged.</summary>
    public void Unmerge()
    {
        if (!Merged) return;
        using (no_grad())
        using (var delta = DeltaWeight())
        {
            base_layer.weight!.sub_(delta);
        }
        Merged = false;
    }

    /// <summary>ΔW = B·A·scaling, [out, in]. The caller owns the returned tensor.</summary>
    public Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        return lora_B.matmul(lora_A).mul_(Scaling).detach().MoveToOuterDisposeScope();
    }

    internal static Generator CreateGenerator(long seed) => new(unchecked((ulong)seed), CPU);
}
