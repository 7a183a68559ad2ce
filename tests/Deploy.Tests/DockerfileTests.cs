using System.Text.RegularExpressions;
using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Deploy.Tests;

/// <summary>No Docker engine runs here: the Dockerfiles are checked as text.</summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string, string> Images => new()
    {
        { "Dockerfile", "cpu" },
        { "Dockerfile.cuda", "cuda" },
    };

    private static string[] Instructions(string file)
    {
        var text = File.ReadAllText(RepositoryRoot.Combine("deploy", "docker", file));
        // Join continuation lines, drop comments and blanks.
        return ContinuedLine().Replace(text, " ")
            .Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToArray();
    }

    private static IEnumerable<string> Args(string[] lines, string instruction) =>
        lines.Where(l => l.StartsWith(instruction + " ", StringComparison.OrdinalIgnoreCase)).Select(l => l[(instruction.Length + 1)..].Trim());

    /// <summary>`ARG NAME=default` values, to resolve `FROM ${NAME}`.</summary>
    private static Dictionary<string, string> ArgDefaults(string[] lines) =>
        Args(lines, "ARG").Where(a => a.Contains('=')).Select(a => a.Split('=', 2))
            .GroupBy(a => a[0]).ToDictionary(g => g.Key, g => g.First()[1]);

    private static string[] FinalStage(string[] lines) =>
        lines[Array.FindLastIndex(lines, l => l.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase))..];

    /// <summary>The stages' base images, `${ARG}` references resolved to their defaults, by stage name.</summary>
    private static Dictionary<string, string> StageBases(string[] lines)
    {
        var defaults = ArgDefaults(lines);
        string Resolve(string image)
        {
            for (var i = 0; i < 5 && ArgReference().IsMatch(image); i++)
                image = ArgReference().Replace(image, m => defaults[m.Groups[1].Value]);
            return image;
        }
        return Args(lines, "FROM").Select(f => f.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f.Length >= 3 ? f[2] : f[0], f => Resolve(f[0]));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Every_dotnet_stage_defaults_to_ubuntu_noble_for_libtorchs_GLIBCXX_3_4_32(string file, string backend)
    {
        _ = backend;
        // `web` only runs `npm ci` for the dashboard's echarts.min.js: no .NET, no libtorch.
        var bases = StageBases(Instructions(file)).Where(s => s.Key != "web").Select(s => s.Value).ToList();
        Assert.NotEmpty(bases);
        Assert.All(bases, image => Assert.True(image.Contains("-noble") || image.Contains("ubuntu24.04"), $"{file}: base {image} is not Ubuntu 24.04"));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Base_images_are_build_arguments_that_default_to_the_official_images(string file, string backend)
    {
        _ = backend;
        var lines = Instructions(file);
        var froms = Args(lines, "FROM").Select(f => f.Split(' ')[0]).ToList();
        Assert.Contains("${SDK_IMAGE}", froms);
        Assert.Contains("${RUNTIME_IMAGE}", froms);
        Assert.Contains("${NODE_IMAGE}", froms);
        var bases = StageBases(lines);
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0-noble", bases["build"]);
        Assert.StartsWith("node:20", bases["web"]);
        Assert.Contains("mcr.microsoft.com/dotnet/aspnet:10.0-noble", bases.Values);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void The_dashboards_echarts_comes_from_npm_ci_of_the_lock_file(string file, string backend)
    {
        _ = backend;
        var lines = Instructions(file);
        Assert.Contains(Args(lines, "COPY"), c => c == "package.json package-lock.json ./");
        Assert.Contains(Args(lines, "RUN"), r => r.StartsWith("npm ci ", StringComparison.Ordinal));
        Assert.Contains(Args(lines, "COPY"), c => c.StartsWith("--from=web /web/node_modules/echarts/dist/echarts.min.js node_modules/echarts/dist/", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Torch_backend_build_arg_reaches_every_publish(string file, string backend)
    {
        var lines = Instructions(file);
        Assert.Contains($"TORCH_BACKEND={backend}", Args(lines, "ARG"));
        var builds = Args(lines, "RUN").SelectMany(r => r.Split("&&")).Select(c => c.Trim())
            .Where(c => c.StartsWith("dotnet publish") || c.StartsWith("dotnet restore")).ToList();
        Assert.NotEmpty(builds);
        Assert.All(builds, c => Assert.Contains("-p:TorchBackend=$TORCH_BACKEND", c));
        Assert.Contains(builds, c => c.StartsWith("dotnet publish src/Silo/Silo.csproj"));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Runtime_stage_runs_as_uid_10001(string file, string backend)
    {
        _ = backend;
        var user = Args(FinalStage(Instructions(file)), "USER").Last();
        Assert.Equal("10001:10001", user);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Exposes_the_silo_endpoints_and_starts_the_silo_by_default(string file, string backend)
    {
        _ = backend;
        var final = FinalStage(Instructions(file));
        var exposed = Args(final, "EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Order();
        Assert.Equal(new[] { SiloEndpoints.SiloPort, SiloEndpoints.GatewayPort, SiloEndpoints.HttpPort }.Order(), exposed);
        // A command, not an entrypoint: `run IMAGE orchestrator VERB` (and the submit Job's `command:`) run the CLI.
        Assert.Equal("[\"dotnet\", \"Orchestrator.Silo.dll\"]", Args(final, "CMD").Single());
        Assert.Empty(Args(final, "ENTRYPOINT"));
        Assert.Empty(Args(final, "HEALTHCHECK"));
        Assert.Contains(Args(final, "LABEL"), l => l.Contains("org.opencontainers.image.title"));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Restore_layer_copies_every_source_project(string file, string backend)
    {
        _ = backend;
        var copied = Args(Instructions(file), "COPY").Select(c => c.Split(' ')[0]).Where(p => p.EndsWith(".csproj")).Order().ToArray();
        var projects = Directory.GetFiles(RepositoryRoot.Combine("src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(RepositoryRoot.Path, p).Replace('\\', '/')).Order().ToArray();
        Assert.Equal(projects, copied);
    }

    [Fact]
    public void Dockerignore_keeps_build_outputs_and_local_state_out_of_the_context()
    {
        var entries = File.ReadAllLines(RepositoryRoot.Combine(".dockerignore")).Select(l => l.Trim()).ToHashSet();
        foreach (var required in new[] { ".git", "**/artifacts", "**/bin", "**/obj", "**/node_modules", "**/.orchestrator" })
            Assert.Contains(required, entries);
    }

    [GeneratedRegex(@"\\\r?\n")]
    private static partial Regex ContinuedLine();

    [GeneratedRegex(@"\$\{?([A-Z_]+)\}?")]
    private static partial Regex ArgReference();
}
