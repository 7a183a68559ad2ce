namespace Orchestrator.TestServers;

/// <summary>Test clean-up of temporary folders: best effort, since a folder left behind in /tmp is harmless.</summary>
public static class TempFolder
{
    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
