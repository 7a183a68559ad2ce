namespace Orchestrator.Storage;

/// <summary>The one place that turns a <c>--storage</c> value into a store.</summary>
public static class ArtifactStoreFactory
{
    public const string DefaultContainer = "artifacts";

    /// <summary>
    /// An Azure Storage connection string (it contains <c>AccountName=</c>, <c>BlobEndpoint=</c> or
    /// <c>UseDevelopmentStorage=true</c>) gives a <see cref="BlobArtifactStore"/> on <paramref name="container"/>
    /// (default <see cref="DefaultContainer"/>); anything else is a folder for a <see cref="LocalDirectoryArtifactStore"/>.
    /// </summary>
    public static IArtifactStore Create(string storage, string? container = null, StorageResilience? resilience = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storage);
        return IsConnectionString(storage)
            ? new BlobArtifactStore(storage, string.IsNullOrWhiteSpace(container) ? DefaultContainer : container, resilience)
            : new LocalDirectoryArtifactStore(storage);
    }

    public static bool IsConnectionString(string storage) =>
        storage.Contains("AccountName=", StringComparison.OrdinalIgnoreCase)
        || storage.Contains("BlobEndpoint=", StringComparison.OrdinalIgnoreCase)
        || storage.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Why <paramref name="storage"/> cannot make a store (a malformed connection string), or null. The message never
    /// repeats the value: connection strings carry account keys.
    /// </summary>
    public static string? Problem(string storage)
    {
        if (string.IsNullOrWhiteSpace(storage))
        {
            return "--storage is empty: give a directory or an Azure Storage connection string";
        }

        if (!IsConnectionString(storage))
        {
            return null;
        }

        try
        {
            _ = new Azure.Storage.Blobs.BlobContainerClient(storage, DefaultContainer);
            return null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            return $"--storage is not a valid Azure Storage connection string ({e.Message.Split('\n')[0].TrimEnd('.')}). "
                + "Use 'DefaultEndpointsProtocol=https;AccountName=NAME;AccountKey=KEY;EndpointSuffix=core.windows.net', "
                + "'BlobEndpoint=URL;SharedAccessSignature=SAS', 'UseDevelopmentStorage=true', or a directory";
        }
    }
}
