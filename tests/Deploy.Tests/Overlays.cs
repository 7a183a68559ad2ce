namespace Orchestrator.Deploy.Tests;

internal static class Overlays
{
    public const string Dev = "overlays/dev";
    public const string Gpu = "overlays/gpu";
    public const string Production = "overlays/production";
    public const string Base = "base";

    public static TheoryData<string> All => new() { Dev, Gpu, Production };
    public static TheoryData<string> AllAndBase => new() { Base, Dev, Gpu, Production };
}
