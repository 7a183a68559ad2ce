using System.Text.Json;
using Orchestrator.Trainer.Tests.Instructions;

namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>`train`, `eval` and `generate` on a Hugging Face decoder folder and TRL prompt/completion data, through the real CLI.</summary>
public sealed class DecoderVerbTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("decoder-verbs-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string Data(int rows)
    {
        var random = new Random(5);
        string[] words = ["the", "film", "plot", "was", "very", "acting"];
        return TinyDecoders.WriteJsonl(Path.Combine(_work, "sentiment.jsonl"), Enumerable.Range(0, rows).Select(i =>
        {
            var positive = i % 2 == 0;
            var review = string.Join(' ', Enumerable.Range(0, 2 + random.Next(3)).Select(_ => words[random.Next(words.Length)]));
            return new { prompt = $"Review: {review}. {(positive ? "great" : "awful")}", completion = positive ? " positive" : " negative" };
        }));
    }

    private static void AssertClean(CliResult result)
    {
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        Assert.DoesNotContain("Exception", result.Stderr);
    }

    [Fact]
    public async Task Eval_scores_a_trained_adapter_better_than_its_base_and_generate_is_greedy_or_seeded()
    {
        var model = TinyDecoders.Write(Path.Combine(_work, "model"));
        var data = Data(60);
        var trial = Path.Combine(_work, "trial");

        var train = await CliProcess.RunAsync(["train", "--model", model, "--dataset", data, "--out", trial, "--max-steps", "30", "--seq-len", "48",
            "--batch-size", "8", "--lr", "0.01", "--target-modules", "all-linear", "--rank", "8", "--alpha", "16", "--json"], _work, TimeSpan.FromMinutes(4));
        Assert.True(train.ExitCode == 0, train.ToString());
        var adapter = Path.Combine(trial, "adapter");

        var baseEval = await CliProcess.RunAsync(["eval", "--model", model, "--dataset", data, "--split", "test", "--json"], _work, TimeSpan.FromMinutes(2));
        var adapterEval = await CliProcess.RunAsync(["eval", "--model", model, "--adapter", adapter, "--dataset", data, "--split", "test", "--json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(baseEval.ExitCode == 0, baseEval.ToString());
        Assert.True(adapterEval.ExitCode == 0, adapterEval.ToString());
        using var baseJson = JsonDocument.Parse(baseEval.Stdout);
        using var adapterJson = JsonDocument.Parse(adapterEval.Stdout);
        var baseLoss = baseJson.RootElement.GetProperty("loss").GetDouble();
        var adapterLoss = adapterJson.RootElement.GetProperty("loss").GetDouble();
        Assert.True(adapterLoss < baseLoss / 2, $"base {baseLoss}, adapter {adapterLoss}");
        Assert.Equal(Math.Exp(adapterLoss), adapterJson.RootElement.GetProperty("perplexity").GetDouble(), 6);
        // The eval of the test split is the trial's own test evaluation.
        using var trainJson = JsonDocument.Parse(train.Stdout);
        Assert.Equal(trainJson.RootElement.GetProperty("metrics").GetProperty("test_loss").GetDouble(), adapterLoss, 4);
        Assert.Equal(JsonValueKind.Number, adapterJson.RootElement.GetProperty("accuracy").ValueKind);

        string[] generate = ["generate", "--model", model, "--adapter", adapter, "--prompt", "Review: the plot. great", "--no-chat-template", "--max-new-tokens", "6", "--json"];
        var greedy = await CliProcess.RunAsync(generate, _work, TimeSpan.FromMinutes(2));
        var again = await CliProcess.RunAsync(generate, _work, TimeSpan.FromMinutes(2));
        Assert.True(greedy.ExitCode == 0, greedy.ToString());
        Assert.Equal(greedy.Stdout, again.Stdout);
        using var greedyJson = JsonDocument.Parse(greedy.Stdout);
        Assert.StartsWith(" pos", greedyJson.RootElement.GetProperty("completion").GetString());

        string[] sampled = [.. generate, "--temperature", "1.5", "--seed", "7"];
        var first = await CliProcess.RunAsync(sampled, _work, TimeSpan.FromMinutes(2));
        var second = await CliProcess.RunAsync(sampled, _work, TimeSpan.FromMinutes(2));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(first.Stdout, second.Stdout);

        var messages = Path.Combine(_work, "messages.json");
        File.WriteAllText(messages, """[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]""");
        var chat = await CliProcess.RunAsync(["generate", "--model", model, "--messages", messages, "--max-new-tokens", "3", "--json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(chat.ExitCode == 0, chat.ToString());
        using var chatJson = JsonDocument.Parse(chat.Stdout);
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", chatJson.RootElement.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task A_row_without_completion_is_a_clear_error_naming_the_file_and_line()
    {
        var model = TinyDecoders.Write(Path.Combine(_work, "model"));
        var data = Path.Combine(_work, "bad.jsonl");
        File.WriteAllLines(data, ["{\"prompt\": \"a\", \"completion\": \" b\"}", "{\"prompt\": \"c\"}"]);

        var eval = await CliProcess.RunAsync(["eval", "--model", model, "--dataset", data], _work, TimeSpan.FromMinutes(2));
        var train = await CliProcess.RunAsync(["train", "--model", model, "--dataset", data, "--out", Path.Combine(_work, "t"), "--max-steps", "1"], _work, TimeSpan.FromMinutes(2));

        foreach (var result in new[] { eval, train })
        {
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains($"{data}:2: a prompt/completion row needs a \"completion\"", result.Stderr);
            AssertClean(result);
        }
    }

    [Fact]
    public async Task Generate_refuses_an_unknown_role_and_a_missing_prompt()
    {
        var model = TinyDecoders.Write(Path.Combine(_work, "model"));
        var messages = Path.Combine(_work, "messages.json");
        File.WriteAllText(messages, """[{"role": "narrator", "content": "Once"}]""");

        var role = await CliProcess.RunAsync(["generate", "--model", model, "--messages", messages], _work, TimeSpan.FromMinutes(2));
        var none = await CliProcess.RunAsync(["generate", "--model", model], _work, TimeSpan.FromMinutes(2));

        Assert.True(role.ExitCode == 2, role.ToString());
        Assert.Contains("unknown role 'narrator'", role.Stderr);
        Assert.True(none.ExitCode == 1, none.ToString());
        Assert.Contains("--prompt", none.Stderr);
        AssertClean(role);
        AssertClean(none);
    }
}
