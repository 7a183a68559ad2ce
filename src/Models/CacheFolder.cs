namespace Orchestrator.Models;

/// <summary>
/// Where pulled models and prepared datasets live: <c>$LORA_ORCHESTRATOR_CACHE</c> when set, else
/// <c>${XDG_CACHE_HOME:-~/.cache}/lora-orchestrator</c> (the folder scripts/setup.sh uses).
/// </summary>
public static class CacheFolder
{
    public const string EnvironmentVariable = "LORA_ORCHESTRATOR_CACHE";

    public static string Root
    {
        get
        {
            var explicitRoot = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(explicitRoot)) return Path.GetFullPath(explicitRoot);
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var cache = string.IsNullOrWhiteSpace(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
                : xdg;
            return Path.Combine(cache, "lora-orchestrator");
        }
    }

    public static string Models(string? root = null) => Path.Combine(root ?? Root, "models");

    public static string Data(string? root = null) => Path.Combine(root ?? Root, "data");
}
