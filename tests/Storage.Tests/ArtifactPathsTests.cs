namespace Orchestrator.Storage.Tests;

public sealed class ArtifactPathsTests
{
    [Fact]
    public void The_layout_matches_the_architecture_contract()
    {
        Assert.Equal("sweeps/mnist-rank/spec.yaml", ArtifactPaths.Spec("mnist-rank"));
        Assert.Equal("sweeps/mnist-rank/manifest.json", ArtifactPaths.Manifest("mnist-rank"));
        Assert.Equal("sweeps/mnist-rank/leaderboard.json", ArtifactPaths.Leaderboard("mnist-rank"));
        Assert.Equal("sweeps/mnist-rank/trials/3f2a9c/result.json", ArtifactPaths.TrialResult("mnist-rank", "3f2a9c"));
        Assert.Equal("sweeps/mnist-rank/trials/3f2a9c/adapter/", ArtifactPaths.TrialAdapter("mnist-rank", "3f2a9c"));
        Assert.Equal("sweeps/mnist-rank/trials/3f2a9c/checkpoints/", ArtifactPaths.TrialCheckpoints("mnist-rank", "3f2a9c"));
        Assert.Equal("sweeps/mnist-rank/trials/3f2a9c/checkpoints/step-100.pt", ArtifactPaths.TrialCheckpoint("mnist-rank", "3f2a9c", "step-100.pt"));
        Assert.Equal("bases/ab12/", ArtifactPaths.Base("ab12"));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("")]
    [InlineData("a\0")]
    [InlineData("a\n")]
    [InlineData("Upper")]
    [InlineData("-leading-dash")]
    [InlineData(".hidden")]
    [InlineData("a..b")]
    [InlineData("with space")]
    public void A_name_that_could_escape_or_is_not_plain_is_rejected(string name)
    {
        Assert.Throws<InvalidArtifactNameException>(() => ArtifactPaths.Spec(name));
        Assert.Throws<InvalidArtifactNameException>(() => ArtifactPaths.TrialResult("ok", name));
        Assert.Throws<InvalidArtifactNameException>(() => ArtifactPaths.Base(name));
        Assert.False(ArtifactPaths.IsValidName(name));
    }

    [Fact]
    public void A_name_longer_than_128_characters_is_rejected()
    {
        Assert.True(ArtifactPaths.IsValidName(new string('a', 128)));
        Assert.Throws<InvalidArtifactNameException>(() => ArtifactPaths.Spec(new string('a', 129)));
    }

    [Fact]
    public void The_exception_message_shows_control_characters_escaped()
    {
        var e = Assert.Throws<InvalidArtifactNameException>(() => ArtifactPath.Object("a\0b"));
        Assert.Contains("a\\u0000b", e.Message);
    }

    [Theory]
    [InlineData("/data/artifacts", typeof(LocalDirectoryArtifactStore))]
    [InlineData("UseDevelopmentStorage=true", typeof(BlobArtifactStore))]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;", typeof(BlobArtifactStore))]
    public void The_factory_picks_the_store_from_the_storage_value(string storage, Type expected)
    {
        var local = storage.StartsWith('/') ? Path.Combine(Path.GetTempPath(), $"factory-{Guid.NewGuid():N}") : storage;
        try
        {
            Assert.IsType(expected, ArtifactStoreFactory.Create(local, container: null));
        }
        finally
        {
            if (storage.StartsWith('/'))
            {
                Directory.Delete(local, recursive: true);
            }
        }
    }
}
