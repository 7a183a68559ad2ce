using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Tests.Configuration;

/// <summary>
/// A config given as JSON values over another's, as a sweep or <c>train</c> gives them: words (bias, base_dtype, ...) are
/// checked by the option table before the record is typed, so a word it does not know is a problem, not an exception.
/// </summary>
internal static class ConfigJson
{
    public static IReadOnlyList<TrainingConfigProblem> Problems(TrainingConfig start, params (string Key, JsonNode? Value)[] values)
    {
        var json = JsonSerializer.SerializeToNode(start)!.AsObject();
        foreach (var (key, value) in values) json[key] = value;
        var wordProblems = TrainingOptions.OptionProblems(json).ToList();
        return wordProblems.Count > 0 ? wordProblems : json.Deserialize<TrainingConfig>()!.Problems();
    }
}
