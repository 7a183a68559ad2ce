using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// `manifest.json`: what `reproduce` needs to re-run a sweep and what to compare against — the spec and its hash,
/// code and package versions, the dataset files' hashes, and per trial its config (seed included), state, metrics
/// and adapter hash. The sweep grain writes it when a submission is accepted and again when the sweep finishes.
/// </summary>
public static class SweepManifest
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Datasets = new(DatasetHashes);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static string Json(string sweep, SweepLedger ledger)
    {
        var manifest = new JsonObject
        {
            ["sweep"] = sweep,
            ["spec_sha256"] = ledger.Spec?.Hash,
            ["spec"] = ledger.YamlText,
            ["spec_file"] = ledger.FileName,
            ["state"] = ledger.State.ToString().ToLowerInvariant(),
            ["orchestrator_version"] = typeof(SweepManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            ["torchsharp_version"] = TorchSharpVersion.Value,
            ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            ["datasets"] = new JsonObject(Datasets.Value.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["trials"] = new JsonArray([.. ledger.Trials.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id,
                ["kind"] = t.Plan.Kind.Name(),
                ["state"] = t.State.ToString().ToLowerInvariant(),
                ["parameters"] = new JsonObject(t.Plan.Parameters.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value.ToJson()))),
                ["config"] = JsonNode.Parse(t.Plan.ConfigJson),
                ["metrics"] = new JsonObject(t.Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
                ["adapter_sha256"] = t.Result?.AdapterSha256,
            })]),
        };
        return manifest.ToJsonString(Indented);
    }

    /// <summary>The bundled datasets next to the silo's binaries, hashed once per process.</summary>
    private static IReadOnlyDictionary<string, string> DatasetHashes()
    {
        var data = Path.Combine(AppContext.BaseDirectory, "data");
        if (!Directory.Exists(data)) return new Dictionary<string, string>();
        return Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".gz", StringComparison.Ordinal) || f.EndsWith(".jsonl", StringComparison.Ordinal) || f.Contains("ubyte", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(data, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
    }

    /// <summary>
    /// The TorchSharp the silo's trainer runs, by assembly name: grains do not reference TorchSharp, and loading its
    /// managed assembly by name does not load libtorch. Null where the host has no trainer.
    /// </summary>
    private static readonly Lazy<string?> TorchSharpVersion = new(() =>
    {
        try { return Assembly.Load("TorchSharp").GetName().Version?.ToString(); }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException) { return null; }
    });
}
