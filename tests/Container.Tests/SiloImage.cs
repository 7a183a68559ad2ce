using System.Diagnostics;
using Orchestrator.TestServers;

namespace Orchestrator.Container.Tests;

/// <summary>
/// The silo image, built once per test run by deploy/docker/build-local.sh from the repository's own Dockerfile:
/// cached local base images (~/.cache/lora-orchestrator/container-bases) make a warm build take seconds, and the
/// publish layer is rebuilt only when src/ changed.
/// </summary>
public sealed class SiloImage : IAsyncLifetime
{
    public const string Tag = "localhost/orchestrator-silo:container-tests";

    public TimeSpan BuildTime { get; private set; }

    public string BuildLog { get; } = Path.Combine(Path.GetTempPath(), "orchestrator-container-image-build.log");

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var script = Path.Combine(Cli.RepositoryRoot, "deploy", "docker", "build-local.sh");
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardInput = true, WorkingDirectory = Cli.RepositoryRoot };
        foreach (var arg in new[] { "-c", "exec \"$0\" --tag \"$1\" >\"$2\" 2>&1", script, Tag, BuildLog }) start.ArgumentList.Add(arg);
        using var build = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        // A cold build (debootstrap, restore, publish on 2 cores) takes many minutes; a warm one seconds.
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(45));
        try
        {
            await build.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            build.Kill(entireProcessTree: true);
            Assert.Fail($"build-local.sh did not finish within 45 min\n{ChildProcess.ReadLogTail(BuildLog, 60)}");
        }
        Assert.True(build.ExitCode == 0, $"build-local.sh exited {build.ExitCode}\n{ChildProcess.ReadLogTail(BuildLog, 60)}");
        BuildTime = clock.Elapsed;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class SiloImageCollection : ICollectionFixture<SiloImage>
{
    public const string Name = "silo image";
}
