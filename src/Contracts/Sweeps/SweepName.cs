using System.Text.RegularExpressions;

namespace Orchestrator.Contracts.Sweeps;

/// <summary>
/// The one rule for sweep names, used by the sweep file, the journal's stream names, the artifact layout and every
/// CLI verb that takes a name: a DNS label (lower-case letters, digits and dashes, 1–63 characters, not starting or
/// ending with a dash), so a name is also a safe path segment, Redis key part and Kubernetes label.
/// </summary>
public static partial class SweepName
{
    public const int MaxLength = 63;
    public const string Rule = "lowercase letters, digits and dashes, at most 63 characters, not starting or ending with a dash";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>Null when <paramref name="name"/> is valid, else the message naming the rule.</summary>
    public static string? Check(string? name) =>
        IsValid(name) ? null : $"'{Shown(name)}' is not a valid sweep name: use {Rule} (e.g. mnist-rank)";

    /// <summary>Returns a valid name, or throws <see cref="ArgumentException"/> with <see cref="Check"/>'s message.</summary>
    public static string Require(string? name) => Check(name) is { } problem ? throw new ArgumentException(problem, nameof(name)) : name!;

    private static string Shown(string? name) =>
        name is null ? "" : string.Concat(name.Take(80).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) + (name.Length > 80 ? "…" : "");

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
