using System.Text.RegularExpressions;
using Orchestrator.Contracts.Sweeps;

namespace Orchestrator.Storage;

/// <summary>
/// The artifact layout (../shared/ARCHITECTURE.md), the same on local disk and Blob. Every name that comes from a
/// user (sweep, trial id, base hash, file name) is checked here, so no layout path can leave its prefix.
/// </summary>
public static partial class ArtifactPaths
{
    public const string AdapterWeightsFile = "adapter_model.safetensors";
    public const string AdapterConfigFile = "adapter_config.json";

    /// <summary>A sweep's folder. Sweep names follow <see cref="SweepName"/> (stricter than other segments).</summary>
    public static string Sweep(string sweep) =>
        SweepName.IsValid(sweep) ? $"sweeps/{sweep}/" : throw new InvalidArtifactNameException(sweep ?? "", $"a sweep name must be {SweepName.Rule}");

    public static string Spec(string sweep) => Sweep(sweep) + "spec.yaml";

    public static string Manifest(string sweep) => Sweep(sweep) + "manifest.json";

    public static string Leaderboard(string sweep) => Sweep(sweep) + "leaderboard.json";

    public static string Trial(string sweep, string trial) => $"{Sweep(sweep)}trials/{Name(trial, nameof(trial))}/";

    public static string TrialResult(string sweep, string trial) => Trial(sweep, trial) + "result.json";

    /// <summary>The trial's metric history (<see cref="TrialMetricsFile"/>): its learning curve once the sweep grain has forgotten it.</summary>
    public static string TrialMetrics(string sweep, string trial) => Trial(sweep, trial) + TrialMetricsFile.FileName;

    /// <summary>Folder prefix of the PEFT adapter (<see cref="AdapterWeightsFile"/>, <see cref="AdapterConfigFile"/>).</summary>
    public static string TrialAdapter(string sweep, string trial) => Trial(sweep, trial) + "adapter/";

    public static string TrialCheckpoints(string sweep, string trial) => Trial(sweep, trial) + "checkpoints/";

    public static string TrialCheckpoint(string sweep, string trial, string checkpoint) =>
        TrialCheckpoints(sweep, trial) + Name(checkpoint, nameof(checkpoint));

    /// <summary>Folder prefix of a cached base model, keyed by the hash of what produced it.</summary>
    public static string Base(string hash) => $"bases/{Name(hash, nameof(hash))}/";

    /// <summary>Folder prefix of a named model (`minilm-l6`) converted from its package once and shared by every silo.</summary>
    public static string PulledModel(string name, string version) => $"bases/models/{Name(name, nameof(name))}/{Name(version, nameof(version))}/";

    /// <summary>Folder prefix of a named dataset (`imdb`) prepared once (splits + manifest) and shared by every silo.</summary>
    public static string PreparedDataset(string name) => $"bases/datasets/{Name(name, nameof(name))}/";

    /// <summary>True when <paramref name="name"/> may be used as one segment of a layout path.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name) && !name.Contains("..");

    /// <summary>Checks one user-supplied segment: lower-case letters, digits, '.', '_', '-', at most 128, no "..".</summary>
    public static string Name(string? name, string what = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new InvalidArtifactNameException(name ?? "", $"the {what} is empty");
        }

        if (!IsValidName(name))
        {
            throw new InvalidArtifactNameException(
                name, $"a {what} must match [a-z0-9][a-z0-9._-]{{0,127}} and not contain '..'");
        }

        return name;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
