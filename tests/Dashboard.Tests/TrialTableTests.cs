using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Dashboard.Api;

namespace Orchestrator.Dashboard.Tests;

/// <summary>The table's query and the plots' data, without a browser.</summary>
public sealed class TrialTableTests
{
    private static readonly MetricObjective Accuracy = new("test_accuracy", true);

    private static TrialRecord Trial(string id, int rank, double? accuracy, TrialState state = TrialState.Succeeded, TrialKind kind = TrialKind.Lora) =>
        new("s", id, kind, kind == TrialKind.Lora ? new Dictionary<string, ParameterValue> { ["rank"] = ParameterValue.Of(rank) } : new Dictionary<string, ParameterValue>(),
            new Dictionary<string, ParameterValue>(), state, 1, null, 10, 10,
            accuracy is { } a ? new Dictionary<string, double> { ["test_accuracy"] = a } : new Dictionary<string, double>(), null, 0, 0, 0, null);

    private static readonly TrialRecord[] Trials =
    [
        Trial("t1", 8, 0.8), Trial("t2", 2, 0.7), Trial("t3", 16, null, TrialState.Running), Trial("t4", 4, 0.75), Trial("t5", 0, 0.9, kind: TrialKind.Full),
    ];

    [Fact]
    public void Sorting_by_a_number_orders_numerically_and_puts_trials_without_the_field_last_both_ways()
    {
        Assert.Equal(["t2", "t4", "t1", "t3", "t5"], TrialTable.Query(Trials, Accuracy, null, "rank", false, 0, 50).Rows.Select(r => r.Id));
        Assert.Equal(["t3", "t1", "t4", "t2", "t5"], TrialTable.Query(Trials, Accuracy, null, "rank", true, 0, 50).Rows.Select(r => r.Id));
        Assert.Equal(["t5", "t1", "t4", "t2", "t3"], TrialTable.Query(Trials, Accuracy, null, "score", true, 0, 50).Rows.Select(r => r.Id));
    }

    [Fact]
    public void The_filter_is_the_leaderboard_where_language_with_state_and_pages_count_what_matched()
    {
        var page = TrialTable.Query(Trials, Accuracy, "rank>=4 and state=succeeded", "rank", false, 1, 1);
        Assert.Equal((5, 2, 1), (page.Total, page.Matched, page.Offset));
        Assert.Equal(["t1"], page.Rows.Select(r => r.Id));
        Assert.Contains("unknown field 'rnk'", Assert.Throws<FilterSyntaxException>(() => TrialTable.Query(Trials, Accuracy, "rnk>=4", null, false, 0, 50)).Message);
    }

    [Fact]
    public void A_row_carries_the_pack_of_its_trials_attempt_as_trials_json_does_and_null_for_a_trial_alone()
    {
        var row = TrialTable.Row(Trial("t1", 8, 0.8) with { Pack = "p4c0ffee" }, 0.8);
        Assert.Equal(("t1", "p4c0ffee", "succeeded"), (row.Id, row.Pack, row.State));
        Assert.Null(TrialTable.Row(Trial("t2", 2, 0.7), 0.7).Pack);
        Assert.Contains("\"pack\":\"p4c0ffee\"", System.Text.Json.JsonSerializer.Serialize(row, DashboardJson.Options));
    }

    [Fact]
    public void The_rank_plot_separates_lora_points_from_the_full_fine_tuning_and_frozen_base_lines()
    {
        var analysis = SweepAnalyzer.Analyze([.. Trials, Trial("t6", 0, 0.6, kind: TrialKind.Base)], Accuracy);
        Assert.Equal(["t1", "t2", "t4"], analysis.Lora.Select(p => p.Id).Order());
        Assert.Equal(["t5"], analysis.FullFineTuning.Select(p => p.Id));
        Assert.Equal(["t6"], analysis.FrozenBase.Select(p => p.Id));
        Assert.Equal(["rank"], analysis.Dimensions);
    }
}
