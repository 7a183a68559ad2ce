namespace Orchestrator.Build.Tests;

/// <summary>The TorchSharp backend is an MSBuild switch. These evaluate the project (no restore), so they run
/// even where TorchSharp-cuda-linux is not on the package registry.</summary>
public sealed class TorchBackendSwitchTests
{
    private static readonly string TrainerProject = Path.Combine(RepositoryRoot.Path, "src", "Trainer", "Trainer.csproj");

    [Fact]
    public void Default_build_references_TorchSharp_cpu()
    {
        var packages = TorchPackages();
        Assert.Equal(["TorchSharp-cpu"], packages);
    }

    [Fact]
    public void TorchBackend_cuda_references_TorchSharp_cuda_linux_instead()
    {
        var packages = TorchPackages("-p:TorchBackend=cuda");
        Assert.Equal(["TorchSharp-cuda-linux"], packages);
    }

    [Fact]
    public void Both_backends_have_a_central_package_version()
    {
        var props = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "Directory.Packages.props"));
        Assert.Contains("<PackageVersion Include=\"TorchSharp-cpu\" Version=\"0.107.0\" />", props);
        Assert.Contains("<PackageVersion Include=\"TorchSharp-cuda-linux\" Version=\"0.107.0\" />", props);
    }

    [Fact]
    public void An_unknown_backend_fails_with_the_allowed_values()
    {
        var (exitCode, output) = MsBuild("-t:CheckTorchBackend", "-p:TorchBackend=rocm");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("TorchBackend 'rocm' is not supported. Allowed: cpu, cuda.", output);
    }

    private static string[] TorchPackages(params string[] extra) =>
        MsBuildEvaluation.Items(TrainerProject, "PackageReference", extra)
            .Where(id => id.StartsWith("TorchSharp", StringComparison.Ordinal))
            .ToArray();

    private static (int ExitCode, string Output) MsBuild(params string[] args) => MsBuildEvaluation.Run(TrainerProject, args);
}
