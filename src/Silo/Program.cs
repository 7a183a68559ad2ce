// The container entrypoint: `dotnet Orchestrator.Silo.dll`, options from ORCHESTRATOR_* variables.
using Orchestrator.Silo.Hosting;

try
{
    var app = await SiloHost.BuildAsync(SiloHostOptions.FromEnvironment(), logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
    await app.RunAsync();
    return 0;
}
catch (SiloHostOptionsException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (ClusterAccessException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 4;
}
