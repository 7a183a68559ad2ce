using Orchestrator.Trainer.Safetensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.HuggingFace;

/// <summary>
/// The tensors of a Hugging Face folder, <c>model.safetensors</c> or the shards its
/// <c>model.safetensors.index.json</c> names, opened by their headers only: names and shapes are known at once, and
/// each tensor is read from its file when asked for, so a model loads tensor by tensor without the whole checkpoint in
/// memory.
/// </summary>
public sealed class CheckpointTensors : IDisposable
{
    private readonly Dictionary<string, (FileStream Stream, SafetensorsHeader Header, SafetensorsTensorInfo Info)> _tensors;
    private readonly List<FileStream> _streams;

    private CheckpointTensors(string source, Dictionary<string, (FileStream, SafetensorsHeader, SafetensorsTensorInfo)> tensors, List<FileStream> streams)
    {
        Source = source;
        _tensors = tensors;
        _streams = streams;
    }

    /// <summary>The file (or shard index) the tensors come from, for errors.</summary>
    public string Source { get; }

    /// <summary>Every tensor name the checkpoint holds.</summary>
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>A tensor's shape as its header says.</summary>
    public long[] ShapeOf(string name) => _tensors[name].Info.Shape;

    /// <summary>Reads one tensor (CPU, the file's dtype); the caller owns it.</summary>
    public Tensor Read(string name)
    {
        var (stream, header, info) = _tensors[name];
        return SafetensorsFile.ReadTensor(stream, header, info);
    }

    /// <summary>Every tensor at once (the caller owns them): for models that map names before they copy.</summary>
    public Dictionary<string, Tensor> ReadAll()
    {
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in _tensors.Keys) all.Add(name, Read(name));
        }
        catch
        {
            foreach (var tensor in all.Values) tensor.Dispose();
            throw;
        }
        return all;
    }

    /// <summary>Opens the folder's single file, or every shard its index names (checked: each shard present, each mapped tensor held).</summary>
    public static CheckpointTensors Open(string folder, string weightsFileName, string shardIndexFileName)
    {
        var streams = new List<FileStream>();
        var tensors = new Dictionary<string, (FileStream, SafetensorsHeader, SafetensorsTensorInfo)>(StringComparer.Ordinal);
        try
        {
            var single = Path.Combine(folder, weightsFileName);
            if (File.Exists(single))
            {
                var stream = SafetensorsFile.OpenRead(single);
                streams.Add(stream);
                var header = SafetensorsFile.ReadHeader(stream, single);
                foreach (var info in header.Tensors) tensors[info.Name] = (stream, header, info);
                return new CheckpointTensors(single, tensors, streams);
            }
            var index = Path.Combine(folder, shardIndexFileName);
            if (!File.Exists(index))
                throw new FileNotFoundException($"Folder '{folder}' has neither {weightsFileName} nor {shardIndexFileName}.", single);
            var shards = ShardIndex.Read(index);
            foreach (var shard in shards.Files)
            {
                var path = Path.Combine(folder, shard);
                if (!File.Exists(path)) throw new FileNotFoundException($"{index} names shard '{shard}', which is not in '{folder}'.", path);
                var stream = SafetensorsFile.OpenRead(path);
                streams.Add(stream);
                var header = SafetensorsFile.ReadHeader(stream, path);
                // Only the tensors the index gives to this shard, each once.
                foreach (var info in header.Tensors)
                    if (shards.WeightMap.TryGetValue(info.Name, out var owner) && owner == shard) tensors.TryAdd(info.Name, (stream, header, info));
            }
            var absent = shards.WeightMap.Keys.Where(name => !tensors.ContainsKey(name)).Order(StringComparer.Ordinal).ToList();
            if (absent.Count > 0)
                throw new InvalidDataException($"{index} maps tensors its shards do not hold: {string.Join(", ", absent.Take(10))}{(absent.Count > 10 ? ", …" : "")}.");
            return new CheckpointTensors(index, tensors, streams);
        }
        catch
        {
            foreach (var stream in streams) stream.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var stream in _streams) stream.Dispose();
    }
}
