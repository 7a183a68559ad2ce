using System.Buffers;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
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

    /// <summary>
    /// The manifest, written straight to one buffer: a sweep of 10,000 trials built a node tree (and parsed every
    /// config again) twice per sweep. The text is what <see cref="JsonNode.ToJsonString"/> of the same tree gives.
    /// </summary>
    public static string Json(string sweep, SweepLedger ledger)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("sweep", sweep);
            writer.WriteString("spec_sha256", ledger.Spec?.Hash);
            writer.WriteString("spec", ledger.YamlText);
            writer.WriteString("spec_file", ledger.FileName);
            writer.WriteString("state", ledger.State.ToString().ToLowerInvariant());
            writer.WriteString("orchestrator_version", OrchestratorVersion.Value);
            writer.WriteString("torchsharp_version", TorchSharpVersion.Value);
            writer.WriteString("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
            writer.WriteStartObject("datasets");
            foreach (var (file, hash) in Datasets.Value) writer.WriteString(file, hash);
            writer.WriteEndObject();
            writer.WriteStartArray("trials");
            foreach (var trial in ledger.Trials) WriteTrial(writer, trial);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One trial: its id, kind, state, swept parameters, config as leased, metrics and adapter hash.</summary>
    private static void WriteTrial(Utf8JsonWriter writer, TrialEntry trial)
    {
        writer.WriteStartObject();
        writer.WriteString("id", trial.Id);
        writer.WriteString("kind", trial.Plan.Kind.Name());
        writer.WriteString("state", trial.State.ToString().ToLowerInvariant());
        writer.WriteStartObject("parameters");
        foreach (var (key, value) in trial.Plan.Parameters)
        {
            writer.WritePropertyName(key);
            value.ToJson().WriteTo(writer, Indented);
        }
        writer.WriteEndObject();
        writer.WritePropertyName("config");
        trial.Plan.Config.WriteTo(writer);
        writer.WriteStartObject("metrics");
        foreach (var (name, value) in trial.Metrics)
        {
            writer.WritePropertyName(name);
            JsonSerializer.Serialize(writer, value, Indented); // NaN and infinities as their names, as a JsonValue writes them
        }
        writer.WriteEndObject();
        writer.WriteString("adapter_sha256", trial.Result?.AdapterSha256);
        writer.WriteEndObject();
    }

    private static readonly Lazy<string?> OrchestratorVersion =
        new(() => typeof(SweepManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

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
