namespace Orchestrator.Grains.Journal;

/// <summary>Stream names. A sweep's stream is named by the sweep; <see cref="SweepName"/> is the one rule, re-checked here so no name can escape.</summary>
public static class JournalStreams
{
    public static string Sweep(string sweep) => $"sweeps/{SweepName.Require(sweep)}";
    public static string Leaderboard(string key) => $"leaderboards/{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..24].ToLowerInvariant()}";
}
