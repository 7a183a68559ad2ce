using System.Diagnostics;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Training;
using TorchSharp;

namespace Orchestrator.Trainer.Packing;

/// <summary>One member of a pack to train: its request (config, base, folders, resume point) and who hears its progress.</summary>
public sealed record PackMemberRequest(TrainingRequest Request, ITrainingObserver? Observer)
{
    /// <summary>The member's name in the pack's record (its trial id); the output folder's name when null.</summary>
    public string? Name { get; init; }
}

/// <summary>How one member of a pack ended: its outcome (files written, as alone), or the error that failed it alone.</summary>
public sealed record PackMemberOutcome(TrainingOutcome? Outcome, Exception? Error);

/// <summary>
/// <see cref="TrialTrainer"/> for a pack: the base model and dataset loaded once, every member's adapter injected beside
/// the others (<see cref="PackedLoraInjector"/>), one <see cref="PackedTrainingLoop"/>, then each member's `adapter/`
/// and `result.json` written as alone, plus the pack it ran in. A member's failure is its own outcome; a failure before
/// training (a config that breaks a rule, members that cannot pack together) throws, as it would for every member alone.
/// </summary>
public static class PackedTrialTrainer
{
    /// <exception cref="InvalidTrainingConfigException">A member's config breaks a rule; nothing was loaded.</exception>
    /// <exception cref="ArgumentException">The members cannot share a pack.</exception>
    public static IReadOnlyList<PackMemberOutcome> Run(IReadOnlyList<PackMemberRequest> members, string packId,
        LowRankBatching batching, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("A pack has at least one member.", nameof(members));
        var configs = members.Select(m => m.Request.Config.Validate()).ToList();
        var keys = members.Select((m, i) => PackCompatibility.Key(configs[i], m.Request.Base)).ToList();
        if (keys.Any(k => k is null) || keys.Distinct().Count() != 1)
            throw new ArgumentException("These trials cannot share a pack (see PackCompatibility): " +
                string.Join("; ", configs.Select(c => PackCompatibility.WhyNotPackable(c)).Where(w => w is not null).DefaultIfEmpty("they differ in what the frozen pass reads")));

        var total = Stopwatch.StartNew();
        using var threadLease = TorchThreads.Use(); // the count it computes with, held until it returns
        var threads = threadLease.Threads;
        using var heap = MemoryBoundTrials.Includes(configs[0]) ? NativeHeap.LowPeak() : null; // members share the base: one answer
        var peak = PeakMemory.Start(); // one pack, one process peak: every member records it
        var first = members[0].Request;
        var device = torch.device(first.Device);
        BasePrecision.CheckDevice(configs[0], device);
        foreach (var m in members) Directory.CreateDirectory(m.Request.OutputDirectory);

        var resumes = new List<CheckpointContents?>();
        try
        {
            foreach (var m in members) resumes.Add(m.Request.ResumeFrom is { } from ? CheckpointDirectory.Load(from) : null);
            var resolved = configs.Select(c => NamedResourceResolution.Resolve(c, first.Resources, cancellationToken)).ToList();
            using var data = DatasetCatalog.Load(resolved[0], first.DataDirectory);
            var baseWatch = Stopwatch.StartNew();
            var baseModel = BaseModelCache.Get(resolved[0].Model, resolved[0].Dataset, data, first.Base, first.BaseCacheDirectory, configs[0].Seed, cancellationToken,
                load: BaseLoad.Of(configs[0]));
            var baseElapsed = baseWatch.Elapsed;
            using var model = baseModel.Model;
            model.to(device); // before injection: the members' adapters are not children the model would move
            var injection = PackedLoraInjector.Inject(model, resolved);
            // Members share both (PackCompatibility.Key); their adapters stay fp32.
            BaseQuantization.Apply(model, configs[0].Quantize, configs[0].DoubleQuant);
            BasePrecision.Apply(model, configs[0].BaseDtype);
            ManagedGarbageBound.CollectLoadingGarbage(configs[0]);
            peak.EndLoading();
            heap?.EndLoading();
            var frozen = model.parameters().Sum(p => p.numel());

            var loop = PackedTrainingLoop.Run(model, injection.Layers, data,
                members.Select((m, i) => new PackMemberOptions
                {
                    Config = configs[i],
                    Trainable = injection.Members[i].Trainable,
                    CheckpointOutputDirectory = m.Request.OutputDirectory,
                    Resume = resumes[i],
                    Observer = m.Observer,
                }).ToList(),
                new PackedLoopOptions { CancellationToken = cancellationToken, Device = device, Batching = batching });

            var placement = new PackPlacement
            {
                Id = packId,
                Members = members.Select(m => m.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(m.Request.OutputDirectory))).ToList(),
                Batching = batching.ToString(),
            };
            var outcomes = new List<PackMemberOutcome>(members.Count);
            for (var i = 0; i < members.Count; i++)
            {
                if (loop[i].Error is { } error)
                {
                    outcomes.Add(new PackMemberOutcome(null, error));
                    continue;
                }
                var request = members[i].Request;
                var adapter = injection.Members[i];
                var files = TrialTrainer.WriteAdapter(request.OutputDirectory, configs[i], TrialTrainer.BaseModelName(configs[i], request),
                    LoraWeights.Get(adapter.Modules), adapter.Modules.Select(a => a.Path).ToList(), []);
                // Parameters as the trial alone counts them: the frozen base plus its own adapter.
                outcomes.Add(new PackMemberOutcome(TrialTrainer.Complete(request, configs[i], baseModel, baseElapsed, data.Task, loop[i].Loop!,
                    adapter.TrainableParameters, frozen + adapter.TrainableParameters, files, threads, total,
                    resumes[i]?.Manifest.Step ?? 0, placement, peak), null));
            }
            foreach (var adapter in injection.Members)
                foreach (var (_, parameter) in adapter.Trainable) parameter.Dispose();
            return outcomes;
        }
        finally
        {
            foreach (var r in resumes) r?.Dispose();
        }
    }
}
