using System.Text.Json;

namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>
/// `pack` through the real binary: the embedded silo's slots lease packs, each member's result records its pack, `trials`
/// shows it, the metrics agree with the same sweep trained alone within the documented tolerance, and `reproduce`
/// re-forms the packs and finds every trial identical.
/// </summary>
public sealed class PackedRunTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("orchestrator-pack-").FullName;

    private static string Sweep(string name, string pack) => $$"""
        name: {{name}}
        seed: 7
        task:
          model: mlp
          dataset: mnist
          base: { pretrain: { epochs: 1, lr: 2.0e-4, batch_size: 128 } }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        parallel: 2
        pack: {{pack}}
        baselines: [full]
        parameters:
          rank: { values: [1, 2, 4, 8] }
          alpha: { per_rank: 1 }
          target_modules: { value: [l1, l2, l3] }
          lr: { value: 1.0e-3 }
          dropout: { value: 0.1 }
          batch_size: { value: 128 }
          max_steps: { value: 40 }
          seed: { values: [0, 1] }
        """;

    private const string Name = "packed";

    /// <summary>The sweep with this `pack` in its own data dir (same name: the same trial ids).</summary>
    private async Task<(string DataDir, Dictionary<string, JsonElement> Trials)> RunAsync(string pack)
    {
        var dataDir = Path.Combine(_work, pack);
        Directory.CreateDirectory(dataDir);
        var file = Path.Combine(dataDir, Name + ".yaml");
        await File.WriteAllTextAsync(file, Sweep(Name, pack));
        var run = await CliProcess.RunAsync(["run", file, "--data-dir", dataDir, "--report", Path.Combine(dataDir, "report")], _work, TimeSpan.FromMinutes(4));
        Assert.True(run.ExitCode == 0, run.ToString());
        var trials = await CliProcess.RunAsync(["trials", Name, "--data-dir", dataDir, "--json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(trials.ExitCode == 0, trials.ToString());
        return (dataDir, JsonDocument.Parse(trials.Stdout).RootElement.EnumerateArray().ToDictionary(t => t.GetProperty("trialId").GetString()!, t => t.Clone()));
    }

    [Fact]
    public async Task A_packed_sweep_records_each_members_pack_matches_the_sweep_alone_within_tolerance_and_reproduces_bit_for_bit()
    {
        var (dataDir, packed) = await RunAsync("4");
        var (_, alone) = await RunAsync("off");

        Assert.Equal(10, packed.Count);
        foreach (var (id, trial) in packed)
        {
            Assert.Equal("succeeded", trial.GetProperty("state").GetString(), ignoreCase: true);
            var kind = trial.GetProperty("kind").GetString();
            var pack = trial.GetProperty("pack");
            using var result = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dataDir, "artifacts", "sweeps", "packed", "trials", id, "result.json")));
            if (kind == "full")
            {
                Assert.Equal(JsonValueKind.Null, pack.ValueKind); // full fine-tuning never packs
                Assert.False(result.RootElement.TryGetProperty("pack", out _));
                continue;
            }
            Assert.Equal(JsonValueKind.String, pack.ValueKind);
            var members = result.RootElement.GetProperty("pack").GetProperty("members").EnumerateArray().Select(m => m.GetString()).ToList();
            Assert.Contains(id, members);
            Assert.InRange(members.Count, 2, 4);
        }

        // Trial ids do not depend on `pack`: the same trial, packed and alone.
        foreach (var (id, trial) in packed)
        {
            var a = alone[id].GetProperty("metrics").GetProperty("test_accuracy").GetDouble();
            var p = trial.GetProperty("metrics").GetProperty("test_accuracy").GetDouble();
            Assert.True(Math.Abs(a - p) <= 5e-4, $"{id}: alone {a}, packed {p}");
            var la = alone[id].GetProperty("metrics").GetProperty("test_loss").GetDouble();
            var lp = trial.GetProperty("metrics").GetProperty("test_loss").GetDouble();
            Assert.True(Math.Abs(la - lp) <= 1e-4 * Math.Max(1, Math.Abs(la)), $"{id}: alone loss {la}, packed {lp}");
        }

        // The report's trial table and the leaderboard say which pack each trial trained in.
        var report = await File.ReadAllTextAsync(Path.Combine(dataDir, "report", "report.md"));
        Assert.Contains("| pack |", report);
        var board = await CliProcess.RunAsync(["leaderboard", Name, "--data-dir", dataDir, "--format", "json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(board.ExitCode == 0, board.ToString());
        foreach (var entry in JsonDocument.Parse(board.Stdout).RootElement.EnumerateArray())
        {
            var id = entry.GetProperty("trialId").GetString()!;
            Assert.Equal(packed[id].GetProperty("pack").ToString(), entry.GetProperty("pack").ToString());
        }

        var reproduce = await CliProcess.RunAsync(["reproduce", Name, "--data-dir", dataDir, "--json"], _work, TimeSpan.FromMinutes(4));
        Assert.True(reproduce.ExitCode == 0, reproduce.ToString());
        var verdict = JsonDocument.Parse(reproduce.Stdout).RootElement;
        Assert.Equal(10, verdict.GetProperty("identical").GetInt32());
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
