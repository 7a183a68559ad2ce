using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Data.Classification;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Tests.Models.HuggingFace;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class TextClassificationDataTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void A_bad_jsonl_row_is_reported_with_its_file_and_line()
    {
        var path = _workspace.Sub("bad.jsonl");
        File.WriteAllText(path, "{\"text\": \"good\", \"label\": \"pos\"}\n\n{\"text\": \"bad\"}\n");
        var error = Assert.Throws<TextClassificationFormatException>(() => LabelledTextFile.Read(path));
        Assert.Equal(3, error.Line);
        Assert.StartsWith($"{path}:3: ", error.Message);
        Assert.Contains("label", error.Message);
    }

    [Fact]
    public void A_bad_csv_row_is_reported_with_the_line_it_starts_on()
    {
        var path = _workspace.Sub("bad.csv");
        File.WriteAllText(path, "id,text,label\n1,\"a quoted, two-line\ntext\",pos\n2,too,many,fields\n");
        var error = Assert.Throws<TextClassificationFormatException>(() => LabelledTextFile.Read(path));
        Assert.StartsWith($"{path}:4: ", error.Message);

        File.WriteAllText(path, "id,text,label\n1,\"a quoted, two-line\ntext\",pos\n2,\"say \"\"hi\"\"\",neg\n");
        var rows = LabelledTextFile.Read(path);
        Assert.Equal([new LabelledText("a quoted, two-line\ntext", "pos"), new LabelledText("say \"hi\"", "neg")], rows);
    }

    [Fact]
    public void Integer_labels_sort_as_numbers_and_names_sort_ordinally()
    {
        Assert.Equal(["-1", "2", "10"], TextClassificationDataset.Classify([new("a", "10"), new("b", "2"), new("c", "-1"), new("d", "2")]));
        Assert.Equal(["neg", "neutral", "pos"], TextClassificationDataset.Classify([new("a", "pos"), new("b", "neg"), new("c", "neutral")]));
    }

    [Fact]
    public void One_file_splits_80_10_10_the_same_way_every_time_and_a_folder_gives_its_own_splits()
    {
        var file = TinyEncoders.WriteToyJsonl(_workspace.Sub("toy.jsonl"), rows: 50);
        var (train, validation, test) = TextClassificationDataset.Split(file);
        Assert.Equal((40, 5, 5), (train.Count, validation.Count, test.Count));
        Assert.Equal(test, TextClassificationDataset.Split(file).Test);
        Assert.Equal(50, train.Concat(validation).Concat(test).Count());

        var folder = _workspace.Sub("splits");
        Directory.CreateDirectory(folder);
        File.Copy(file, Path.Combine(folder, "train.jsonl"));
        File.WriteAllText(Path.Combine(folder, "validation.csv"), "text,label\nnice film,pos\n");
        File.WriteAllText(Path.Combine(folder, "test.jsonl"), "{\"text\": \"awful\", \"label\": \"neg\"}\n{\"text\": \"great\", \"label\": \"pos\"}\n");
        var splits = TextClassificationDataset.Split(folder);
        Assert.Equal((50, 1, 2), (splits.Train.Count, splits.Validation.Count, splits.Test.Count));
    }

    [Fact]
    public void WordPiece_from_vocab_txt_lower_cases_wraps_in_cls_and_sep_truncates_and_pads()
    {
        var folder = _workspace.Sub("bert");
        Directory.CreateDirectory(folder);
        TinyEncoders.WriteTokenizer(folder, EncoderFamily.Bert);
        var tokenizer = EncoderTokenizer.Load(folder);
        int Id(string token) => Array.IndexOf(TinyEncoders.BertSpecials.Concat(TinyEncoders.Words).ToArray(), token);

        var (ids, mask) = tokenizer.Encode("The MOVIE was zzz", 8);
        Assert.Equal(new long[] { Id("[CLS]"), Id("the"), Id("movie"), Id("was"), Id("[UNK]"), Id("[SEP]"), Id("[PAD]"), Id("[PAD]") }, ids);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }, mask);
        var (cut, _) = tokenizer.Encode("good good good good good", 4);
        Assert.Equal(new long[] { Id("[CLS]"), Id("good"), Id("good"), Id("[SEP]") }, cut);
    }

    [Fact]
    public void Byte_level_bpe_from_vocab_json_wraps_in_s_and_pads_with_pad()
    {
        var folder = _workspace.Sub("roberta");
        Directory.CreateDirectory(folder);
        TinyEncoders.WriteTokenizer(folder, EncoderFamily.Roberta);
        var tokenizer = EncoderTokenizer.Load(folder);
        var (ids, mask) = tokenizer.Encode("ab c", 8);
        Assert.Equal(new long[] { 0, 5, 6, 4, 7, 2, 1, 1 }, ids); // <s> a b Ġ c </s> <pad> <pad>
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }, mask);
    }

    [Fact]
    public void An_encoder_folder_makes_a_jsonl_text_classification_and_one_place_says_so()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("model"), EncoderFamily.Bert, seed: 1);
        var file = TinyEncoders.WriteToyJsonl(_workspace.Sub("toy.jsonl"));
        Assert.Equal(TaskKind.TextClassification, MetricNames.TaskOf(folder, file));
        Assert.Equal(TaskKind.CausalLm, MetricNames.TaskOf("llama", file));
        Assert.Contains(MetricNames.TestMacroF1, MetricNames.ReportedBy(folder, file, AdapterKind.Lora)!);
        Assert.DoesNotContain(MetricNames.TestMacroF1, MetricNames.ReportedBy("mnist", AdapterKind.Lora)!);

        using var data = DatasetCatalog.Load(new TrainingConfig { Model = folder, Dataset = file, SequenceLength = 12 });
        var classes = Assert.IsType<TextClassificationDataset>(data);
        Assert.Equal(["neg", "pos"], classes.Labels);
        Assert.Equal((64L, 8L, 8L), (data.TrainCount, data.ValidationCount, data.TestCount));
        var batch = data.TestBatches(4).First();
        Assert.Equal([4L, 2L, 12L], batch.Inputs.shape);
    }

    [Fact]
    public void Macro_f1_averages_per_class_f1_over_the_classes_that_occur()
    {
        // truth [0,0,1,1,2], predicted [0,1,1,1,0]: F1 0.5, 0.8 and 0 → 0.4333 (scikit-learn's f1_score, average="macro").
        Assert.Equal(1.3 / 3, Evaluator.MacroF1([1, 2, 0, 0], [2, 3, 0, 0], [2, 2, 1, 0]), 12);
    }
}
