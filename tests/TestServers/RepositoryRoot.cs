namespace Orchestrator.TestServers;

/// <summary>The checkout's root: the nearest folder above the test assembly that holds Orchestrator.sln.</summary>
public static class RepositoryRoot
{
    public static string Find() => Find(AppContext.BaseDirectory);

    public static string Find(string startDirectory)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No Orchestrator.sln in '{startDirectory}' or any folder above it.");
    }
}
