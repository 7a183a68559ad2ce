namespace Orchestrator.Storage;

/// <summary>Folder upload and download, written once on top of the object operations both stores share.</summary>
internal static class DirectoryTransfer
{
    public static async Task<IReadOnlyDictionary<string, string>> UploadAsync(
        IArtifactStore store, string localDir, string prefix, CancellationToken ct)
    {
        var folder = ArtifactPath.Folder(prefix);
        var root = Path.GetFullPath(localDir);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"'{root}' does not exist.");
        }

        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.ReparsePoint, // symbolic links could point anywhere
            IgnoreInaccessible = false,
        });
        var written = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            var path = ArtifactPath.Object(folder + relative);
            await using var content = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
            written[path] = await store.WriteAsync(path, content, ct);
        }

        return written;
    }

    public static async Task DownloadAsync(IArtifactStore store, string prefix, string localDir, CancellationToken ct)
    {
        var folder = ArtifactPath.Folder(prefix);
        var root = Path.GetFullPath(localDir);
        Directory.CreateDirectory(root);
        await foreach (var item in store.ListAsync(folder, ct))
        {
            // The stored name is checked again: a store filled by someone else must not steer writes out of root.
            var relative = ArtifactPath.Object(item.Path[folder.Length..]);
            var destination = ArtifactPath.UnderFolder(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            await using var content = await store.OpenReadAsync(item.Path, item.Sha256, ct);
            var temp = destination + $".{Guid.NewGuid():N}.partial";
            try
            {
                await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
                {
                    await content.CopyToAsync(file, ct);
                }

                File.Move(temp, destination, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }
        }
    }
}
