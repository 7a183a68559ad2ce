using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Deploy.Tests;

/// <summary>Renders a kustomization with `kubectl kustomize` and parses every document of the output.</summary>
internal static class Kustomize
{
    public static readonly string? Kubectl = FindOnPath("kubectl");

    public const string NoKubectl = "kubectl is not on PATH: install kubectl (1.27+, built-in kustomize) to render deploy/k8s";

    private static readonly ConcurrentDictionary<string, Lazy<Rendered>> Cache = new();

    /// <summary>Renders `deploy/k8s/{relativeDir}` once per test run.</summary>
    public static Rendered Render(string relativeDir) =>
        Cache.GetOrAdd(relativeDir, dir => new Lazy<Rendered>(() => RenderNow(dir))).Value;

    private static Rendered RenderNow(string relativeDir)
    {
        var dir = RepositoryRoot.Combine("deploy", "k8s", relativeDir);
        var start = new ProcessStartInfo(Kubectl ?? throw new InvalidOperationException(NoKubectl))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(dir);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl kustomize {dir} did not finish in 2 minutes");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"kubectl kustomize {dir} exited {process.ExitCode}: {stderr.Result}");
        return new Rendered(relativeDir, Parse(stdout.Result));
    }

    public static IReadOnlyList<JsonObject> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents
            .Select(d => ToJson(d.RootNode))
            .OfType<JsonObject>()
            .ToList();
    }

    // JSON is the easier tree to walk; plain scalars that look like numbers or booleans become those.
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when s.Value is "null" or "~" or "" => null,
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when s.Value is "true" or "false" => JsonValue.Create(s.Value == "true"),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
            if (OperatingSystem.IsWindows() && File.Exists(candidate + ".exe")) return candidate + ".exe";
        }
        return null;
    }
}

/// <summary>A Fact that is skipped, saying why, when kubectl is not installed.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kustomize.Kubectl is null) Skip = Kustomize.NoKubectl;
    }
}

/// <summary>A Theory that is skipped, saying why, when kubectl is not installed.</summary>
public sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute()
    {
        if (Kustomize.Kubectl is null) Skip = Kustomize.NoKubectl;
    }
}
