using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Orchestrator.Client.Connection;

/// <summary>
/// The console log of a silo hosted inside a verb (the embedded silo, `bench orchestrator`'s silos). That verb's
/// stdout may be a <c>--json</c> document, so every log line (warnings, or anything <c>Logging__LogLevel__*</c>
/// turns on) goes to stderr, whatever its level.
/// </summary>
public static class SiloConsoleLog
{
    public static Action<IServiceCollection> OnStandardError(Action<IServiceCollection>? configureSilo = null) => services =>
    {
        services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        configureSilo?.Invoke(services);
    };
}
