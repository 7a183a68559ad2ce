using System.Buffers.Binary;
using System.IO.Compression;

namespace Orchestrator.Trainer.Data;

/// <summary>The contents of one IDX file: its dimensions and its unsigned bytes, row-major.</summary>
public sealed record IdxArray(IReadOnlyList<int> Dimensions, byte[] Data)
{
    public long Count => Data.LongLength;
}

/// <summary>
/// Reads and writes LeCun's IDX format (the MNIST files): magic `00 00 08 n`, then n big-endian int32 dimensions,
/// then the bytes. Only dtype 0x08 (unsigned byte) is read, which is what every MNIST file uses. Gzip is detected
/// from the content (1F 8B), not from the file name.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;
    private const int MaxDimensions = 8;

    public static IdxArray Read(string path)
    {
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new IdxFormatException(path, "file not found");
        }

        var bytes = IsGzip(raw) ? Gunzip(path, raw) : raw;
        return Parse(path, bytes);
    }

    /// <summary>Writes <paramref name="array"/> as IDX; gzip-compressed when <paramref name="gzip"/> is set.</summary>
    public static void Write(string path, IdxArray array, bool gzip)
    {
        var expected = array.Dimensions.Aggregate(1L, (a, d) => a * d);
        if (expected != array.Data.LongLength)
            throw new ArgumentException($"dimensions hold {expected} values but {array.Data.LongLength} bytes were given");

        using var file = File.Create(path);
        using Stream target = gzip ? new GZipStream(file, CompressionLevel.Optimal) : file;
        var header = new byte[4 + 4 * array.Dimensions.Count];
        header[2] = UnsignedByte;
        header[3] = (byte)array.Dimensions.Count;
        for (var i = 0; i < array.Dimensions.Count; i++)
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), array.Dimensions[i]);
        target.Write(header);
        target.Write(array.Data);
    }

    private static bool IsGzip(byte[] bytes) => bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;

    private static byte[] Gunzip(string path, byte[] compressed)
    {
        try
        {
            using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException(path, $"corrupt gzip stream ({e.Message})");
        }
        catch (EndOfStreamException)
        {
            throw new IdxFormatException(path, "truncated gzip stream");
        }
    }

    private static IdxArray Parse(string path, byte[] bytes)
    {
        if (bytes.Length < 4)
            throw new IdxFormatException(path, $"too short for an IDX header ({bytes.Length} bytes)");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new IdxFormatException(path, $"bad magic number 0x{bytes[0]:X2}{bytes[1]:X2}{bytes[2]:X2}{bytes[3]:X2} (an IDX file starts with two zero bytes)");
        if (bytes[2] != UnsignedByte)
            throw new IdxFormatException(path, $"unsupported data type 0x{bytes[2]:X2} (only 0x08, unsigned byte, is read)");

        int rank = bytes[3];
        if (rank is 0 or > MaxDimensions)
            throw new IdxFormatException(path, $"implausible number of dimensions {rank}");

        var headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
            throw new IdxFormatException(path, $"truncated header: {rank} dimensions need {headerLength} bytes, the file has {bytes.Length}");

        var dimensions = new int[rank];
        long count = 1;
        for (var i = 0; i < rank; i++)
        {
            var d = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (d <= 0)
                throw new IdxFormatException(path, $"dimension {i} is {d}");
            dimensions[i] = d;
            count *= d;
            if (count > int.MaxValue)
                throw new IdxFormatException(path, "dimensions describe more than 2^31 values");
        }

        var available = bytes.LongLength - headerLength;
        if (available < count)
            throw new IdxFormatException(path, $"truncated: dimensions [{string.Join(", ", dimensions)}] need {count} bytes of data, found {available}");
        if (available > count)
            throw new IdxFormatException(path, $"{available - count} unexpected bytes after the data of [{string.Join(", ", dimensions)}]");

        return new IdxArray(dimensions, bytes.AsSpan(headerLength).ToArray());
    }
}
