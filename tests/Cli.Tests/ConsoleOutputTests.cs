using Orchestrator.Client.Output;

namespace Orchestrator.Cli.Tests;

public sealed class ConsoleOutputTests
{
    private static (ConsoleOutput Output, StringWriter Out, StringWriter Error) Capture(OutputMode mode)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        return (ConsoleOutput.Create(mode, stdout, stderr), stdout, stderr);
    }

    [Fact]
    public void Plain_tables_align_columns_without_ansi_and_right_align_numbers()
    {
        var (output, stdout, _) = Capture(OutputMode.Plain);
        output.Table(["trial", "rank"], [["a", "8"], ["bbb", "16"]]);
        var lines = stdout.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["trial  rank", "-----  ----", "a         8", "bbb      16"], lines);
        Assert.DoesNotContain('\u001b', stdout.ToString());
    }

    [Fact]
    public void Json_mode_writes_only_the_json_document_in_camel_case()
    {
        var (output, stdout, _) = Capture(OutputMode.Json);
        output.Line("people only");
        output.Table(["a"], [["1"]]);
        output.Json(new { TrainableParameters = 16384L, Kind = "lora" });
        using var document = System.Text.Json.JsonDocument.Parse(stdout.ToString());
        Assert.Equal(16384, document.RootElement.GetProperty("trainableParameters").GetInt64());
        Assert.Contains("\n", stdout.ToString().Trim());
    }

    [Fact]
    public void Errors_go_to_stderr_prefixed()
    {
        var (output, stdout, stderr) = Capture(OutputMode.Plain);
        output.Error("no such sweep 'x'");
        Assert.Equal("", stdout.ToString());
        Assert.Equal("error: no such sweep 'x'" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public async Task Plain_progress_logs_tenths_to_stderr_and_json_progress_is_silent()
    {
        var (plain, plainOut, plainErr) = Capture(OutputMode.Plain);
        await plain.ProgressAsync(board =>
        {
            var bar = board.Add("train", 100);
            for (var i = 1; i <= 100; i++) bar.Update(i);
            bar.Complete();
            return Task.FromResult(0);
        });
        Assert.Equal("", plainOut.ToString());
        Assert.Contains("train: 50%", plainErr.ToString());
        Assert.Contains("train: done", plainErr.ToString());

        var (json, jsonOut, jsonErr) = Capture(OutputMode.Json);
        await json.ProgressAsync(board => { board.Add("train", 10).Update(5); return Task.FromResult(0); });
        Assert.Equal("", jsonOut.ToString() + jsonErr.ToString());
    }

    [Theory]
    [InlineData(16384L, "16,384")]
    [InlineData(0L, "0")]
    public void Counts_use_invariant_thousands_separators(long value, string text) => Assert.Equal(text, ConsoleOutput.Count(value));

    [Fact]
    public void Bytes_are_binary_units() => Assert.Equal("1.50 GiB", ConsoleOutput.Bytes(3L << 29));
}
