using Microsoft.Extensions.Logging;
using Orchestrator.Silo.Hosting;
using Orchestrator.Storage;
using Orchestrator.Trainer.Packing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>
/// Trains one attempt in its local work folder, from the newest good checkpoint of the lease (a corrupt one is
/// skipped for the one before it, down to a fresh start), on a dedicated thread: never an Orleans scheduler thread.
/// Pretrained bases come from, and go to, the cluster's shared store (<see cref="SharedBaseModels"/>).
/// </summary>
public sealed class AttemptLauncher(ITrialRunner runner, IArtifactStore store, SharedBaseModels bases, INamedResources resources,
    SiloHostOptions options, ILogger<AttemptLauncher> logger)
{
    /// <summary>
    /// The attempt's scratch folder, <c>work/{sweep}/{trial}-attempt-{n}</c>, deleted when the attempt ends. One level
    /// per attempt, not a folder per trial holding one per attempt: the trial's folder would outlive its attempt, and a
    /// sweep of 10,000 trials left 10,000 empty folders behind (each later mkdir and rmdir slower in the grown folder).
    /// </summary>
    public string WorkFolder(TrialLease lease) => Path.Combine(options.DataDir, "work", lease.Sweep, $"{lease.TrialId}-attempt-{lease.Attempt}");

    /// <summary>Trains into <c>{work}/out</c>.</summary>
    public Task<TrainingOutcome> TrainAsync(AttemptReporter trial, string work) =>
        FromNewestGoodCheckpointAsync(trial.Lease, work,
            resume => RunOnOwnThreadAsync(() => runner.Run(trial.Lease, Workspace(work, resume), trial, trial.StopToken)));

    /// <summary>The most trials this silo's runner trains in one pack (1: none).</summary>
    public int MaxPack => runner.MaxPack;

    /// <summary>
    /// Trains a pack's members together into each one's <c>{work}/out</c>, each from its newest good checkpoint (checked
    /// before the pack starts, since one member's corrupt checkpoint must not cost the others their run). The pack stops
    /// early only when every member was told to stop; one member's stop (pruning) is its observer's business.
    /// </summary>
    public async Task<IReadOnlyList<PackMemberOutcome>> TrainPackAsync(IReadOnlyList<AttemptReporter> trials, IReadOnlyList<string> works, string packId)
    {
        var members = new List<PackMemberWork>(trials.Count);
        for (var i = 0; i < trials.Count; i++)
        {
            var resume = await StartingPointAsync(trials[i].Lease, works[i]);
            members.Add(new PackMemberWork(trials[i].Lease, Workspace(works[i], resume), trials[i]));
        }
        using var everyoneStopped = new CancellationTokenSource();
        var stopped = 0;
        var registrations = trials.Select(t => t.StopToken.Register(() =>
        {
            if (Interlocked.Increment(ref stopped) == trials.Count) everyoneStopped.Cancel();
        })).ToList();
        try
        {
            return await RunOnOwnThreadAsync(() => runner.RunPack(members, packId, everyoneStopped.Token));
        }
        finally
        {
            foreach (var r in registrations) await r.DisposeAsync();
        }
    }

    /// <summary>The newest of the lease's checkpoints that downloads and loads, in <c>{work}/resume</c>; null: start fresh.</summary>
    private Task<string?> StartingPointAsync(TrialLease lease, string work) =>
        FromNewestGoodCheckpointAsync(lease, work, resume =>
        {
            if (resume is not null) CheckpointDirectory.Load(resume).Dispose();
            return Task.FromResult(resume);
        });

    /// <summary>
    /// The one fallback rule: <paramref name="start"/> runs from the lease's newest checkpoint (downloaded into
    /// <c>{work}/resume</c>), and from the next older one whenever a checkpoint does not download intact or does not load
    /// (<see cref="CheckpointCorruptException"/>), down to a fresh start (null).
    /// </summary>
    private async Task<T> FromNewestGoodCheckpointAsync<T>(TrialLease lease, string work, Func<string?, Task<T>> start)
    {
        foreach (var checkpoint in lease.Checkpoints.Select(c => (TrialCheckpoint?)c).Append(null))
        {
            // A left-over folder of an earlier try goes; a new one is made only by what writes into it (the trainer
            // its out folder, a download its resume folder): a trial that writes nothing costs no mkdir and rmdir.
            TryDelete(work);
            string? resume = null;
            if (checkpoint is not null)
            {
                resume = Path.Combine(work, "resume");
                try
                {
                    await store.DownloadDirectoryAsync(checkpoint.Location, resume, CancellationToken.None);
                }
                catch (ArtifactCorruptException e)
                {
                    logger.LogWarning("Trial {Trial}: checkpoint {Location} is corrupt ({Error}); trying an older one", lease.TrialId, checkpoint.Location, e.Message);
                    continue;
                }
            }
            try
            {
                return await start(resume);
            }
            catch (CheckpointCorruptException e)
            {
                logger.LogWarning("Trial {Trial}: checkpoint {Location} is corrupt ({Error}); trying an older one", lease.TrialId, checkpoint?.Location, e.Message);
            }
        }
        throw new InvalidOperationException($"trial {lease.TrialId}: no usable starting point");
    }

    private TrialWorkspace Workspace(string work, string? resume) =>
        new(OutputFolder(work), Path.Combine(options.DataDir, "bases"), resume, options.Device) { SharedBases = bases, Resources = resources };

    public static string OutputFolder(string work) => Path.Combine(work, "out");

    public static void TryDelete(string directory)
    {
        try { if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static Task<T> RunOnOwnThreadAsync<T>(Func<T> work) => TrainingThreads.Shared.RunAsync(work);
}
