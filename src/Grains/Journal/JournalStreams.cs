using System.Text.RegularExpressions;

namespace Orchestrator.Grains.Journal;

/// <summary>Stream names. Sweep names are validated by the sweep parser; this re-checks them so no name can escape.</summary>
public static partial class JournalStreams
{
    public static string Sweep(string sweep) => $"sweeps/{Checked(sweep)}";
    public static string Leaderboard(string key) => $"leaderboards/{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..24].ToLowerInvariant()}";

    private static string Checked(string name) =>
        SafeName().IsMatch(name) ? name : throw new ArgumentException($"'{name}' is not a valid stream name: use [a-z0-9-], at most 63 characters.");

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex SafeName();
}
