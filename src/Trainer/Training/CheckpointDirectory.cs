using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>Where training stood when a checkpoint was taken: enough to continue as if never stopped.</summary>
public sealed record CheckpointManifest
{
    [JsonPropertyName("format")] public int Format { get; init; } = 1;
    /// <summary>Optimiser steps taken.</summary>
    [JsonPropertyName("step")] public long Step { get; init; }
    /// <summary>The epoch the next step draws from, and its batch index there (the data-order position).</summary>
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    [JsonPropertyName("batch_in_epoch")] public int BatchInEpoch { get; init; }
    [JsonPropertyName("data_seed")] public long DataSeed { get; init; }
    /// <summary>sha256 of the training config's JSON: a checkpoint only resumes the run that wrote it.</summary>
    [JsonPropertyName("config_sha256")] public string? ConfigSha256 { get; init; }
    /// <summary>Sum and count of training losses since the last evaluation (train_loss is their mean).</summary>
    [JsonPropertyName("train_loss_sum")] public double TrainLossSum { get; init; }
    [JsonPropertyName("train_loss_count")] public long TrainLossCount { get; init; }
    [JsonPropertyName("evaluations")] public int Evaluations { get; init; }
    [JsonPropertyName("last_evaluation_step")] public long LastEvaluationStep { get; init; } = -1;
    [JsonPropertyName("last_metrics")] public IReadOnlyDictionary<string, double> LastMetrics { get; init; } = new Dictionary<string, double>();
    /// <summary>sha256 of every other file in the checkpoint.</summary>
    [JsonPropertyName("files")] public IReadOnlyDictionary<string, string> Files { get; init; } = new Dictionary<string, string>();
}

/// <summary>A loaded checkpoint. Its tensors are the caller's to dispose (disposing this does it).</summary>
public sealed class CheckpointContents(string directory, CheckpointManifest manifest, Dictionary<string, Tensor> weights, Dictionary<string, Tensor> optimizer, Tensor rngState) : IDisposable
{
    public string Directory { get; } = directory;
    public CheckpointManifest Manifest { get; } = manifest;
    /// <summary>Trainable parameters by their module path (`l1.lora_A.weight`).</summary>
    public IReadOnlyDictionary<string, Tensor> Weights { get; } = weights;
    /// <summary>AdamW state per trainable parameter: `{name}.exp_avg`, `{name}.exp_avg_sq`, `{name}.step` (int64 [1]).</summary>
    public IReadOnlyDictionary<string, Tensor> Optimizer { get; } = optimizer;
    /// <summary>The run's own dropout generator's state (uint8; stored under the key `torch_cpu`, a CPU torch generator).</summary>
    public Tensor RngState { get; } = rngState;

    public void Dispose()
    {
        foreach (var t in Weights.Values) t.Dispose();
        foreach (var t in Optimizer.Values) t.Dispose();
        RngState.Dispose();
    }
}

/// <summary>
/// `checkpoints/step-N/` folders: `weights.safetensors`, `optimizer.safetensors`, `rng.safetensors` and
/// `checkpoint.json` (position and the files' sha256). Each is written into a temp folder and renamed into place,
/// so a folder named step-N is complete or absent; a checksum mismatch still marks it corrupt (disk faults, copies).
/// </summary>
public static class CheckpointDirectory
{
    public const string FolderName = "checkpoints";
    public const string ManifestFile = "checkpoint.json";
    public const string WeightsFile = "weights.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string RngFile = "rng.safetensors";
    public const string RngKey = "torch_cpu";
    /// <summary>How many of the newest checkpoints are kept.</summary>
    public const int Keep = 2;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string PathOf(string outputDirectory, long step) =>
        Path.Combine(outputDirectory, FolderName, $"step-{step.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Writes checkpoint step-<c>manifest.Step</c> atomically, drops all but the newest <see cref="Keep"/>, returns its folder.</summary>
    public static string Write(string outputDirectory, CheckpointManifest manifest, IReadOnlyDictionary<string, Tensor> weights,
        IReadOnlyDictionary<string, Tensor> optimizer, Tensor rngState)
    {
        var target = PathOf(outputDirectory, manifest.Step);
        AtomicFile.WriteDirectory(target, temp =>
        {
            SafetensorsFile.Write(Path.Combine(temp, WeightsFile), weights);
            SafetensorsFile.Write(Path.Combine(temp, OptimizerFile), optimizer);
            SafetensorsFile.Write(Path.Combine(temp, RngFile), new Dictionary<string, Tensor> { [RngKey] = rngState });
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in new[] { WeightsFile, OptimizerFile, RngFile })
                files[name] = FileHashes.Sha256(Path.Combine(temp, name));
            File.WriteAllText(Path.Combine(temp, ManifestFile), JsonSerializer.Serialize(manifest with { Files = files }, Json));
        });
        Prune(outputDirectory);
        return target;
    }

    /// <summary>Checks every file against the manifest; throws <see cref="CheckpointCorruptException"/> on any mismatch.</summary>
    public static CheckpointManifest Verify(string directory)
    {
        var manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath))
            throw new CheckpointCorruptException(directory, $"{ManifestFile} is missing");
        CheckpointManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(manifestPath));
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(directory, $"{ManifestFile} is not valid JSON ({e.Message})");
        }
        if (manifest is null || manifest.Files.Count == 0)
            throw new CheckpointCorruptException(directory, $"{ManifestFile} lists no files");
        foreach (var required in new[] { WeightsFile, OptimizerFile, RngFile })
        {
            if (!manifest.Files.ContainsKey(required))
                throw new CheckpointCorruptException(directory, $"{ManifestFile} does not list {required}");
        }
        foreach (var (name, expected) in manifest.Files)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
                throw new CheckpointCorruptException(directory, $"{name} is missing");
            var actual = FileHashes.Sha256(path);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointCorruptException(directory, $"{name} has sha256 {actual}, expected {expected}");
        }
        return manifest;
    }

    /// <summary>Verifies and loads a checkpoint.</summary>
    public static CheckpointContents Load(string directory)
    {
        var manifest = Verify(directory);
        try
        {
            var (weights, _) = SafetensorsFile.ReadAll(Path.Combine(directory, WeightsFile));
            var (optimizer, _) = SafetensorsFile.ReadAll(Path.Combine(directory, OptimizerFile));
            var (rng, _) = SafetensorsFile.ReadAll(Path.Combine(directory, RngFile));
            if (!rng.Remove(RngKey, out var rngState))
                throw new CheckpointCorruptException(directory, $"{RngFile} holds no '{RngKey}'");
            return new CheckpointContents(directory, manifest, weights, optimizer, rngState);
        }
        catch (Exception e) when (e is not CheckpointCorruptException and (InvalidDataException or IOException or FormatException))
        {
            throw new CheckpointCorruptException(directory, e.Message);
        }
    }

    /// <summary>The step-N folders under `{outputDirectory}/checkpoints`, newest first.</summary>
    public static IReadOnlyList<(long Step, string Directory)> List(string outputDirectory)
    {
        var root = Path.Combine(outputDirectory, FolderName);
        if (!Directory.Exists(root)) return [];
        var found = new List<(long, string)>();
        foreach (var dir in Directory.EnumerateDirectories(root, "step-*"))
        {
            if (long.TryParse(Path.GetFileName(dir).AsSpan("step-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var step))
                found.Add((step, dir));
        }
        return found.OrderByDescending(f => f.Item1).ToList();
    }

    /// <summary>The newest checkpoint that verifies, skipping corrupt ones; null when there is none.</summary>
    public static string? FindLatestValid(string outputDirectory)
    {
        foreach (var (_, dir) in List(outputDirectory))
        {
            try
            {
                Verify(dir);
                return dir;
            }
            catch (CheckpointCorruptException)
            {
                // Fall back to an earlier one.
            }
        }
        return null;
    }

    private static void Prune(string outputDirectory)
    {
        foreach (var (_, dir) in List(outputDirectory).Skip(Keep))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Another attempt may be reading it; the next prune gets it.
            }
        }
    }
}
