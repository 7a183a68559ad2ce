using System.Security.Cryptography;
using System.Text;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Sweeps;

/// <summary>
/// A trial's id: the first 12 hex digits of SHA-256 over the sweep's name, the trial's kind and its swept parameters
/// as displayed, sorted by key (so reordering a file keeps its ids). The one definition: the expander names trials with
/// it and the sweep grain checks a submitted plan's ids with it. Pinned by golden ids in the sweep tests.
/// </summary>
public static class TrialIds
{
    /// <summary>The hashed text ("mnist-rank\nkind=lora\nalpha=8\nrank=8\n"); the trainer's seed derives from it too.</summary>
    public static string Material(string sweep, string kind, IEnumerable<KeyValuePair<string, string>> displayed)
    {
        var material = new StringBuilder().Append(sweep).Append('\n').Append("kind=").Append(kind).Append('\n');
        foreach (var (k, v) in displayed.OrderBy(kv => kv.Key, StringComparer.Ordinal)) material.Append(k).Append('=').Append(v).Append('\n');
        return material.ToString();
    }

    public static string Of(string material) => "t" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(material)))[..12];

    /// <summary>The id of a trial of <paramref name="sweep"/> with these typed parameters, as the expander gives it.</summary>
    public static string Of(string sweep, TrialKind kind, IReadOnlyDictionary<string, ParameterValue> parameters) =>
        Of(Material(sweep, kind.Name(), parameters.Select(kv => KeyValuePair.Create(kv.Key, TrainerParameters.Display(kv.Value.ToJson())))));
}
