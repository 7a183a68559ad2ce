using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Orchestrator.Silo.Hosting;

/// <summary>
/// The Redis that holds a cluster's membership, grain state and journals, as silos and clients both reach it:
/// <c>redis://HOST:PORT</c> (<c>rediss://</c> for TLS), optionally followed by StackExchange.Redis options
/// (<c>redis://HOST:PORT,password=...,ssl=true</c>). A password may instead come from
/// <c>ORCHESTRATOR_REDIS_PASSWORD</c> (a Kubernetes Secret), so the address itself can live in a ConfigMap.
/// <see cref="ToString"/> never shows the password.
/// </summary>
public sealed partial class RedisConnection
{
    private RedisConnection(string endpoint, ConfigurationOptions options)
    {
        Endpoint = endpoint;
        Options = options;
    }

    /// <summary>HOST:PORT, for messages.</summary>
    public string Endpoint { get; }

    /// <summary>A fresh copy for each user (Orleans' providers and the journal each keep their own).</summary>
    public ConfigurationOptions Configuration() => Options.Clone();

    private ConfigurationOptions Options { get; }

    public bool RequiresPassword => !string.IsNullOrEmpty(Options.Password);

    /// <summary>Null when <paramref name="cluster"/> names a Redis the way <see cref="Parse"/> takes it; otherwise what is wrong.</summary>
    public static string? Problem(string cluster)
    {
        try
        {
            Parse(cluster, password: null, trustedAuthority: null);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <param name="cluster"><c>redis://HOST:PORT[,option=value...]</c>, <c>rediss://...</c>, or <c>HOST:PORT[,...]</c>.</param>
    /// <param name="password">Overrides a <c>password=</c> in <paramref name="cluster"/> when given.</param>
    /// <param name="trustedAuthority">With TLS, a PEM CA file that issued Redis' certificate (the cluster's CA, by default).</param>
    /// <exception cref="ArgumentException">Not a Redis address; the message says what is allowed (and never holds the password).</exception>
    public static RedisConnection Parse(string cluster, string? password, string? trustedAuthority)
    {
        var match = Address().Match(cluster);
        if (!match.Success)
            throw new ArgumentException($"--cluster '{Redacted(cluster)}' is not valid: use 'localhost' or 'redis://HOST:PORT' (options may follow: ',password=...,ssl=true')");
        var endpoint = match.Groups["endpoint"].Value;
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(endpoint + match.Groups["options"].Value);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--cluster '{Redacted(cluster)}': {e.Message.Split('\n')[0]}");
        }
        if (match.Groups["scheme"].Value.Equals("rediss", StringComparison.OrdinalIgnoreCase)) options.Ssl = true;
        if (!string.IsNullOrEmpty(password)) options.Password = password;
        if (options.Ssl && trustedAuthority is not null) options.TrustIssuer(trustedAuthority);
        // A silo rides out a Redis restart (tests/Reliability.Tests); it must not give up on a first failed connect.
        options.AbortOnConnectFail = false;
        return new RedisConnection(endpoint, options);
    }

    /// <summary>
    /// Connects once and returns what stops this connection from working with credentials (no password, a wrong
    /// one, a TLS mismatch), in words; null when it works, and also when Redis is simply not up yet: a starting silo
    /// waits for that, as before.
    /// </summary>
    public async Task<string?> CredentialProblemAsync(TimeSpan timeout)
    {
        var probe = Configuration();
        probe.AbortOnConnectFail = true;
        probe.ConnectTimeout = (int)timeout.TotalMilliseconds;
        probe.ConnectRetry = 1;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(probe);
            await connection.GetDatabase().PingAsync();
            return null;
        }
        catch (RedisConnectionException e) when (e.FailureType == ConnectionFailureType.AuthenticationFailure || IsAuthentication(e))
        {
            return RequiresPassword
                ? $"Redis at {Endpoint} refused the password (check {Orchestrator.Contracts.Hosting.EnvironmentVariables.RedisPassword} or password= in --cluster)"
                : $"Redis at {Endpoint} requires a password: set {Orchestrator.Contracts.Hosting.EnvironmentVariables.RedisPassword} or add ',password=...' to --cluster";
        }
        catch (RedisServerException e) when (IsAuthentication(e))
        {
            return $"Redis at {Endpoint} requires a password: set {Orchestrator.Contracts.Hosting.EnvironmentVariables.RedisPassword} or add ',password=...' to --cluster";
        }
        catch (RedisException)
        {
            return null;
        }
    }

    private static bool IsAuthentication(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner.Message.Contains("NOAUTH", StringComparison.Ordinal) || inner.Message.Contains("WRONGPASS", StringComparison.Ordinal)
                || inner.Message.Contains("invalid password", StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }

    public override string ToString() => Endpoint;

    /// <summary><paramref name="cluster"/> with any <c>password=</c> value replaced, for messages.</summary>
    public static string Redacted(string cluster) => Password().Replace(cluster, "${key}=***");

    [GeneratedRegex(@"^(?:(?<scheme>rediss?)://)?(?<endpoint>[A-Za-z0-9.\-]+:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5})/?(?<options>(?:,[^,]*)*)$", RegexOptions.IgnoreCase)]
    private static partial Regex Address();

    [GeneratedRegex(@"(?<key>password)=[^,]*", RegexOptions.IgnoreCase)]
    private static partial Regex Password();
}
