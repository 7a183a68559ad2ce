using System.CommandLine;
using System.Reflection;
using TorchSharp;

namespace Orchestrator.Client.Commands;

public sealed class VersionCommand() : OrchestratorCommand("version", "Print the orchestrator's version and its TorchSharp backend.")
{
    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        Console.WriteLine($"orchestrator {version}");
        // The package this build links (TorchSharp-cpu or TorchSharp-cuda-linux), then a load of its native libtorch:
        // in a container image this is the proof that libtorch's shared libraries resolve there.
        var package = typeof(VersionCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "TorchPackage")?.Value ?? "TorchSharp";
        var torchSharp = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "?";
        torch.InitializeDeviceType(DeviceType.CPU);
        var cuda = torch.cuda.is_available();
        Console.WriteLine($"torchsharp {torchSharp} ({package}), libtorch loaded, backend {(cuda ? "cuda" : "cpu")} (cuda available: {(cuda ? "yes" : "no")})");
        return Task.FromResult(ExitCodes.Success);
    }
}
