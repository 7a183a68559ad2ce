using System.Collections.Concurrent;
using System.Text;
using Orchestrator.Grains.Journal;

namespace Orchestrator.Silo.Persistence;

/// <summary>
/// Embedded mode's journal: one JSON-lines file per stream under the data directory. An append writes whole
/// lines and flushes them to the operating system, so a killed process loses nothing it acknowledged; a line
/// torn by a power cut is ignored on read. One process owns a data directory (the silo takes a lock file).
/// </summary>
public sealed class FileEventJournal(string root) : IEventJournal, IDisposable
{
    private readonly ConcurrentDictionary<string, FileStream> _open = new(StringComparer.Ordinal);

    public string Root { get; } = Path.GetFullPath(root);

    public async Task AppendAsync(string stream, IReadOnlyList<string> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0) return;
        var builder = new StringBuilder();
        foreach (var e in events)
        {
            if (e.Contains('\n')) throw new ArgumentException("journal records are single-line JSON", nameof(events));
            builder.Append(e).Append('\n');
        }
        var bytes = Encoding.UTF8.GetBytes(builder.ToString());
        var file = _open.GetOrAdd(stream, Open);
        await file.WriteAsync(bytes, cancellationToken);
        await file.FlushAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ReadAllAsync(string stream, CancellationToken cancellationToken = default)
    {
        var path = PathOf(stream);
        if (!File.Exists(path)) return [];
        var text = await File.ReadAllTextAsync(path, cancellationToken);
        var lastNewline = text.LastIndexOf('\n');
        if (lastNewline < text.Length - 1)
        {
            // A torn last record: drop it, and cut it from the file so later appends start on a fresh line.
            text = lastNewline < 0 ? "" : text[..(lastNewline + 1)];
            if (_open.TryRemove(stream, out var stale)) await stale.DisposeAsync();
            await File.WriteAllTextAsync(path, text, cancellationToken);
        }
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private FileStream Open(string stream)
    {
        var path = PathOf(stream);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous);
    }

    private string PathOf(string stream)
    {
        var path = Path.GetFullPath(Path.Combine(Root, stream + ".jsonl"));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"journal stream '{stream}' escapes {Root}");
        return path;
    }

    public void Dispose()
    {
        foreach (var file in _open.Values) file.Dispose();
        _open.Clear();
    }
}
