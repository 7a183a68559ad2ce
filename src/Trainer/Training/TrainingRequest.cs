using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Training;

/// <summary>One trial to train: its config, where its base weights come from, and where to write.</summary>
/// <param name="OutputDirectory">Receives `adapter/`, `result.json` and `checkpoints/step-N/`.</param>
/// <param name="BaseCacheDirectory">Shared cache of pretrained bases: `{BaseCacheDirectory}/{hash}/model.safetensors`.</param>
public sealed record TrainingRequest(TrainingConfig Config, BaseModelSpec Base, string OutputDirectory, string BaseCacheDirectory)
{
    /// <summary>A checkpoint directory to resume from (written by an earlier attempt), or null to start fresh.</summary>
    public string? ResumeFrom { get; init; }
    /// <summary>`cpu` or `cuda:N`.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Where built-in datasets are read from; null means the `data/` folder shipped next to the binaries.</summary>
    public string? DataDirectory { get; init; }
    /// <summary>Where named models and datasets (`minilm-l6`, `imdb`) come from; null when the config names none.</summary>
    public INamedResources? Resources { get; init; }
}

/// <summary>What a finished (or stopped) trial produced. Every number comes from real training and evaluation.</summary>
public sealed record TrainingOutcome(
    IReadOnlyDictionary<string, double> Metrics,
    long TrainableParameters,
    long TotalParameters,
    long Steps,
    TimeSpan Elapsed,
    bool StoppedEarly,
    IReadOnlyDictionary<string, string> FileSha256,
    string? LastCheckpoint,
    string BaseModelHash)
{
    /// <summary>The trial's measured peak memory over its baseline (<see cref="TrialResult.PeakMemoryBytes"/>); null where not measured.</summary>
    public long? PeakMemoryBytes { get; init; }
}
