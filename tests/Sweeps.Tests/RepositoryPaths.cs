namespace Orchestrator.Sweeps.Tests;

internal static class RepositoryPaths
{
    public static string Root { get; } = Find();

    public static string Sweeps => Path.Combine(Root, "sweeps");
    public static string MalformedCorpus => Path.Combine(Root, "tests", "Sweeps.Tests", "Corpus", "malformed");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Orchestrator.sln) not found above " + AppContext.BaseDirectory);
    }
}
