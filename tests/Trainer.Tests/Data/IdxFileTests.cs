using System.IO.Compression;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Tests.Training;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class IdxFileTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static IdxArray Sample() => new([3, 2, 2], Enumerable.Range(0, 12).Select(i => (byte)(i * 20)).ToArray());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_array_written_plain_or_gzipped_reads_back_with_the_same_dimensions_and_bytes(bool gzip)
    {
        var path = _workspace.Sub(gzip ? "a.idx.gz" : "a.idx");
        IdxFile.Write(path, Sample(), gzip);

        var read = IdxFile.Read(path);

        Assert.Equal([3, 2, 2], read.Dimensions);
        Assert.Equal(Sample().Data, read.Data);
    }

    [Fact]
    public void Gzip_is_recognised_by_content_not_by_file_name()
    {
        var path = _workspace.Sub("no-extension");
        IdxFile.Write(path, Sample(), gzip: true);
        Assert.Equal(Sample().Data, IdxFile.Read(path).Data);
    }

    [Fact]
    public void Data_shorter_than_the_dimensions_say_is_rejected_as_truncated_naming_the_file()
    {
        var path = _workspace.Sub("truncated.idx");
        var bytes = Bytes(Sample());
        File.WriteAllBytes(path, bytes[..^3]);

        var error = Assert.Throws<IdxFormatException>(() => IdxFile.Read(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("need 12 bytes", error.Message);
    }

    [Fact]
    public void Bytes_after_the_data_are_rejected()
    {
        var path = _workspace.Sub("long.idx");
        File.WriteAllBytes(path, [.. Bytes(Sample()), 1, 2]);
        var error = Assert.Throws<IdxFormatException>(() => IdxFile.Read(path));
        Assert.Contains("2 unexpected bytes", error.Message);
    }

    [Fact]
    public void A_file_that_does_not_start_with_two_zero_bytes_is_rejected_for_its_magic_number()
    {
        var path = _workspace.Sub("garbage.idx");
        File.WriteAllText(path, "this is not an IDX file at all");
        var error = Assert.Throws<IdxFormatException>(() => IdxFile.Read(path));
        Assert.Contains("magic", error.Message);
        Assert.Equal(path, error.FilePath);
    }

    [Fact]
    public void A_data_type_other_than_unsigned_byte_is_rejected()
    {
        var path = _workspace.Sub("float.idx");
        var bytes = Bytes(Sample());
        bytes[2] = 0x0D;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("0x0D", Assert.Throws<IdxFormatException>(() => IdxFile.Read(path)).Message);
    }

    [Fact]
    public void A_header_cut_inside_the_dimensions_is_rejected()
    {
        var path = _workspace.Sub("header.idx");
        File.WriteAllBytes(path, Bytes(Sample())[..9]);
        Assert.Contains("truncated header", Assert.Throws<IdxFormatException>(() => IdxFile.Read(path)).Message);
    }

    [Fact]
    public void An_empty_file_is_rejected()
    {
        var path = _workspace.Sub("empty.idx");
        File.WriteAllBytes(path, []);
        Assert.Contains("too short", Assert.Throws<IdxFormatException>(() => IdxFile.Read(path)).Message);
    }

    [Fact]
    public void A_cut_gzip_stream_is_rejected_naming_the_file()
    {
        var path = _workspace.Sub("cut.idx.gz");
        IdxFile.Write(path, new IdxArray([4096], Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray()), gzip: true);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<IdxFormatException>(() => IdxFile.Read(path));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_missing_file_is_reported_as_an_idx_format_error_with_its_path()
    {
        var path = _workspace.Sub("absent.idx");
        Assert.Contains("not found", Assert.Throws<IdxFormatException>(() => IdxFile.Read(path)).Message);
    }

    private static byte[] Bytes(IdxArray array)
    {
        using var stream = new MemoryStream();
        var path = Path.GetTempFileName();
        try
        {
            IdxFile.Write(path, array, gzip: false);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
