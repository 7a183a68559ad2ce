using System.Text.Json;

namespace Orchestrator.Build.Tests;

/// <summary>Rules about how the projects fit together, checked on the MSBuild evaluation and the restore's assets.</summary>
public sealed class ProjectBoundaryTests
{
    private static readonly string TrainerProject = Path.Combine(RepositoryRoot.Path, "src", "Trainer", "Trainer.csproj");

    [Fact]
    public void The_trainer_references_neither_Orleans_nor_any_other_project()
    {
        var packages = MsBuildEvaluation.Items(TrainerProject, "PackageReference");
        var projects = MsBuildEvaluation.Items(TrainerProject, "ProjectReference");

        Assert.DoesNotContain(packages, p => p.Contains("Orleans", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(projects); // a project reference could bring Orleans in transitively
    }

    [Fact]
    public void Nothing_that_the_trainer_restores_transitively_is_an_Orleans_package()
    {
        var assets = Path.Combine(RepositoryRoot.Path, "artifacts", "obj", "Trainer", "project.assets.json");
        Assert.True(File.Exists(assets), $"{assets} is missing: restore the solution first");
        using var json = JsonDocument.Parse(File.ReadAllText(assets));
        var libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name).ToList();

        Assert.NotEmpty(libraries);
        Assert.DoesNotContain(libraries, l => l.StartsWith("Microsoft.Orleans", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Copy_local_files_such_as_libtorch_are_hard_linked_not_copied()
    {
        foreach (var property in new[] { "CreateHardLinksForCopyLocalIfPossible", "CreateHardLinksForCopyFilesToOutputDirectoryIfPossible" })
        {
            Assert.Equal("true", MsBuildEvaluation.Property(TrainerProject, property));
        }
    }

}
