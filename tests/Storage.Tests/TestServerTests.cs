using System.Net.Sockets;
using System.Text;
using Azure.Storage.Blobs;
using Orchestrator.TestServers;

namespace Orchestrator.Storage.Tests;

public sealed class TestServerTests
{
    [Fact]
    public async Task Azurite_restarted_on_the_same_port_still_has_the_blob_written_before_the_stop()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var container = new BlobContainerClient(azurite.ConnectionString, "restart");
        await container.CreateAsync();
        await container.GetBlobClient("a.txt").UploadAsync(BinaryData.FromString("kept"));

        await azurite.StopAsync();
        Assert.False(azurite.IsRunning);
        await azurite.RestartAsync();

        var content = await container.GetBlobClient("a.txt").DownloadContentAsync();
        Assert.Equal("kept", content.Value.Content.ToString());
    }

    [Fact]
    public async Task Redis_killed_and_restarted_on_the_same_port_still_has_the_key_from_its_append_only_file()
    {
        await using var redis = await RedisServer.StartAsync();
        Assert.StartsWith("+OK", await SendAsync(redis.Port, "SET k kept"));

        await redis.KillAsync();
        await redis.RestartAsync();

        Assert.Equal("$4\r\nkept\r\n", await SendAsync(redis.Port, "GET k"));
        Assert.Equal($"127.0.0.1:{redis.Port}", redis.Endpoint);
    }

    [Fact]
    public async Task Disposing_a_server_deletes_its_temp_folder_and_frees_its_port()
    {
        var azurite = await AzuriteServer.StartAsync();
        var (root, port) = (azurite.Root, azurite.Port);
        await azurite.DisposeAsync();

        Assert.False(Directory.Exists(root));
        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", port));
    }

    private static async Task<string> SendAsync(int port, string inlineCommand)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(inlineCommand + "\r\n"));
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }
}
