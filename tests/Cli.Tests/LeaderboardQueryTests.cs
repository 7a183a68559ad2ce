using Orchestrator.Client.Leaderboards;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Cli.Tests;

public sealed class LeaderboardQueryTests
{
    private static LeaderboardEntry Entry(string id, string kind, int? rank, double? accuracy, double lr = 0.001, bool pruned = false, double loss = 0.5, bool maximize = true, string metric = "test_accuracy")
    {
        var parameters = new Dictionary<string, ParameterValue>
        {
            ["lr"] = ParameterValue.Of(lr),
            ["target_modules"] = ParameterValue.List([ParameterValue.Of("l1"), ParameterValue.Of("l2")]),
        };
        if (rank is not null) parameters["rank"] = ParameterValue.Of(rank.Value);
        var metrics = new Dictionary<string, double> { ["test_loss"] = loss };
        if (accuracy is not null) metrics["test_accuracy"] = accuracy.Value;
        var trial = new TrialRecord("s", id, TrialKinds.Parse(kind), parameters, new Dictionary<string, ParameterValue>(),
            pruned ? TrialState.Pruned : TrialState.Succeeded, 1, null, 100, 100, metrics, null, (rank ?? 100) * 10, 55_050, 1, null);
        return new LeaderboardEntry(trial, new MetricObjective(metric, maximize), DateTimeOffset.UnixEpoch);
    }

    private static readonly IReadOnlyList<LeaderboardEntry> Entries =
    [
        Entry("a", "lora", 4, 0.80, lr: 0.01, loss: 0.40),
        Entry("b", "lora", 8, 0.85, lr: 0.001, loss: 0.35),
        Entry("c", "lora", 16, 0.83, lr: 0.0001, pruned: true, loss: 0.20),
        Entry("d", "full", null, 0.90, loss: 0.30),
        Entry("e", "base", null, null, loss: 0.90),
    ];

    private static string[] Ids(string? where = null, string? by = null, int? top = null) =>
        LeaderboardQuery.Parse(where, by, top).Apply(Entries).Select(r => r.Trial.TrialId).ToArray();

    [Fact]
    public void Maximized_metric_sorts_best_first_pruned_below_every_finished_and_entries_without_it_last() =>
        Assert.Equal(["d", "b", "a", "c", "e"], Ids());

    [Fact]
    public void By_a_loss_metric_sorts_ascending_with_the_pruned_trial_below_the_finished_ones() =>
        Assert.Equal(["d", "b", "a", "e", "c"], Ids(by: "test_loss"));

    [Fact]
    public void Minimized_sweep_metric_sorts_ascending()
    {
        var entries = Entries.Select(e => e with { Objective = new MetricObjective("test_loss", Maximize: false) }).ToList();
        Assert.Equal(["d", "b", "a", "e", "c"], LeaderboardQuery.Parse(null).Apply(entries).Select(r => r.Trial.TrialId));
    }

    [Fact]
    public void Rank_at_least_8_compares_numerically() => Assert.Equal(["b", "c"], Ids("rank>=8"));

    [Fact]
    public void Kind_equals_lora_compares_text() => Assert.Equal(["b", "a", "c"], Ids("kind=lora"));

    [Fact]
    public void Conditions_joined_by_and_all_hold() => Assert.Equal(["b", "c"], Ids("lr<0.01 and rank>=4"));

    [Fact]
    public void Metrics_are_addressable_and_scientific_notation_reads() => Assert.Equal(["d", "b", "c"], Ids("lr <= 1e-3 AND test_accuracy > 0.82"));

    [Fact]
    public void Not_equal_and_quoted_values_work() => Assert.Equal(["d", "e"], Ids("kind != 'lora'"));

    [Fact]
    public void List_parameters_match_with_or_without_brackets()
    {
        Assert.Equal(5, Ids("target_modules=[l1, l2]").Length);
        Assert.Equal(5, Ids("target_modules=l1,l2").Length);
    }

    [Fact]
    public void Pruned_entries_are_flagged_and_filterable()
    {
        var rows = LeaderboardQuery.Parse(null).Apply(Entries);
        Assert.True(rows.Single(r => r.Trial.TrialId == "c").Pruned);
        Assert.Equal(["c"], Ids("pruned=true"));
    }

    [Fact]
    public void Top_keeps_the_best_n_with_ranks_from_one()
    {
        var rows = LeaderboardQuery.Parse(null, top: 2).Apply(Entries);
        Assert.Equal([1, 2], rows.Select(r => r.Position));
        Assert.Equal(["d", "b"], rows.Select(r => r.Trial.TrialId));
    }

    [Theory]
    [InlineData("rank>>8", ">")]
    [InlineData("rank 8", "8")]
    [InlineData("rank>=", "ends")]
    [InlineData("rank>=8 or kind=lora", "'or' is not supported")]
    [InlineData("rank>=8 and", "'and'")]
    [InlineData("rank ! 8", "'!'")]
    [InlineData("kind='lora", "never closed")]
    [InlineData("(rank>=8)", "'('")]
    public void Malformed_filters_name_the_bad_token_and_what_is_allowed(string where, string expected)
    {
        var error = Assert.Throws<FilterSyntaxException>(() => LeaderboardQuery.Parse(where));
        Assert.Contains(expected, error.Message);
        Assert.Contains("= != < <= > >=", error.Message);
    }

    [Fact]
    public void Unknown_field_is_an_error_listing_the_fields()
    {
        var error = Assert.Throws<FilterSyntaxException>(() => LeaderboardQuery.Parse("rnk>=8").Apply(Entries));
        Assert.Contains("'rnk'", error.Message);
        Assert.Contains("rank", error.Message);
    }

    [Fact]
    public void Top_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LeaderboardQuery.Parse(null, top: 0));

    [Theory]
    [InlineData("table", LeaderboardFormat.Table)]
    [InlineData("JSON", LeaderboardFormat.Json)]
    [InlineData("csv", LeaderboardFormat.Csv)]
    public void Formats_parse(string text, LeaderboardFormat format) => Assert.Equal(format, LeaderboardQuery.ParseFormat(text));

    [Fact]
    public void Unknown_format_lists_the_allowed_ones() =>
        Assert.Contains("table, json, csv", Assert.Throws<FormatException>(() => LeaderboardQuery.ParseFormat("xml")).Message);

    [Fact]
    public void Csv_follows_rfc_4180_quoting()
    {
        var csv = LeaderboardQuery.ToCsv(LeaderboardQuery.Parse(null, top: 1).Apply(Entries));
        var lines = csv.Split("\r\n");
        Assert.Equal("position,trial,kind,test_accuracy,test_loss,lr,target_modules,trainable,pruned", lines[0]);
        Assert.Equal("1,d,full,0.9,0.3,0.001,\"[l1,l2]\",1000,", lines[1]);
        Assert.Equal("", lines[^1]);
        Assert.Equal("\"say \"\"hi\"\"\"", LeaderboardQuery.CsvField("say \"hi\""));
        Assert.Equal("\"a\nb\"", LeaderboardQuery.CsvField("a\nb"));
        Assert.Equal("plain", LeaderboardQuery.CsvField("plain"));
    }

    [Fact]
    public void Json_is_a_camel_case_array_best_first_with_typed_parameters_and_a_position()
    {
        using var document = System.Text.Json.JsonDocument.Parse(LeaderboardQuery.ToJson(LeaderboardQuery.Parse(null).Apply(Entries)));
        var first = document.RootElement[0];
        Assert.Equal("d", first.GetProperty("trialId").GetString());
        Assert.Equal(1, first.GetProperty("position").GetInt32());
        Assert.False(first.TryGetProperty("rank", out _)); // `rank` is the LoRA rank, a parameter
        Assert.Equal("full", first.GetProperty("kind").GetString());
        var second = document.RootElement[1].GetProperty("parameters");
        Assert.Equal(System.Text.Json.JsonValueKind.Number, second.GetProperty("rank").ValueKind);
        Assert.Equal(8, second.GetProperty("rank").GetInt32());
        Assert.Equal(0.001, second.GetProperty("lr").GetDouble());
        Assert.Equal(["l1", "l2"], second.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0.9, first.GetProperty("score").GetDouble());
        Assert.True(document.RootElement[3].GetProperty("pruned").GetBoolean()); // below every finished trial
    }
}
