namespace Orchestrator.Client.Commands;

/// <summary>Exit codes every verb uses; scripts may rely on them.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The command line itself is wrong: unknown verb, missing or bad option.</summary>
    public const int UsageError = 1;
    /// <summary>A file the user gave is invalid (YAML, safetensors, config).</summary>
    public const int InvalidInput = 2;
    /// <summary>The named sweep, trial or resource does not exist.</summary>
    public const int NotFound = 3;
    /// <summary>The cluster could not be reached.</summary>
    public const int ClusterUnreachable = 4;
    /// <summary>Work ran and failed (a trial, a reproduction that did not match).</summary>
    public const int Failed = 5;
    /// <summary>Interrupted by the user (Ctrl+C).</summary>
    public const int Cancelled = 130;
}
