using Orchestrator.Models.Pretrained;

namespace Orchestrator.Models.Tests;

/// <summary>minilm-l6 pulled once into a fresh cache folder, shared by the tests that only read it.</summary>
public sealed class PulledMiniLm : IDisposable
{
    public string CacheRoot { get; } = Path.Combine(Path.GetTempPath(), $"models-tests-{Guid.NewGuid():N}");

    public PulledModel Pulled { get; }

    public PulledMiniLm() => Pulled = ModelPuller.Pull(PretrainedModels.MiniLmL6, CacheRoot);

    public void Dispose()
    {
        if (Directory.Exists(CacheRoot)) Directory.Delete(CacheRoot, recursive: true);
    }
}
