using System.Diagnostics;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Packing;

/// <summary>What a packed loop shares across its members.</summary>
public sealed record PackedLoopOptions
{
    public CancellationToken CancellationToken { get; init; }
    public Device Device { get; init; } = CPU;
    /// <summary>A progress report (training loss only) every this many steps, besides one per evaluation.</summary>
    public int ProgressEvery { get; init; } = 10;
    public LowRankBatching Batching { get; init; } = LowRankBatching.Padded;
    /// <summary>Times each pack step's phases when set (benchmarks).</summary>
    public StepPhases? Phases { get; init; }
}

/// <summary>
/// <see cref="TrainingLoop"/> for a pack: one step concatenates every active member's own micro-batch (its own seed
/// and data order) along dim 0, runs the frozen base once over all of them with each member's LoRA update on its rows
/// (<see cref="PackedLoraLinear"/>), sums the members' mean losses and runs one backward; the rows of one member do not
/// touch another's parameters, so each gradient is that member's alone. Then every member steps its own AdamW at its
/// own learning rate and does, at its own steps, what the loop does for a trial alone: evaluation, checkpoint,
/// progress, stop. A member that finishes, is stopped by its observer, or whose observer throws (a diverged loss)
/// leaves the pack; the others go on. A pack of one is <see cref="TrainingLoop"/> bit for bit.
/// </summary>
public static class PackedTrainingLoop
{
    public static IReadOnlyList<PackMemberResult> Run(nn.Module<Tensor, Tensor> model, IReadOnlyList<PackedLoraLinear> layers, ITrainingDataset data,
        IReadOnlyList<PackMemberOptions> members, PackedLoopOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (members.Count == 0) throw new ArgumentException("A pack has at least one member.", nameof(members));
        var batchSize = members[0].Config.BatchSize;
        if (members.Any(m => m.Config.BatchSize != batchSize)) throw new ArgumentException("The members of a pack share one batch size.", nameof(members));
        if (batchSize <= 0) throw new ArgumentException("batch_size must be positive");
        if (members.FirstOrDefault(m => m.Config.GradientAccumulationSteps != 1) is { } accumulating)
            throw new ArgumentException($"A pack member takes one micro-batch per step; gradient_accumulation_steps {accumulating.Config.GradientAccumulationSteps} trains alone.", nameof(members));

        var watch = Stopwatch.StartNew();
        var batchesPerEpoch = data.TrainBatchCount(batchSize);
        var state = new List<PackMember>(members.Count);
        var dropouts = model.modules().OfType<GeneratorDropout>().ToList();
        foreach (var layer in layers) layer.Batching = options.Batching;
        // A pack of one runs TrainingLoop's own operations (bit for bit the trial alone); two or more train stacked.
        var stacked = members.Count > 1;
        PackStack? stack = null;
        var garbage = ManagedGarbageBound.For(members[0].Config); // members share the base: one answer
        try
        {
            for (var i = 0; i < members.Count; i++) state.Add(new PackMember(i, members[i], batchesPerEpoch, options.Device));
            var active = state.Where(m => m.Step < m.TotalSteps).ToList();
            if (stacked && active.Count > 0) stack = new PackStack(layers, active, options.Device);
            model.train();
            while (active.Count > 0)
            {
                if (options.CancellationToken.IsCancellationRequested)
                {
                    // Stopped between steps (a drain that landed after some members had checked): each member
                    // checkpoints where it is, as it would after its own step, so whoever resumes it loses no steps.
                    StoreAll(ref stack);
                    foreach (var m in active)
                    {
                        m.Stopped = true;
                        if (m.Options.CheckpointOutputDirectory is not null && m.LastCheckpointStep != m.Step) WriteCheckpoint(m);
                    }
                    break;
                }

                var progressDue = active.ToDictionary(m => m.Index, m => options.ProgressEvery > 0 && (m.Step + 1) % options.ProgressEvery == 0);
                var stepEpochs = active.ToDictionary(m => m.Index, m => m.Epoch);
                var losses = stack is null
                    ? MemberStep(model, layers, dropouts, data, active, batchSize, progressDue, options)
                    : StackedStep(model, layers, dropouts, data, stack, batchSize, progressDue, options);
                garbage?.Check();

                var leaving = new List<PackMember>();
                foreach (var m in active)
                {
                    try
                    {
                        if (!AfterStep(model, layers, dropouts, data, m, stack, stepEpochs[m.Index], progressDue[m.Index],
                                losses.GetValueOrDefault(m.Index, double.NaN), options))
                            leaving.Add(m);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // This member's failure (a diverged loss its observer refused, a checkpoint it could not write) is its own.
                        m.Error = e;
                        leaving.Add(m);
                    }
                    m.Elapsed = watch.Elapsed;
                }
                if (leaving.Count > 0)
                {
                    // The stack is rebuilt for whoever stays: its members are copied out, then in again.
                    StoreAll(ref stack);
                    active.RemoveAll(leaving.Contains);
                    if (stacked && active.Count > 0) stack = new PackStack(layers, active, options.Device);
                }
            }
            StoreAll(ref stack);

            var results = new List<PackMemberResult>(state.Count);
            foreach (var m in state)
            {
                if (m.Error is not null)
                {
                    results.Add(new PackMemberResult(null, m.Error));
                    continue;
                }
                try
                {
                    results.Add(new PackMemberResult(Finish(model, layers, dropouts, data, m, options), null));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    results.Add(new PackMemberResult(null, e));
                }
            }
            return results;
        }
        finally
        {
            stack?.Dispose();
            foreach (var d in dropouts) d.Slices = null;
            foreach (var layer in layers) { layer.Slices = []; layer.Stack = null; }
            foreach (var m in state) m.Dispose();
        }
    }

    /// <summary>The bookkeeping of <see cref="TrainingLoop"/> after a step, for one member. False: the member leaves the pack.</summary>
    private static bool AfterStep(nn.Module<Tensor, Tensor> model, IReadOnlyList<PackedLoraLinear> layers, IReadOnlyList<GeneratorDropout> dropouts,
        ITrainingDataset data, PackMember m, PackStack? stack, int stepEpoch, bool progressDue, double loss, PackedLoopOptions options)
    {
        var config = m.Config;
        var stored = false;
        void Store()
        {
            // What follows reads the member's own adapter and optimizer state: copy it out of the stack first.
            if (stack is null || stored) return;
            stack.Store(stack.PositionOf(m));
            stored = true;
        }
        m.Step++;
        m.LossCount++;
        var endOfEpoch = ++m.BatchInEpoch == m.BatchesPerEpoch;
        if (endOfEpoch) { m.Epoch++; m.BatchInEpoch = 0; }

        var evaluate = m.Cadence.Evaluates(m.Step, endOfEpoch);
        var keepGoing = true;
        if (evaluate)
        {
            Store();
            m.LastMetrics = Evaluate(model, layers, dropouts, data, m, options.Device);
            m.Evaluations++;
            m.LastEvaluationStep = m.Step;
            m.LossSum.zero_();
            stack?.ResetLoss(stack.PositionOf(m));
            m.LossCount = 0;
        }

        var checkpointDirectory = m.Options.CheckpointOutputDirectory;
        var checkpoint = checkpointDirectory is not null && m.Cadence.Checkpoints(m.Step, evaluate);
        void Checkpoint()
        {
            Store();
            WriteCheckpoint(m);
        }
        if (checkpoint) Checkpoint();

        var observer = m.Options.Observer;
        if (evaluate)
            keepGoing = observer?.OnProgress(new TrainingProgress(m.Step, m.TotalSteps, stepEpoch, m.LastMetrics, true) { Evaluation = m.Evaluations }) ?? true;
        else if (progressDue)
            keepGoing = observer?.OnProgress(new TrainingProgress(m.Step, m.TotalSteps, stepEpoch,
                new Dictionary<string, double> { [MetricNames.TrainLoss] = loss }, false) { Evaluation = m.Evaluations }) ?? true;

        if (!keepGoing || options.CancellationToken.IsCancellationRequested)
        {
            m.Stopped = m.Step < m.TotalSteps;
            if (m.Stopped)
            {
                // Stopped mid-run (drain, pause, pruning): checkpoint here, so whoever resumes loses no steps.
                if (checkpointDirectory is not null && !checkpoint) Checkpoint();
                return false;
            }
        }
        return m.Step < m.TotalSteps;
    }

    /// <summary>The member's checkpoint at its current step, from its own adapter and optimizer state (stored out of any stack first).</summary>
    private static void WriteCheckpoint(PackMember m)
    {
        m.LastCheckpoint = TrainingLoop.WriteCheckpoint(m.Options.CheckpointOutputDirectory!, m.Manifest(), m.Options.Trainable, m.Optimizer, m.Generator);
        m.LastCheckpointStep = m.Step;
        m.Options.Observer?.OnCheckpoint(m.LastCheckpoint, m.Step);
    }

    /// <summary>The closing evaluations of <see cref="TrainingLoop"/> for one member that did not fail.</summary>
    private static TrainingLoopResult Finish(nn.Module<Tensor, Tensor> model, IReadOnlyList<PackedLoraLinear> layers, IReadOnlyList<GeneratorDropout> dropouts,
        ITrainingDataset data, PackMember m, PackedLoopOptions options)
    {
        var metrics = m.LastMetrics;
        if (m.Evaluations == 0)
        {
            metrics = Evaluate(model, layers, dropouts, data, m, options.Device);
            m.Evaluations++;
        }
        if (data.ValidationCount > 0)
        {
            Use(layers, dropouts, [new PackSlice(m.Index, 0, m.Generator)]);
            var withTest = new Dictionary<string, double>(metrics.ToDictionary());
            foreach (var (name, value) in Evaluator.Evaluate(model, data, m.Config.BatchSize, options.Device)) withTest[name] = value;
            metrics = withTest;
        }
        return new TrainingLoopResult(metrics, m.Step, m.TotalSteps, m.Evaluations, m.Stopped, m.LastCheckpoint, m.Elapsed);
    }

    /// <summary>The member's held-out metrics: the model evaluated with only this member's adapter active.</summary>
    private static Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, IReadOnlyList<PackedLoraLinear> layers,
        IReadOnlyList<GeneratorDropout> dropouts, ITrainingDataset data, PackMember m, Device device)
    {
        Use(layers, dropouts, [new PackSlice(m.Index, 0, m.Generator)]);
        return TrainingLoop.EvaluateWithTrainLoss(model, data, m.Config.BatchSize, device, m.LossSum.item<double>(), m.LossCount);
    }


    /// <summary>A step of a pack of one: <see cref="TrainingLoop"/>'s operations, through the member's own adapter and AdamW.</summary>
    private static Dictionary<int, double> MemberStep(nn.Module<Tensor, Tensor> model, IReadOnlyList<PackedLoraLinear> layers,
        IReadOnlyList<GeneratorDropout> dropouts, ITrainingDataset data, IReadOnlyList<PackMember> active, int batchSize,
        IReadOnlyDictionary<int, bool> progressDue, PackedLoopOptions options)
    {
        var losses = new Dictionary<int, double>();
        var phases = options.Phases;
        phases?.Begin();
        using var scope = torch.NewDisposeScope();
        var inputs = new List<Tensor>(active.Count);
        var targets = new List<Tensor>(active.Count);
        var slices = new List<PackSlice>(active.Count);
        foreach (var m in active)
        {
            foreach (var group in m.Optimizer.ParamGroups) group.LearningRate = m.Schedule.At(m.Step);
            var batch = data.TrainBatch(batchSize, m.Config.Seed, m.Epoch, m.BatchInEpoch);
            m.Optimizer.zero_grad();
            inputs.Add(batch.Inputs);
            targets.Add(batch.Targets);
            slices.Add(new PackSlice(m.Index, batch.Size, m.Generator));
        }
        Use(layers, dropouts, slices);
        phases?.End(StepPhase.Batch);
        var output = ModelForward.Run(model, (inputs.Count == 1 ? inputs[0] : cat(inputs, 0)).to(options.Device));
        phases?.End(StepPhase.Forward);
        var memberLosses = new List<Tensor>(active.Count);
        long start = 0;
        for (var j = 0; j < active.Count; j++)
        {
            var rows = slices[j].Rows;
            var own = active.Count == 1 ? output : output.narrow(0, start, rows);
            memberLosses.Add(TaskLoss.Compute(data.Task, own, targets[j].to(options.Device)));
            start += rows;
        }
        phases?.End(StepPhase.Loss);
        (memberLosses.Count == 1 ? memberLosses[0] : stack(memberLosses).sum()).backward();
        phases?.End(StepPhase.Backward);
        for (var j = 0; j < active.Count; j++)
        {
            var m = active[j];
            if (m.Config.GradClip > 0) nn.utils.clip_grad_norm_(m.Parameters, m.Config.GradClip);
            m.Optimizer.step();
            m.LossSum.add_(memberLosses[j].detach().to_type(ScalarType.Float64));
            if (progressDue[m.Index]) losses[m.Index] = memberLosses[j].item<float>();
        }
        phases?.End(StepPhase.Optimizer); // clipping and AdamW, member by member
        return losses;
    }

    /// <summary>
    /// A step of a stacked pack: every member's micro-batch through the shared base and the stacked adapters, each
    /// member's mean loss (one reduction when their rows match), one backward of their sum, then one per-member
    /// clipping and one AdamW update over the stacks.
    /// </summary>
    private static Dictionary<int, double> StackedStep(nn.Module<Tensor, Tensor> model, IReadOnlyList<PackedLoraLinear> layers,
        IReadOnlyList<GeneratorDropout> dropouts, ITrainingDataset data, PackStack stack, int batchSize,
        IReadOnlyDictionary<int, bool> progressDue, PackedLoopOptions options)
    {
        var active = stack.Members;
        var k = active.Count;
        var phases = options.Phases;
        phases?.Begin();
        using var scope = torch.NewDisposeScope();
        var inputs = new Tensor[k];
        var targets = new Tensor[k];
        var slices = new PackSlice[k];
        var learningRates = new double[k];
        for (var j = 0; j < k; j++)
        {
            var m = active[j];
            learningRates[j] = m.Schedule.At(m.Step);
            var batch = data.TrainBatch(batchSize, m.Config.Seed, m.Epoch, m.BatchInEpoch);
            inputs[j] = batch.Inputs;
            targets[j] = batch.Targets;
            slices[j] = new PackSlice(m.Index, batch.Size, m.Generator);
        }
        stack.ZeroGradients();
        Use(layers, dropouts, slices, stack);
        var input = (k == 1 ? inputs[0] : cat(inputs, 0)).to(options.Device);
        var target = (k == 1 ? targets[0] : cat(targets, 0)).to(options.Device);
        phases?.End(StepPhase.Batch);
        var output = ModelForward.Run(model, input);
        phases?.End(StepPhase.Forward);
        Tensor losses;
        if (!MetricNames.IsLanguageModelling(data.Task) && slices.All(s => s.Rows == slices[0].Rows))
        {
            // Classification and regression: a mean over a member's rows (and their elements) is its slice of one unreduced loss.
            losses = TaskLoss.Compute(data.Task, output, target, nn.Reduction.None).view(k, -1).mean([1]);
        }
        else
        {
            var memberLosses = new Tensor[k];
            long start = 0;
            for (var j = 0; j < k; j++)
            {
                memberLosses[j] = TaskLoss.Compute(data.Task, output.narrow(0, start, slices[j].Rows), target.narrow(0, start, slices[j].Rows));
                start += slices[j].Rows;
            }
            losses = torch.stack(memberLosses);
        }
        phases?.End(StepPhase.Loss);
        losses.sum().backward();
        phases?.End(StepPhase.Backward);
        stack.ClipGradients(active.Select(m => m.Config.GradClip).ToList());
        phases?.End(StepPhase.Clip);
        stack.Step(learningRates, active.Select(m => m.Config.WeightDecay).ToList());
        phases?.End(StepPhase.Optimizer);
        var detached = losses.detach();
        stack.LossSums.add_(detached.to_type(ScalarType.Float64));

        var reported = new Dictionary<int, double>();
        if (active.Any(m => progressDue[m.Index]))
        {
            var values = detached.cpu().data<float>().ToArray();
            for (var j = 0; j < k; j++) if (progressDue[active[j].Index]) reported[active[j].Index] = values[j];
        }
        return reported;
    }

    /// <summary>Copies every member of the stack out to its own adapter and optimizer, and drops the stack.</summary>
    private static void StoreAll(ref PackStack? stack)
    {
        if (stack is null) return;
        for (var j = 0; j < stack.Members.Count; j++) stack.Store(j);
        stack.Dispose();
        stack = null;
    }

    private static void Use(IReadOnlyList<PackedLoraLinear> layers, IReadOnlyList<GeneratorDropout> dropouts, IReadOnlyList<PackSlice> slices,
        PackStack? stack = null)
    {
        for (var l = 0; l < layers.Count; l++)
        {
            layers[l].Slices = slices;
            layers[l].Stack = stack?.Layers[l];
        }
        var dropoutSlices = slices.Select(s => new DropoutSlice(s.Rows, s.Generator)).ToList();
        foreach (var d in dropouts) d.Slices = dropoutSlices;
    }
}

