using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orchestrator.Deploy.Tests;

/// <summary>No credential lives in the manifests, except Azurite's published development key in dev.</summary>
public sealed partial class SecretTests
{
    // Published in Microsoft's Azurite documentation; it opens nothing but a local Azurite.
    private const string AzuriteAccount = "devstoreaccount1";
    private const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    // Key words, connection-string keys, passwords in URLs, and long mixed-case base64 (keys, tokens; not hex hashes).
    [GeneratedRegex(@"AccountKey=|SharedAccessSignature=|[?&]sig=|password|secret=|-----BEGIN|rediss?://[^/\s]*:[^@/\s]+@|(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{40,}={0,2}", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialLike();

    [KubectlTheory]
    [InlineData(Overlays.Base)]
    [InlineData(Overlays.Production)]
    [InlineData(Overlays.Gpu)]
    public void Base_production_and_gpu_carry_no_secret_values(string overlay)
    {
        var secrets = Kustomize.Render(overlay).OfKind("Secret").ToList();
        Assert.All(secrets, s =>
        {
            Assert.Null(s["data"]);
            Assert.Null(s["stringData"]);
        });
    }

    [KubectlFact]
    public void Dev_only_secret_is_the_public_azurite_development_account()
    {
        var secret = Assert.Single(Kustomize.Render(Overlays.Dev).OfKind("Secret"));
        Assert.StartsWith("orchestrator-storage-", (string?)secret["metadata"]!["name"]);
        var data = secret["data"]!.AsObject();
        var connectionString = Encoding.UTF8.GetString(Convert.FromBase64String((string)data["connectionString"]!));
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(AzuriteAccount, parts["AccountName"]);
        Assert.Equal(AzuriteKey, parts["AccountKey"]);
        Assert.Equal($"http://azurite:10000/{AzuriteAccount}", parts["BlobEndpoint"]);
        Assert.Single(data);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.AllAndBase), MemberType = typeof(Overlays))]
    public void No_plain_env_value_or_config_value_looks_like_a_credential(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        foreach (var (where, container) in rendered.AllContainers)
            foreach (var env in Rendered.Env(container))
                if ((string?)env["value"] is { } value)
                    Assert.False(CredentialLike().IsMatch(value), $"{where}: {env["name"]}={value} looks like a credential");

        foreach (var configMap in rendered.OfKind("ConfigMap"))
            foreach (var (key, value) in configMap["data"]?.AsObject() ?? new JsonObject())
                Assert.False(CredentialLike().IsMatch((string?)value ?? ""), $"ConfigMap {configMap["metadata"]!["name"]} key {key} looks like a credential");
    }
}
