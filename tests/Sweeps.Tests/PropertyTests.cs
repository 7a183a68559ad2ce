using Orchestrator.Contracts.Trials;
using System.Text;
using FsCheck;
using FsCheck.Xunit;

namespace Orchestrator.Sweeps.Tests;

public class PropertyTests
{
    private static readonly string[] Tokens =
        ["", " ", "\n", "\t", ":", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!!", "#", "'", "\"", "|", ">", "---", "...",
         "0", "-1", ".nan", ".inf", "1e999", "99999999999999999999", "null", "~", "true", "rank", "lr", "values", "value",
         "distribution", "uniform", "min", "max", "q_prj", "../", "%", "@", "`", "\u0000", "\u00e9", "\ud83d\ude00", "  "];

    /// <summary>Random edits of a valid file: delete, insert a token, duplicate or swap lines, truncate.</summary>
    [Property(MaxTest = 2000)]
    public void Mutating_a_valid_file_never_throws_anything_but_a_validation_error(NonNegativeInt position, NonNegativeInt length, byte op, byte token, string? noise)
    {
        var text = Mutate(SweepFileTests.Valid, position.Get, length.Get, op, token, noise ?? "");
        try
        {
            var spec = SweepFile.Parse(text, "m.yaml");
            _ = SweepExpander.Expand(spec);
        }
        catch (SweepValidationException e)
        {
            MalformedCorpusTests.AssertWellFormed(e, "m.yaml");
        }
    }

    internal static string Mutate(string text, int position, int length, byte op, byte token, string noise)
    {
        var pos = position % (text.Length + 1);
        var len = Math.Min(length % 20, text.Length - pos);
        var lines = text.Split('\n').ToList();
        var line = position % lines.Count;
        var other = (position / 7 + length) % lines.Count;
        switch (op % 7)
        {
            case 0: return text.Remove(pos, len);
            case 1: return text.Insert(pos, Tokens[token % Tokens.Length]);
            case 2: return text.Insert(pos, noise);
            case 3: lines.Insert(line, lines[other]); return string.Join('\n', lines);
            case 4: (lines[line], lines[other]) = (lines[other], lines[line]); return string.Join('\n', lines);
            case 5: return text[..pos];
            default:
                var sb = new StringBuilder(text);
                if (pos < sb.Length) sb[pos] = Tokens[token % Tokens.Length] is { Length: > 0 } t ? t[0] : 'x';
                return sb.ToString();
        }
    }

    /// <summary>Valid specs built from random choices expand to the same trials (ids, parameters, seeds) every time.</summary>
    [Property(MaxTest = 100)]
    public bool Valid_generated_specs_expand_deterministically(NonNegativeInt seed, byte rankCount, byte alphaCount, bool random, bool baselines, byte runCap)
    {
        var ranks = Enumerable.Range(0, 1 + rankCount % 6).Select(i => 1 << i);
        var alphas = Enumerable.Range(1, 1 + alphaCount % 4).Select(i => i * 8);
        var yaml = $"""
            name: generated-{seed.Get % 1000}
            seed: {seed.Get}
            task: {'{'} model: mlp, dataset: mnist {'}'}
            metric: {'{'} name: test_accuracy, goal: maximize {'}'}
            method: {(random ? "random" : "grid")}
            run_cap: {1 + runCap % 30}
            {(baselines ? "baselines: [full, base]" : "")}
            parameters:
              rank: {'{'} values: [{string.Join(", ", ranks)}] {'}'}
              alpha: {'{'} values: [{string.Join(", ", alphas)}] {'}'}
              {(random ? "lr: { distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-1 }" : "lr: { value: 1.0e-3 }")}
              target_modules: {'{'} values: [[l1], [l1, l2, l3]] {'}'}
              seed: {'{'} values: [0, 1] {'}'}
            """;
        var a = SweepExpander.Expand(SweepFile.Parse(yaml, "g.yaml"));
        var b = SweepExpander.Expand(SweepFile.Parse(yaml, "g.yaml"));
        string Fingerprint(IReadOnlyList<TrialPlan> t) => string.Join("|", t.Select(x => $"{x.TrialId}:{x.Kind}:{x.Config.Seed}:{string.Join(",", x.Parameters)}"));
        return a.Count > 0
            && Fingerprint(a) == Fingerprint(b)
            && a.Select(t => t.TrialId).Distinct().Count() == a.Count
            && a.Count(t => t.Kind == TrialKind.Lora) <= 1 + runCap % 30;
    }
}
