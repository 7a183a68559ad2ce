namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>A document format a verb writes for scripts.</summary>
public enum MachineFormat { Json, Csv }

/// <summary>One run of a verb for its machine output: the arguments after the verb, and what stdout must parse as.</summary>
public sealed record MachineInvocation(IReadOnlyList<string> Arguments, MachineFormat Format = MachineFormat.Json);

/// <summary>
/// How to run each verb that offers <c>--json</c> or <c>--format</c> cheaply against <see cref="FinishedSweep"/>.
/// A verb missing here fails <see cref="MachineOutputTests"/> by name, so a new verb gets its row.
/// </summary>
public static class MachineOutputInvocations
{
    public static IReadOnlyList<MachineInvocation> For(string verb, FinishedSweep sweep)
    {
        string[] embedded = ["--data-dir", sweep.DataDir];
        MachineInvocation Json(params string[] arguments) => new(arguments);
        MachineInvocation Csv(params string[] arguments) => new(arguments, MachineFormat.Csv);
        return verb switch
        {
            "validate" => [Json(sweep.File, "--json")],
            "lora params" => [Json("--model", "mlp", "--json")],
            "train" => [Json("--model", "mlp", "--dataset", "mnist", "--max-steps", "5", "--pretrain-epochs", "1", "--out", sweep.NewFolder("train"),
                "--data-dir", sweep.DataDir, "--json")],
            "estimate" => [Json(sweep.File, "--json"), Json("--params", "700M", "--json")],
            "models pull" => [Json("minilm-l6", "--cache", Path.Combine(sweep.Work, "cache"), "--json")],
            "models list" => [Json("--cache", Path.Combine(sweep.Work, "cache"), "--json")],
            "data prepare" => [Json("imdb", "--cache", Path.Combine(sweep.Work, "cache"), "--json")],
            // The sweep is finished: run resubmits it, adds nothing, and reports it again.
            "run" => [Json([sweep.File, .. embedded, "--report", sweep.NewFolder("report"), "--json"])],
            "submit" => [Json([sweep.File, .. embedded, "--json"])],
            "status" => [Json([FinishedSweep.Name, .. embedded, "--json"]), Json([.. embedded, "--json"])],
            "watch" or "trials" or "pause" or "resume" or "cancel" or "reproduce" => [Json([FinishedSweep.Name, .. embedded, "--json"])],
            "workers" => [Json([.. embedded, "--json"])],
            "leaderboard" =>
            [
                Json([FinishedSweep.Name, .. embedded, "--json"]),
                Json([FinishedSweep.Name, .. embedded, "--format", "json"]),
                Csv([FinishedSweep.Name, .. embedded, "--format", "csv"]),
                Json([FinishedSweep.Name, .. embedded, "--pareto", "--format", "json"]),
                Csv([FinishedSweep.Name, .. embedded, "--pareto", "--format", "csv"]),
                Json([FinishedSweep.Name, .. embedded, "--pareto", "--json"]),
            ],
            "report" => [Json([FinishedSweep.Name, .. embedded, "--out", sweep.NewFolder("report"), "--json"])],
            "adapter download" => [Json([sweep.LoraTrial, .. embedded, "--out", sweep.NewFolder("adapter"), "--json"])],
            "adapter merge" => [MergeOfGpt2(sweep)],
            "eval" => [EvalOfTinyLlama(sweep)],
            "generate" => [Json("--model", TinyLlama(sweep), "--prompt", "Review: the plot. ", "--no-chat-template", "--max-new-tokens", "3", "--json")],
            "certs create" => [Json("--out", sweep.NewFolder("certs"), "--days", "2", "--json")],
            "bench trainer" => [Json("--model", "mlp", "--steps", "8", "--threads", "1", "--json")],
            "bench memory" => [BenchMemoryOfTinyLlama(sweep)],
            "bench pack" => [Json("--model", "mlp", "--k", "1,2", "--steps", "6", "--threads", "1", "--json")],
            "bench orchestrator" => [Json("--trials", "20", "--slots", "2", "--silos", "1", "--warmup", "5", "--json")],
            "bench early-stopping" => [Json(sweep.File, "--work-dir", sweep.NewFolder("early-stopping"), "--json")],
            // No Optuna here: its rows are left out with a warning, which must not reach stdout either.
            "bench search" => [Json("--table", Path.Combine(CliProcess.RepositoryRoot, "bench", "search-table.csv"), "--budget", "3", "--seeds", "2",
                "--latency", "100", "--python", "/nonexistent/python", "--json")],
            _ => [],
        };
    }

    /// <summary>A random llama folder with a byte-level tokenizer and a ChatML template, as the decoder verb tests write it.</summary>
    private static string TinyLlama(FinishedSweep sweep) =>
        Orchestrator.Trainer.Tests.Instructions.TinyDecoders.Write(Path.Combine(sweep.NewFolder("decoder"), "llama"));

    /// <summary>bench memory of that folder, one combination (fp32, no quantisation), one step on twenty lines of text.</summary>
    private static MachineInvocation BenchMemoryOfTinyLlama(FinishedSweep sweep)
    {
        var model = TinyLlama(sweep);
        var corpus = Orchestrator.Trainer.Tests.Instructions.TinyDecoders.WriteJsonl(Path.Combine(sweep.NewFolder("bench-memory-data"), "corpus.jsonl"),
            Enumerable.Range(0, 20).Select(i => new { text = $"Story {i}: the cat sat on the mat." }));
        return new(["--model", model, "--dataset", corpus, "--rank", "4", "--targets", "q_proj", "--seq-len", "16", "--steps", "1", "--json"]);
    }

    /// <summary>eval of that folder on twenty prompt/completion rows.</summary>
    private static MachineInvocation EvalOfTinyLlama(FinishedSweep sweep)
    {
        var model = TinyLlama(sweep);
        var data = Orchestrator.Trainer.Tests.Instructions.TinyDecoders.WriteJsonl(Path.Combine(sweep.NewFolder("eval-data"), "rows.jsonl"),
            Enumerable.Range(0, 20).Select(i => new { prompt = $"Review {i}: the plot. ", completion = i % 2 == 0 ? "good" : "bad" }));
        return new(["--model", model, "--dataset", data, "--json"]);
    }

    /// <summary>A random GPT-2 folder and adapter from the PyTorch reference script, merged into a new folder.</summary>
    private static MachineInvocation MergeOfGpt2(FinishedSweep sweep)
    {
        var folder = Path.Combine(sweep.NewFolder("decoder"), "gpt2");
        Orchestrator.Trainer.Tests.Models.Decoders.DecoderReference.Write("gpt2", folder);
        return new(["--model", folder, "--adapter", Path.Combine(folder, "adapter"), "-o", sweep.NewFolder("merged"), "--json"]);
    }
}
