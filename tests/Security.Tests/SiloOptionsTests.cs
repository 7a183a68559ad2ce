using Orchestrator.Silo.Hosting;

namespace Orchestrator.Security.Tests;

/// <summary>What a silo refuses to start with, and how Redis credentials are read, without starting anything.</summary>
public sealed class SiloOptionsTests
{
    private static SiloHostOptions Cluster(string? address = null) => new()
    {
        Cluster = "redis://127.0.0.1:6379",
        Storage = Path.GetTempPath(),
        AdvertisedAddress = address,
    };

    [Fact]
    public void A_cluster_silo_that_would_listen_beyond_loopback_without_TLS_is_refused_naming_the_options()
    {
        var e = Assert.Throws<SiloHostOptionsException>(() => Cluster("10.1.2.3").Validated());
        Assert.Contains("refusing to listen on 10.1.2.3 without TLS", e.Message);
        Assert.Contains("--tls-cert", e.Message);
        Assert.Contains("--insecure", e.Message);
    }

    [Fact]
    public void Insecure_allows_plaintext_beyond_loopback_and_loopback_never_needs_it()
    {
        Assert.NotNull((Cluster("10.1.2.3") with { Insecure = true }).Validated());
        Assert.NotNull(Cluster("127.0.0.1").Validated());
        Assert.NotNull(Cluster().Validated());
        Assert.False(new SiloHostOptions { AdvertisedAddress = "10.1.2.3" }.ListensBeyondLoopback);
    }

    [Theory]
    [InlineData(null, 1.0)]
    [InlineData("0.2", 0.2)]
    [InlineData("5", 5.0)]
    public void The_progress_interval_comes_from_the_environment_or_is_a_second(string? value, double seconds)
    {
        var options = SiloHostOptions.FromEnvironment(name => name == "ORCHESTRATOR_PROGRESS_INTERVAL_SECONDS" ? value : null);
        Assert.Equal(TimeSpan.FromSeconds(seconds), options.ProgressInterval);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.01")]
    [InlineData("61")]
    [InlineData("soon")]
    public void A_progress_interval_out_of_range_is_refused_naming_the_value_and_the_range(string value)
    {
        var e = Assert.Throws<SiloHostOptionsException>(() =>
            SiloHostOptions.FromEnvironment(name => name == "ORCHESTRATOR_PROGRESS_INTERVAL_SECONDS" ? value : null));
        Assert.Contains($"ORCHESTRATOR_PROGRESS_INTERVAL_SECONDS='{value}'", e.Message);
        Assert.Contains("0.05 to 60", e.Message);
    }

    [Fact]
    public async Task The_silo_verb_refuses_a_non_loopback_address_without_TLS_with_exit_1_and_no_stack_trace()
    {
        var result = await Cli.RunAsync(["silo", "--cluster", "redis://127.0.0.1:1", "--storage", Path.GetTempPath(), "--address", "10.1.2.3"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("refusing to listen on 10.1.2.3 without TLS", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void A_Redis_password_comes_from_the_cluster_string_or_the_environment_and_never_shows_in_messages()
    {
        var inline = RedisConnection.Parse("redis://10.0.0.1:6379,password=s3cret-inline,ssl=true", password: null, trustedAuthority: null);
        Assert.Equal("s3cret-inline", inline.Configuration().Password);
        Assert.True(inline.Configuration().Ssl);
        Assert.Equal("10.0.0.1:6379", inline.ToString());

        var options = SiloHostOptions.FromEnvironment(name => name switch
        {
            "ORCHESTRATOR_CLUSTER" => "redis://10.0.0.1:6379",
            "ORCHESTRATOR_REDIS_PASSWORD" => "s3cret-env",
            _ => null,
        });
        Assert.Equal("s3cret-env", options.Redis.Configuration().Password);
        Assert.True(RedisConnection.Parse("rediss://10.0.0.1:6380", null, null).Configuration().Ssl);

        Assert.DoesNotContain("s3cret", RedisConnection.Redacted("redis://h:1,password=s3cret,ssl=true"));
        var bad = RedisConnection.Problem("redis://no-port,password=s3cret");
        Assert.NotNull(bad);
        Assert.DoesNotContain("s3cret", bad);
    }

    [Fact]
    public void TLS_files_come_from_the_ORCHESTRATOR_TLS_variables()
    {
        var options = SiloHostOptions.FromEnvironment(name => name switch
        {
            "ORCHESTRATOR_TLS_CERT" => "/certs/tls.crt",
            "ORCHESTRATOR_TLS_KEY" => "/certs/tls.key",
            "ORCHESTRATOR_TLS_CA" => "/certs/ca.crt",
            _ => null,
        });
        Assert.Equal(new TlsFiles("/certs/tls.crt", "/certs/tls.key", "/certs/ca.crt"), options.Tls);
    }
}
