using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Tests.Training;
using Parquet.Serialization;

namespace Orchestrator.Trainer.Tests.Instructions;

public sealed class InstructionFileTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void A_prompt_row_without_completion_is_reported_with_its_file_and_line()
    {
        var path = _workspace.Sub("data.jsonl");
        File.WriteAllLines(path, ["{\"prompt\": \"a\", \"completion\": \"b\"}", "", "{\"prompt\": \"c\"}", "not json"]);

        var error = Assert.Throws<InvalidDataException>(() => InstructionFile.Read(path));

        Assert.Contains($"{path}:3: a prompt/completion row needs a \"completion\"", error.Message);
        Assert.Contains($"{path}:4: not valid JSON", error.Message);
        Assert.StartsWith("2 bad rows", error.Message);
    }

    [Fact]
    public void An_unknown_role_is_reported_with_its_message_number_and_the_known_roles()
    {
        var path = TinyDecoders.WriteJsonl(_workspace.Sub("chat.jsonl"),
            [new { messages = new[] { new { role = "user", content = "hi" }, new { role = "bot", content = "hello" } } }]);

        var error = Assert.Throws<InvalidDataException>(() => InstructionFile.Read(path));

        Assert.Contains($"{path}:1: message 2 has the unknown role 'bot'; roles are system, user, assistant, tool", error.Message);
    }

    [Fact]
    public void A_file_with_no_rows_is_refused()
    {
        var path = _workspace.Sub("empty.jsonl");
        File.WriteAllLines(path, ["", "   "]);

        var error = Assert.Throws<InvalidDataException>(() => InstructionFile.Read(path));

        Assert.Contains("has no rows", error.Message);
    }

    [Fact]
    public void Rows_of_another_format_than_the_first_are_reported()
    {
        var path = TinyDecoders.WriteJsonl(_workspace.Sub("mixed.jsonl"), [new { text = "a" }, new { prompt = "p", completion = "c" }, new { other = 1 }]);

        var error = Assert.Throws<InvalidDataException>(() => InstructionFile.Read(path));

        Assert.Contains($"{path}:2: a {{\"prompt\", \"completion\"}} row in a file of {{\"text\"}} rows", error.Message);
        Assert.Contains($"{path}:3: expected {{\"text\"}}", error.Message);
    }

    public sealed class PromptRow
    {
        public string? prompt { get; set; }
        public string? completion { get; set; }
    }

    public sealed class Message
    {
        public string? role { get; set; }
        public string? content { get; set; }
    }

    public sealed class ChatRow
    {
        public List<Message>? messages { get; set; }
    }

    [Fact]
    public async Task Parquet_rows_read_as_jsonl_rows_do_and_a_bad_one_is_reported_by_row_number()
    {
        var chat = _workspace.Sub("chat.parquet");
        await ParquetSerializer.SerializeAsync(new[]
        {
            new ChatRow { messages = [new() { role = "system", content = "s" }, new() { role = "user", content = "u" }, new() { role = "assistant", content = "a" }] },
        }, chat);
        var rows = InstructionFile.Read(chat);
        Assert.Equal(["system", "user", "assistant"], rows.Single().Messages!.Select(m => m.Role));
        Assert.Equal($"{chat} row 1", rows[0].Location);

        var prompts = _workspace.Sub("prompts.parquet");
        await ParquetSerializer.SerializeAsync(new[] { new PromptRow { prompt = "p", completion = "c" }, new PromptRow { prompt = "q", completion = null } }, prompts);
        var error = Assert.Throws<InvalidDataException>(() => InstructionFile.Read(prompts));
        Assert.Contains($"{prompts} row 2: ", error.Message);
        Assert.Contains("\"completion\"", error.Message);
        Assert.StartsWith("1 bad row", error.Message);
    }

    [Fact]
    public void A_single_file_is_cut_80_10_10_by_a_fixed_seed_the_same_way_every_time()
    {
        var path = TinyDecoders.WriteJsonl(_workspace.Sub("rows.jsonl"), Enumerable.Range(0, 50).Select(i => new { text = $"row {i}" }));

        var first = InstructionSplits.Load(path);
        var second = InstructionSplits.Load(path);

        Assert.Equal((40, 5, 5), (first.Train.Count, first.Validation.Count, first.Test.Count));
        Assert.Equal(first.Test.Select(r => r.Text), second.Test.Select(r => r.Text));
        Assert.Equal(50, first.All.Select(r => r.Text).Distinct().Count());
        Assert.NotEqual(Enumerable.Range(40, 5).Select(i => $"row {i}"), first.Test.Select(r => r.Text)); // shuffled, not the tail
    }

    [Fact]
    public void A_folder_of_splits_uses_its_files_and_cuts_a_missing_validation_split_from_train()
    {
        var folder = Directory.CreateDirectory(_workspace.Sub("splits")).FullName;
        TinyDecoders.WriteJsonl(Path.Combine(folder, "train.jsonl"), Enumerable.Range(0, 20).Select(i => new { prompt = $"p{i}", completion = "c" }));
        TinyDecoders.WriteJsonl(Path.Combine(folder, "test.jsonl"), [new { prompt = "t", completion = "c" }]);

        var splits = InstructionSplits.Load(folder);

        Assert.Equal((18, 2, 1), (splits.Train.Count, splits.Validation.Count, splits.Test.Count));
        Assert.Equal("t", splits.Test.Single().Prompt);
    }
}
