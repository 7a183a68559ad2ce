namespace Orchestrator.TestServers;

/// <summary>
/// Starting a server on a port <see cref="FreePort"/> picked: another process can bind the port between the pick and
/// the server's own bind. Such a clash (recognised by the server's own "in use" message) gets a fresh server on a
/// fresh port, three tries in all; any other failure is the caller's.
/// </summary>
internal static class PortClash
{
    public static async Task<T> StartAsync<T>(Func<T> create, Func<T, Task> launch, string inUseMessage) where T : IAsyncDisposable
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = create();
            try
            {
                await launch(server);
                return server;
            }
            catch (Exception e) when (attempt < 3 && e.Message.Contains(inUseMessage, StringComparison.Ordinal))
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }
}
