namespace Orchestrator.Sweeps.Tests;

public sealed class PackSettingTests
{
    private static SweepSpec WithPack(string? pack) =>
        SweepFile.Parse(pack is null ? SweepFileTests.Valid : SweepFileTests.Valid.Replace("max_failures: 2", $"max_failures: 2\npack: {pack}"), "demo.yaml");

    [Theory]
    [InlineData(null, "off")]
    [InlineData("off", "off")]
    [InlineData("auto", "auto")]
    [InlineData("8", "8")]
    [InlineData("1", "off")]
    public void Pack_is_auto_off_or_a_size_and_off_when_the_file_does_not_say(string? written, string expected) =>
        Assert.Equal(expected, WithPack(written).Pack.ToString());

    [Theory]
    [InlineData("0", "pack must be auto, off or a pack size from 1 to 16, got 0 (1 trains each trial alone, as off does)")]
    [InlineData("17", "pack must be auto, off or a pack size from 1 to 16, got 17 (1 trains each trial alone, as off does)")]
    [InlineData("always", "pack must be auto, off or a pack size from 1 to 16, got 'always'")]
    public void A_pack_that_is_not_auto_off_or_1_to_16_is_refused_at_its_line_and_column(string written, string message)
    {
        var e = Assert.Throws<SweepValidationException>(() => WithPack(written));
        var problem = Assert.Single(e.Problems);
        Assert.Equal(message, problem.Message);
        Assert.Equal(("demo.yaml", 13, 7), (problem.File, problem.Line, problem.Column));
    }

    [Fact]
    public void Pack_off_keeps_the_canonical_hash_and_trial_ids_of_a_file_without_the_key_and_pack_on_keeps_the_trial_ids()
    {
        var without = WithPack(null);
        Assert.Equal(CanonicalSpec.Of(without).Hash, CanonicalSpec.Of(WithPack("off")).Hash);
        Assert.NotEqual(CanonicalSpec.Of(without).Hash, CanonicalSpec.Of(WithPack("auto")).Hash);
        Assert.Equal(SweepExpander.Expand(without).Select(t => (t.TrialId, t.Config.Seed, t.Config.Rank)),
            SweepExpander.Expand(WithPack("auto")).Select(t => (t.TrialId, t.Config.Seed, t.Config.Rank)));
    }
}

public sealed class PackSettingParseTests
{
    [Theory]
    [InlineData(null, "off")]
    [InlineData("off", "off")]
    [InlineData("auto", "auto")]
    [InlineData("1", "off")]
    [InlineData("4", "4")]
    [InlineData("16", "16")]
    public void Parse_reads_what_ToString_writes(string? text, string expected) =>
        Assert.Equal(expected, Orchestrator.Sweeps.PackSetting.Parse(text).ToString());

    [Theory]
    [InlineData("17")]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("many")]
    public void Parse_refuses_what_ToString_never_writes(string text) =>
        Assert.Throws<FormatException>(() => Orchestrator.Sweeps.PackSetting.Parse(text));
}

public sealed class PackOnEncodersTests
{
    [Fact]
    public void Pack_on_a_pretrained_encoder_is_kept_and_the_file_is_told_it_trains_every_trial_alone()
    {
        const string yaml = """
            name: encoder-pack
            seed: 3
            task: { model: minilm-l6, dataset: imdb }
            metric: { name: test_accuracy, goal: maximize }
            pack: auto
            parameters:
              rank: { values: [4, 8] }
            """;
        var spec = SweepFile.Parse(yaml, "enc.yaml", out var warnings);
        Assert.Equal("auto", spec.Pack.ToString());
        var warning = Assert.Single(warnings);
        Assert.Contains("no effect on model 'minilm-l6'", warning.ToString());
        Assert.Contains("enc.yaml:5:", warning.ToString());
    }

    [Fact]
    public void Pack_on_a_built_in_model_warns_of_nothing()
    {
        const string yaml = """
            name: mlp-pack
            seed: 3
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            pack: 4
            parameters:
              rank: { values: [4, 8] }
            """;
        SweepFile.Parse(yaml, "mlp.yaml", out var warnings);
        Assert.Empty(warnings);
    }
}
