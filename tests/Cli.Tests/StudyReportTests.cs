using System.Globalization;
using Orchestrator.Client.Reports;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Cli.Tests;

public sealed class StudyReportTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "study-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static TrialRecord Trial(string id, string kind, IReadOnlyDictionary<string, ParameterValue> parameters, TrialState state, double? metric, string name = "test_accuracy", long trainable = 1000, string? error = null) =>
        new("study", id, TrialKinds.Parse(kind), parameters, new Dictionary<string, ParameterValue>(), state, 1, null, 50, 100,
            metric is null ? new Dictionary<string, double>() : new Dictionary<string, double> { [name] = metric.Value },
            error, trainable, 55_050, 1.5, null);

    private static Dictionary<string, ParameterValue> P(int rank, int seed, string targets = "l1,l2,l3") => new()
    {
        ["rank"] = ParameterValue.Of(rank),
        ["seed"] = ParameterValue.Of(seed),
        ["target_modules"] = ParameterValue.List(targets.Split(',').Select(ParameterValue.Of)),
    };

    private static Dictionary<string, ParameterValue> Seed(int seed) => new() { ["seed"] = ParameterValue.Of(seed) };

    private static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), path);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000);
        Assert.Equal(PngSignature, bytes[..8]);
    }

    [Fact]
    public void Rank_study_writes_markdown_with_every_trial_and_a_png_of_metric_vs_rank()
    {
        var spec = new SweepSpecView("name: mnist-rank\n", "mnist-rank.yaml", "mlp", "mnist", "test_accuracy", Maximize: true);
        var trials = new List<TrialRecord>();
        foreach (var rank in new[] { 1, 2, 4, 8 })
            foreach (var seed in new[] { 0, 1 })
                trials.Add(Trial($"lora-r{rank}-s{seed}", "lora", P(rank, seed), TrialState.Succeeded, 0.7 + rank * 0.01 + seed * 0.001, trainable: rank * 1000));
        trials.Add(Trial("lora-pruned", "lora", P(2, 2), TrialState.Pruned, 0.5));
        trials.Add(Trial("lora-failed", "lora", P(4, 2), TrialState.Failed, null, error: "out of memory\n   at Somewhere"));
        trials.Add(Trial("lora-other-targets", "lora", P(16, 0, "l2"), TrialState.Succeeded, 0.75));
        trials.Add(Trial("full-0", "full", Seed(0), TrialState.Succeeded, 0.81, trainable: 55_050));
        trials.Add(Trial("base-0", "base", Seed(0), TrialState.Succeeded, 0.70, trainable: 0));

        var files = StudyReport.Write(_dir, spec, trials);

        Assert.Equal(Path.Combine(_dir, "report.md"), files.Markdown);
        var markdown = File.ReadAllText(files.Markdown);
        foreach (var trial in trials) Assert.Contains(trial.TrialId, markdown);
        Assert.Contains("**pruned**", markdown);
        Assert.Contains("Failed trials (not plotted)", markdown);
        Assert.Contains("out of memory", markdown);
        Assert.Contains("full fine-tuning", markdown);
        Assert.Contains("(metric-vs-rank.png)", markdown);
        var plot = Assert.Single(files.Plots);
        Assert.Equal(Path.Combine(_dir, StudyReport.RankPlotFile), plot);
        AssertPng(plot);
    }

    [Fact]
    public void The_trials_table_orders_ranks_and_seeds_as_numbers()
    {
        var spec = new SweepSpecView("name: order\n", "order.yaml", "mlp", "mnist", "test_accuracy", Maximize: true);
        var trials = new[] { (16, 10), (2, 10), (16, 2), (2, 2), (64, 0) }
            .Select(p => Trial($"r{p.Item1}-s{p.Item2}", "lora", P(p.Item1, p.Item2), TrialState.Succeeded, 0.8)).ToList();

        var markdown = File.ReadAllText(StudyReport.Write(_dir, spec, trials).Markdown);

        var rows = markdown[markdown.IndexOf("## Trials", StringComparison.Ordinal)..].Split('\n')
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal)).Select(l => l.Split('`')[1]).ToList();
        Assert.Equal(["r2-s2", "r2-s10", "r16-s2", "r16-s10", "r64-s0"], rows);
    }

    [Fact]
    public void Target_module_study_at_one_rank_writes_a_bar_chart()
    {
        var spec = new SweepSpecView("name: targets\n", "targets.yaml", "transformer-block", "synthetic-regression", "test_mse", Maximize: false);
        var sets = new[] { ("q_proj,v_proj", 8_192L), ("q_proj,k_proj,v_proj,o_proj", 16_384L) };
        var trials = sets.SelectMany((s, i) => new[] { 0, 1 }.Select(seed =>
            Trial($"t{i}-{seed}", "lora", P(8, seed, s.Item1), TrialState.Succeeded, 0.3 - i * 0.05, "test_mse", s.Item2))).ToList();

        var files = StudyReport.Write(_dir, spec, trials);

        var plot = Assert.Single(files.Plots);
        Assert.EndsWith("target-modules-r8.png", plot);
        AssertPng(plot);
        var markdown = File.ReadAllText(files.Markdown);
        Assert.Contains("16,384", markdown);
        foreach (var trial in trials) Assert.Contains(trial.TrialId, markdown);
    }

    [Fact]
    public void A_single_point_and_only_failures_still_give_a_report()
    {
        var spec = new SweepSpecView("", "one.yaml", "mlp", "mnist", "test_accuracy", Maximize: true);
        var trials = new[]
        {
            Trial("only", "lora", P(4, 0), TrialState.Succeeded, 0.8),
            Trial("broken", "lora", P(8, 0), TrialState.Failed, null, error: "boom"),
            Trial("waiting", "lora", P(16, 0), TrialState.Queued, null),
        };
        var files = StudyReport.Write(_dir, spec, trials);
        AssertPng(Assert.Single(files.Plots));
        var markdown = File.ReadAllText(files.Markdown);
        Assert.Contains("# Study report: one", markdown);
        Assert.Contains("broken", markdown);
        Assert.Contains("waiting", markdown);

        var empty = StudyReport.Write(Path.Combine(_dir, "empty"), spec, [Trial("x", "lora", P(4, 0), TrialState.Failed, null, error: "boom")]);
        Assert.True(File.Exists(empty.Markdown));
    }

    [Fact]
    public void A_variant_study_reports_each_configuration_with_its_mean_and_spread_over_seeds_best_first()
    {
        var spec = new SweepSpecView("name: variants\n", "variants.yaml", "minilm-l6", "imdb", "test_accuracy", Maximize: true);
        Dictionary<string, ParameterValue> V(bool dora, int rank, int seed) => new(P(rank, seed, "query,value")) { ["use_dora"] = ParameterValue.Of(dora) };
        var trials = new List<TrialRecord>
        {
            Trial("lora-r2-s0", "lora", V(false, 2, 0), TrialState.Succeeded, 0.70),
            Trial("lora-r2-s1", "lora", V(false, 2, 1), TrialState.Succeeded, 0.74),
            Trial("dora-r2-s0", "lora", V(true, 2, 0), TrialState.Succeeded, 0.80),
            Trial("dora-r2-s1", "lora", V(true, 2, 1), TrialState.Succeeded, 0.78),
            Trial("dora-r2-s2", "lora", V(true, 2, 2), TrialState.Failed, null),
            Trial("full-0", "full", Seed(0), TrialState.Succeeded, 0.85, trainable: 22_000_000),
        };

        var section = StudyReport.ConfigurationSection(spec, trials)!;

        Assert.Contains("## Configurations across seeds (highest mean test_accuracy first)", section);
        var rows = section.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| configuration", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rows.Count);
        Assert.StartsWith("| – | full | 1 | 0.85 | – |", rows[0]);
        Assert.StartsWith("| rank=2, target_modules=[query,value], use_dora=true | lora | 2 | 0.79 | 0.0141 | 0.78 | 0.8 |", rows[1]);
        Assert.StartsWith("| rank=2, target_modules=[query,value], use_dora=false | lora | 2 | 0.72 | 0.0283 | 0.7 | 0.74 |", rows[2]);
        Assert.Contains(section, File.ReadAllText(StudyReport.Write(_dir, spec, trials).Markdown));
    }

    [Fact]
    public void A_variant_study_draws_a_line_per_variant_named_as_the_papers_do_and_a_bar_chart_per_rank_with_the_spread()
    {
        var spec = new SweepSpecView("name: variants\n", "variants.yaml", "minilm-l6", "imdb", "test_accuracy", Maximize: true);
        Dictionary<string, ParameterValue> V(bool dora, string init, int ratio, int rank, int seed) => new(P(rank, seed, "query,value"))
        {
            ["use_dora"] = ParameterValue.Of(dora),
            ["init"] = ParameterValue.Of(init),
            ["loraplus_lr_ratio"] = ParameterValue.Of(ratio),
        };
        var variants = new[] { (false, "kaiming", 0), (true, "kaiming", 0), (false, "pissa", 0), (false, "kaiming", 16), (true, "pissa", 16) };
        var trials = (from v in variants.Select((v, i) => (v, i))
                      from rank in new[] { 2, 8 }
                      from seed in new[] { 0, 1 }
                      select Trial($"v{v.i}-r{rank}-s{seed}", "lora", V(v.v.Item1, v.v.Item2, v.v.Item3, rank, seed), TrialState.Succeeded,
                          0.7 + v.i * 0.01 + seed * 0.02, trainable: rank * 1000 + (v.v.Item1 ? 500 : 0))).ToList();
        trials.Add(Trial("full-0", "full", Seed(0), TrialState.Succeeded, 0.85, trainable: 22_000_000));

        var files = StudyReport.Write(_dir, spec, trials);

        Assert.Equal(["metric-vs-rank.png", "lora-variants-r2.png", "lora-variants-r8.png"], files.Plots.Select(Path.GetFileName));
        foreach (var plot in files.Plots) AssertPng(plot);
        var markdown = File.ReadAllText(files.Markdown);
        Assert.Contains("| LoRA variant | rank | n | mean test_accuracy | std | min | max | trainable parameters |", markdown);
        Assert.Contains("## LoRA variant at rank 8", markdown);
        // Each variant by its name, with its mean, sample std and per-seed values at the rank: 0.7 + i·0.01 + {0, 0.02}.
        Assert.Contains("| LoRA | 2,000 | 2 | 0.71 | 0.0141 | 0.7, 0.72 |", markdown);
        Assert.Contains("| DoRA | 8,500 | 2 | 0.72 | 0.0141 | 0.71, 0.73 |", markdown);
        Assert.Contains("| PiSSA | 2,000 | 2 | 0.73 | 0.0141 | 0.72, 0.74 |", markdown);
        Assert.Contains("| LoRA+ 16 | 8,000 | 2 | 0.74 | 0.0141 | 0.73, 0.75 |", markdown);
        Assert.Contains("| DoRA + PiSSA + LoRA+ 16 | 2,500 | 2 | 0.75 | 0.0141 | 0.74, 0.76 |", markdown);
    }

    [Fact]
    public void A_rank_study_has_no_configuration_section_its_rank_table_says_it_all()
    {
        var spec = new SweepSpecView("name: ranks\n", "ranks.yaml", "mlp", "mnist", "test_accuracy", Maximize: true);
        var trials = new[] { 1, 2 }.SelectMany(rank => new[] { 0, 1 }.Select(seed => Trial($"r{rank}-s{seed}", "lora", P(rank, seed), TrialState.Succeeded, 0.8))).ToList();
        Assert.Null(StudyReport.ConfigurationSection(spec, trials));
    }
}
