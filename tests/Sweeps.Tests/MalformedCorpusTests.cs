using System.Text;

namespace Orchestrator.Sweeps.Tests;

/// <summary>Every file under Corpus/malformed starts with "# expect: fragment"; each must fail with that fragment, at a real position.</summary>
public class MalformedCorpusTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(RepositoryPaths.MalformedCorpus, "*.yaml").Order()) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void The_corpus_holds_at_least_100_files() => Assert.True(Files().Count >= 100, $"{Files().Count} files");

    [Theory]
    [MemberData(nameof(Files))]
    public void Malformed_file_fails_with_its_expected_message(string file)
    {
        var path = Path.Combine(RepositoryPaths.MalformedCorpus, file);
        var firstLine = File.ReadLines(path).First();
        Assert.StartsWith("# expect: ", firstLine);
        var expected = firstLine["# expect: ".Length..];

        var e = Assert.Throws<SweepValidationException>(() => SweepFile.Load(path));
        AssertWellFormed(e, path);
        Assert.True(e.Problems.Any(p => p.Message.Contains(expected, StringComparison.OrdinalIgnoreCase)),
            $"expected a problem containing '{expected}', got:\n{e.Message}");
    }

    [Fact]
    public void A_generated_10_MB_file_is_rejected_without_reading_it()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sweep-10mb-{Guid.NewGuid():N}.yaml");
        try
        {
            using (var w = new StreamWriter(path, false, new UTF8Encoding(false)))
            {
                w.WriteLine("name: big");
                w.WriteLine("parameters:");
                for (int i = 0; w.BaseStream.Length < 10 << 20; i++) w.WriteLine($"  p{i}: {{ values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }}");
            }
            var e = Assert.Throws<SweepValidationException>(() => SweepFile.Load(path));
            AssertWellFormed(e, path);
            Assert.Contains("at most 1048576 bytes", e.Message);

            var text = File.ReadAllText(path);
            var parsed = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(text, "big.yaml"));
            Assert.Contains("larger than", parsed.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_file_with_too_many_nodes_under_1_MB_is_rejected()
    {
        var text = "name: many\ndescription: [" + string.Join(",", Enumerable.Repeat("1", 200_000)) + "]\n";
        var e = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(text, "many.yaml"));
        Assert.Contains("more than 100000 YAML nodes", e.Message);
    }

    [Fact]
    public void Deep_nesting_is_rejected_before_it_can_exhaust_the_stack()
    {
        var text = "name: deep\ndescription: " + new string('[', 100_000) + new string(']', 100_000) + "\n";
        var e = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(text, "deep.yaml"));
        AssertWellFormed(e, "deep.yaml");
    }

    internal static void AssertWellFormed(SweepValidationException e, string file)
    {
        Assert.NotEmpty(e.Problems);
        foreach (var p in e.Problems)
        {
            Assert.Equal(file, p.File);
            Assert.True(p.Line >= 1 && p.Column >= 1, p.ToString());
            Assert.False(string.IsNullOrWhiteSpace(p.Message));
            Assert.DoesNotContain("   at ", p.Message);
        }
    }
}
