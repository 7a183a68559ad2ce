using Microsoft.Extensions.Logging;
using Orchestrator.Silo.Hosting;
using Orchestrator.Storage;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>
/// Trains one attempt in its local work folder, from the newest good checkpoint of the lease (a corrupt one is
/// skipped for the one before it, down to a fresh start), on a dedicated thread: never an Orleans scheduler thread.
/// Pretrained bases come from, and go to, the cluster's shared store (<see cref="SharedBaseModels"/>).
/// </summary>
public sealed class TrialTraining(ITrialRunner runner, IArtifactStore store, SharedBaseModels bases, INamedResources resources,
    SiloHostOptions options, ILogger<TrialTraining> logger)
{
    public string WorkFolder(TrialLease lease) => Path.Combine(options.DataDir, "work", lease.Sweep, lease.TrialId, $"attempt-{lease.Attempt}");

    /// <summary>Trains into <c>{work}/out</c>.</summary>
    public async Task<TrainingOutcome> TrainAsync(RunningTrial trial, string work)
    {
        var lease = trial.Lease;
        var candidates = lease.Checkpoints.Select(c => (TrialCheckpoint?)c).Append(null).ToList();
        foreach (var checkpoint in candidates)
        {
            TryDelete(work);
            Directory.CreateDirectory(work);
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
            var workspace = new TrialWorkspace(OutputFolder(work), Path.Combine(options.DataDir, "bases"), resume, options.Device)
            {
                SharedBases = bases,
                Resources = resources,
            };
            try
            {
                return await RunOnOwnThreadAsync(() => runner.Run(lease, workspace, trial, trial.StopToken));
            }
            catch (CheckpointCorruptException e)
            {
                logger.LogWarning("Trial {Trial}: checkpoint {Location} is corrupt ({Error}); trying an older one", lease.TrialId, checkpoint?.Location, e.Message);
            }
        }
        throw new InvalidOperationException($"trial {lease.TrialId}: no usable starting point");
    }

    public static string OutputFolder(string work) => Path.Combine(work, "out");

    public static void TryDelete(string directory)
    {
        try { if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static Task<T> RunOnOwnThreadAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
        }) { IsBackground = true, Name = "trial" };
        thread.Start();
        return done.Task;
    }
}
