using System.Diagnostics;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Packing;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Benchmarks;

/// <summary>One pack size: the pack's trial throughput under each low-rank batching against its trials run one at a time.</summary>
public sealed record PackBenchmarkRow
{
    [JsonPropertyName("k")] public int K { get; init; }
    [JsonPropertyName("ranks")] public required IReadOnlyList<int> Ranks { get; init; }
    /// <summary>Trial-steps per second when the K trials run one after another, each alone (the sum of their alone times).</summary>
    [JsonPropertyName("alone_trial_steps_per_second")] public double AloneTrialStepsPerSecond { get; init; }
    /// <summary>Trial-steps per second of the pack: K × its steps per second, by <see cref="LowRankBatching"/> name.</summary>
    [JsonPropertyName("packed_trial_steps_per_second")] public required IReadOnlyDictionary<string, double> PackedTrialStepsPerSecond { get; init; }
    [JsonPropertyName("alone_trial_steps_per_cpu_second")] public double AloneTrialStepsPerCpuSecond { get; init; }
    /// <summary>The same per second of this process's CPU time: robust to other work on a shared machine.</summary>
    [JsonPropertyName("packed_trial_steps_per_cpu_second")] public required IReadOnlyDictionary<string, double> PackedTrialStepsPerCpuSecond { get; init; }
    [JsonPropertyName("cpu_speedup")] public double CpuSpeedup => AloneTrialStepsPerCpuSecond > 0 ? PackedTrialStepsPerCpuSecond.Values.Max() / AloneTrialStepsPerCpuSecond : double.NaN;
    [JsonPropertyName("best_batching")] public string BestBatching => PackedTrialStepsPerSecond.MaxBy(p => p.Value).Key;
    /// <summary>Best packed throughput over alone throughput.</summary>
    [JsonPropertyName("speedup")] public double Speedup => AloneTrialStepsPerSecond > 0 ? PackedTrialStepsPerSecond.Values.Max() / AloneTrialStepsPerSecond : double.NaN;
    /// <summary>Milliseconds per trial-step by step phase, the K trials alone (mean) and the pack (first batching).</summary>
    [JsonPropertyName("alone_phase_ms")] public required IReadOnlyDictionary<string, double> AlonePhaseMilliseconds { get; init; }
    [JsonPropertyName("packed_phase_ms")] public required IReadOnlyDictionary<string, double> PackedPhaseMilliseconds { get; init; }
}

public sealed record PackBenchmarkResult
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("dataset")] public required string Dataset { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; }
    [JsonPropertyName("targets")] public required IReadOnlyList<string> Targets { get; init; }
    [JsonPropertyName("steps")] public int Steps { get; init; }
    [JsonPropertyName("threads")] public int Threads { get; init; }
    [JsonPropertyName("rows")] public required IReadOnlyList<PackBenchmarkRow> Rows { get; init; }
}

/// <summary>
/// LoRA trial throughput of packs of K against the same K trials run one at a time on the same threads, in one run.
/// Trial i has rank <see cref="Ranks"/>[i mod 5], its own seed, lr and dropout; all share the frozen base (seed 1).
/// Each trial alone and each pack train <c>steps</c> steps through <see cref="TrainingLoop"/> /
/// <see cref="PackedTrainingLoop"/> with evaluation only after the last step; the clock runs from step
/// <see cref="TrainerBenchmark.WarmupSteps"/> to the last step's progress report, so loading and evaluation are left out.
/// Configs: `mlp` at the rank study's batch 128 (r on l1, l2, l3), `transformer-block` at batch 10 × 32 tokens (r on q, v).
/// </summary>
public static class PackBenchmark
{
    public static readonly IReadOnlyList<int> Ranks = [8, 4, 16, 2, 8];

    public static IReadOnlyList<string> Models => [BuiltInModels.Mlp, BuiltInModels.TransformerBlock];

    private sealed record Setup(string Dataset, int BatchSize, IReadOnlyList<string> Targets);

    private static Setup SetupOf(string model) => model switch
    {
        BuiltInModels.Mlp => new(BuiltInDatasets.Mnist, 128, ["l1", "l2", "l3"]),
        BuiltInModels.TransformerBlock => new(BuiltInDatasets.SyntheticRegression, 10, ["q_proj", "v_proj"]),
        _ => throw new ArgumentException(
            $"no pack benchmark for model '{model}' ({string.Join(", ", Models)}); a named encoder classifies through a head that " +
            "trains in full per trial (modules_to_save), which a pack cannot share", nameof(model)),
    };

    /// <summary>Trial <paramref name="i"/> of the benchmark's fixed list.</summary>
    public static TrainingConfig Trial(string model, int i, int steps)
    {
        var setup = SetupOf(model);
        var rank = Ranks[i % Ranks.Count];
        return new TrainingConfig
        {
            Model = model, Dataset = setup.Dataset, Rank = rank, Alpha = 2 * rank, TargetModules = setup.Targets, BatchSize = setup.BatchSize,
            MaxSteps = steps, EvalEvery = steps, LearningRate = 1e-3 * (1 + i % 3), Dropout = i % 2 == 0 ? 0 : 0.1, Seed = 100 + i,
        };
    }

    public static PackBenchmarkResult Run(string model, IReadOnlyList<int> ks, int steps, int threads, IReadOnlyList<LowRankBatching>? batchings = null,
        string? dataDirectory = null, Action<string>? log = null)
    {
        if (steps <= TrainerBenchmark.WarmupSteps + 1) throw new ArgumentOutOfRangeException(nameof(steps), $"needs more than {TrainerBenchmark.WarmupSteps + 1} steps");
        if (ks.Count == 0 || ks.Any(k => k < 1)) throw new ArgumentException("pack sizes are 1 or more", nameof(ks));
        batchings ??= [LowRankBatching.Padded, LowRankBatching.GroupedByRank, LowRankBatching.PerMember];
        var setup = SetupOf(model);
        using var threadLease = TorchThreads.Use(threads);
        using var loaded = DatasetCatalog.Load(Trial(model, 0, steps), dataDirectory);
        var data = new OneTestBatch(loaded);
        Alone(Trial(model, 0, steps), data, steps); // JIT and allocator warm-up, not timed
        var maxK = ks.Max();
        var alone = new (double Wall, double Cpu, IReadOnlyDictionary<string, double> Phases)[maxK];
        for (var i = 0; i < maxK; i++)
        {
            alone[i] = Alone(Trial(model, i, steps), data, steps);
            log?.Invoke($"alone: trial {i} (r={Trial(model, i, steps).Rank}) {alone[i].Wall:0.0} steps/s, {alone[i].Cpu:0.0} steps/cpu-s");
        }

        var rows = new List<PackBenchmarkRow>();
        foreach (var k in ks)
        {
            var configs = Enumerable.Range(0, k).Select(i => Trial(model, i, steps)).ToList();
            // K trials one after another: each takes steps / rate_i seconds.
            var packed = new Dictionary<string, double>(StringComparer.Ordinal);
            var packedCpu = new Dictionary<string, double>(StringComparer.Ordinal);
            IReadOnlyDictionary<string, double>? packedPhases = null;
            foreach (var batching in batchings)
            {
                if (k == 1 && batching != batchings[0]) continue; // one member: every batching is the alone math
                var (wall, cpu, phases) = Packed(configs, data, steps, batching);
                packedPhases ??= phases;
                packed[batching.ToString()] = k * wall;
                packedCpu[batching.ToString()] = k * cpu;
                log?.Invoke($"pack of {k} ({batching}): {k * wall:0.0} trial-steps/s, {k * cpu:0.0} trial-steps/cpu-s");
            }
            rows.Add(new PackBenchmarkRow
            {
                K = k, Ranks = configs.Select(c => c.Rank).ToList(),
                AloneTrialStepsPerSecond = k / Enumerable.Range(0, k).Sum(i => 1 / alone[i].Wall),
                AloneTrialStepsPerCpuSecond = k / Enumerable.Range(0, k).Sum(i => 1 / alone[i].Cpu),
                PackedTrialStepsPerSecond = packed, PackedTrialStepsPerCpuSecond = packedCpu,
                AlonePhaseMilliseconds = packedPhases!.Keys.ToDictionary(p => p, p => Enumerable.Range(0, k).Average(i => alone[i].Phases[p])),
                PackedPhaseMilliseconds = packedPhases!,
            });
        }
        return new PackBenchmarkResult
        {
            Model = model, Dataset = setup.Dataset, BatchSize = setup.BatchSize, Targets = setup.Targets, Steps = steps, Threads = threads, Rows = rows,
        };
    }

    private static (double Wall, double Cpu, IReadOnlyDictionary<string, double> Phases) Alone(TrainingConfig config, ITrainingDataset data, int steps)
    {
        using var model = ModelCatalog.Create(config.Model, seed: 1);
        LoraInjector.Inject(model, config, config.Seed);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        var phases = new StepPhases();
        var clock = new StepClock(TrainerBenchmark.WarmupSteps, steps - 1, phases);
        TrainingLoop.Run(model, data, trainable, new TrainingLoopOptions { Config = config, Observer = clock, ProgressEvery = 1, Phases = phases });
        return (clock.StepsPerSecond, clock.StepsPerCpuSecond, clock.Phases);
    }

    private static (double Wall, double Cpu, IReadOnlyDictionary<string, double> Phases) Packed(IReadOnlyList<TrainingConfig> configs, ITrainingDataset data,
        int steps, LowRankBatching batching)
    {
        using var model = ModelCatalog.Create(configs[0].Model, seed: 1);
        var injection = PackedLoraInjector.Inject(model, configs);
        var phases = new StepPhases();
        var clock = new StepClock(TrainerBenchmark.WarmupSteps, steps - 1, phases, configs.Count);
        try
        {
            PackedTrainingLoop.Run(model, injection.Layers, data,
                configs.Select((c, i) => new PackMemberOptions { Config = c, Trainable = injection.Members[i].Trainable, Observer = i == 0 ? clock : null }).ToList(),
                new PackedLoopOptions { ProgressEvery = 1, Batching = batching, Phases = phases });
        }
        finally
        {
            foreach (var member in injection.Members)
                foreach (var (_, parameter) in member.Trainable) parameter.Dispose();
        }
        return (clock.StepsPerSecond, clock.StepsPerCpuSecond, clock.Phases);
    }

    /// <summary>
    /// Times each step between two progress reports (the last one comes before the closing evaluation) and keeps the
    /// median: on a machine shared with other work, a step that another process delayed moves the mean, not the median.
    /// </summary>
    /// <param name="phases">Reset when the timed steps start and read when they end: the phases of the timed steps alone.</param>
    /// <param name="trialsPerStep">The pack's size: its phases are reported per trial-step.</param>
    private sealed class StepClock(int from, int to, StepPhases phases, int trialsPerStep = 1) : ITrainingObserver
    {
        public IReadOnlyDictionary<string, double> Phases { get; private set; } = new Dictionary<string, double>();
        private readonly Stopwatch _watch = new();
        private readonly List<double> _seconds = [];
        private TimeSpan _cpuAtFrom;
        public double StepsPerSecond { get; private set; }
        /// <summary>Steps per second of this process's CPU time (every thread): what the step costs, whatever else the machine runs.</summary>
        public double StepsPerCpuSecond { get; private set; }

        public bool OnProgress(TrainingProgress progress)
        {
            if (progress.IsEvaluation && progress.Step != to) return true;
            if (progress.Step == from)
            {
                _cpuAtFrom = CpuTime();
                phases.Reset();
            }
            if (progress.Step > from && progress.Step <= to) _seconds.Add(_watch.Elapsed.TotalSeconds);
            if (progress.Step >= from && progress.Step < to) _watch.Restart();
            if (progress.Step == to)
            {
                Phases = phases.PerTrialStep(trialsPerStep);
                StepsPerCpuSecond = (to - from) / (CpuTime() - _cpuAtFrom).TotalSeconds;
                _seconds.Sort();
                StepsPerSecond = 1 / _seconds[_seconds.Count / 2];
            }
            return true;
        }

        private static TimeSpan CpuTime()
        {
            using var process = Process.GetCurrentProcess();
            return process.TotalProcessorTime;
        }

        public void OnCheckpoint(string directory, long step) { }
    }

    /// <summary>The dataset with one test batch: the closing evaluation is outside the clock, and need not read the whole test split.</summary>
    private sealed class OneTestBatch(ITrainingDataset inner) : ITrainingDataset
    {
        public string Name => inner.Name;
        public TaskKind Task => inner.Task;
        public long TrainCount => inner.TrainCount;
        public long TestCount => inner.TestCount;
        public long Classes => inner.Classes;
        public int TrainBatchCount(int batchSize) => inner.TrainBatchCount(batchSize);
        public Batch TrainBatch(int batchSize, long seed, int epoch, int index) => inner.TrainBatch(batchSize, seed, epoch, index);
        public IEnumerable<Batch> TestBatches(int batchSize) => inner.TestBatches(batchSize).Take(1);
        public void Dispose() { }
    }
}
