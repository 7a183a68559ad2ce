using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Orchestrator.Storage;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `manifest.json` of a finished sweep: what `reproduce` needs to re-run it and what to compare against — the spec,
/// code and package versions, the dataset files' hashes, and per trial its config (seed included), metrics and
/// adapter hash.
/// </summary>
public static class Manifest
{
    public static async Task WriteAsync(IArtifactStore store, SweepSpecView spec, IReadOnlyList<TrialRecord> trials, CancellationToken cancellationToken)
    {
        var name = Orchestrator.Sweeps.SweepFile.Parse(spec.YamlText, spec.FileName).Name;
        var manifest = new
        {
            sweep = name,
            spec = spec.YamlText,
            spec_file = spec.FileName,
            orchestrator_version = typeof(Manifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            torchsharp_version = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(),
            runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            datasets = DatasetHashes(),
            trials = trials.Select(t => new
            {
                id = t.TrialId,
                kind = t.Kind.Name(),
                state = t.State.ToString().ToLowerInvariant(),
                config = t.Config,
                metrics = t.Metrics,
                adapter_sha256 = t.AdapterSha256,
            }),
        };
        await store.WriteAsync(ArtifactPaths.Manifest(name),
            new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, new JsonSerializerOptions { WriteIndented = true })), cancellationToken);
    }

    private static Dictionary<string, string> DatasetHashes()
    {
        var data = Path.Combine(AppContext.BaseDirectory, "data");
        if (!Directory.Exists(data)) return [];
        return Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".gz", StringComparison.Ordinal) || f.EndsWith(".jsonl", StringComparison.Ordinal) || f.Contains("ubyte", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(data, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))).ToLowerInvariant());
    }
}
