using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs.Models;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed partial class SharedBaseTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_silo_processes_sharing_Blob_Storage_pretrain_a_sweeps_base_once_and_both_train_on_it()
    {
        await using var cluster = await FaultCluster.StartAsync(output, silos: 2);
        // Both silos lease a trial at once, each with an empty local cache: one pretrains, the other waits for its copy.
        var sweep = new TestSweep("shared-base", Ranks: 4, Steps: 40, Parallel: 2);
        await cluster.SubmitAsync(sweep);

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(180));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, expectedTrials: 4);

        var silos = new List<(string Silo, long Pretrained, long Downloaded, long Finished)>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var silo in cluster.Silos)
        {
            var text = await http.GetStringAsync($"http://127.0.0.1:{silo.HttpPort.ToString(CultureInfo.InvariantCulture)}/metrics");
            silos.Add((silo.Name, Counter(text, "orchestrator_bases_pretrained_total"), Counter(text, "orchestrator_bases_downloaded_total"),
                Counter(text, "orchestrator_trials_finished_total")));
        }
        var blobs = new List<string>();
        await foreach (var blob in cluster.Artifacts.GetBlobsAsync(new GetBlobsOptions { Prefix = "bases/" })) blobs.Add(blob.Name);
        output.WriteLine($"{string.Join("; ", silos.Select(s => $"{s.Silo}: pretrained {s.Pretrained}, downloaded {s.Downloaded}, trials finished {s.Finished}"))}; " +
            $"store: {string.Join(", ", blobs)}; {outcome}");

        Assert.All(silos, s => Assert.True(s.Finished > 0, $"{s.Silo} trained no trial"));
        Assert.Equal(1, silos.Sum(s => s.Pretrained));
        Assert.Equal(1, silos.Sum(s => s.Downloaded));
        // One base, published (weights + manifest), its pretraining claim released.
        Assert.Equal(2, blobs.Count);
        Assert.Single(blobs.Select(b => b.Split('/')[1]).Distinct());
        Assert.Contains(blobs, b => b.EndsWith("/model.safetensors", StringComparison.Ordinal));
        Assert.Contains(blobs, b => b.EndsWith("/base.json", StringComparison.Ordinal));
    }

    private static long Counter(string prometheus, string name) =>
        CounterLine().Matches(prometheus).Where(m => m.Groups[1].Value == name).Select(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).Single();

    [GeneratedRegex(@"^([a-z_]+) (\d+)$", RegexOptions.Multiline)]
    private static partial Regex CounterLine();
}
