using System.Text.Json;

namespace Orchestrator.Build.Tests;

/// <summary>Rules about how the projects fit together, checked on the MSBuild evaluation and the restore's assets.</summary>
public sealed class ProjectBoundaryTests
{
    private static readonly string TrainerProject = Path.Combine(RepositoryRoot.Path, "src", "Trainer", "Trainer.csproj");

    [Fact]
    public void The_trainer_references_no_Orleans_and_no_project_but_the_trial_model()
    {
        var packages = MsBuildEvaluation.Items(TrainerProject, "PackageReference");
        var projects = MsBuildEvaluation.Items(TrainerProject, "ProjectReference");

        Assert.DoesNotContain(packages, p => p.Contains("Orleans", StringComparison.OrdinalIgnoreCase));
        // Any other project could bring Orleans in transitively; the trial model references nothing (below).
        Assert.Equal([Path.Combine("..", "Trials", "Trials.csproj")], projects.Select(p => p.Replace('\\', Path.DirectorySeparatorChar)));
    }

    [Fact]
    public void The_trial_model_references_no_project_and_no_package_but_the_managed_parquet_reader()
    {
        var trials = Path.Combine(RepositoryRoot.Path, "src", "Trials", "Trials.csproj");

        // The task of a dataset file is decided from its rows (DatasetProbe), before any trainer runs: sweep validation
        // reads the first rows of a .parquet file as of a .jsonl one. Parquet.Net is fully managed (no native code).
        Assert.Equal(["Parquet.Net"], MsBuildEvaluation.Items(trials, "PackageReference"));
        Assert.Empty(MsBuildEvaluation.Items(trials, "ProjectReference"));
    }

    [Theory]
    [InlineData("Sweeps")]
    [InlineData("Grains")]
    public void Sweeps_and_grains_restore_no_TorchSharp_and_not_the_trainer_even_transitively(string project)
    {
        var libraries = RestoredLibraries(project);

        Assert.NotEmpty(libraries);
        Assert.DoesNotContain(libraries, l => l.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) || l.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(libraries, l => l.StartsWith("Orchestrator.Trainer/", StringComparison.Ordinal));
    }

    private static List<string> RestoredLibraries(string project)
    {
        var assets = Path.Combine(RepositoryRoot.Path, "artifacts", "obj", project, "project.assets.json");
        Assert.True(File.Exists(assets), $"{assets} is missing: restore the solution first");
        using var json = JsonDocument.Parse(File.ReadAllText(assets));
        return json.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name).ToList();
    }

    [Fact]
    public void Nothing_that_the_trainer_restores_transitively_is_an_Orleans_package()
    {
        var libraries = RestoredLibraries("Trainer");

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
