namespace Orchestrator.Trials.Data;

/// <summary>
/// Datasets a sweep can name (`dataset: imdb`) rather than give as a path: labelled texts prepared once from a package
/// (see src/Models) and handed to the trainer as a folder of splits by an <see cref="Training.INamedResources"/>.
/// </summary>
public static class NamedDatasets
{
    /// <summary>The 50,000 IMDB reviews (Maas et al., 2011), deduplicated and split train/validation/test with a fixed seed.</summary>
    public const string Imdb = "imdb";

    public static readonly IReadOnlyList<string> LabelledText = [Imdb];

    public static bool IsLabelledText(string? dataset) =>
        dataset is not null && LabelledText.Contains(dataset, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The IMDB reviews as prompt/completion rows (TRL's format) for a decoder: the prompt is the review (cut at a word
    /// boundary to at most 300 characters) and "\nSentiment:", the completion " positive" or " negative"; the same
    /// train/validation/test reviews as <see cref="Imdb"/>.
    /// </summary>
    public const string ImdbInstruct = "imdb-instruct";

    public static readonly IReadOnlyList<string> Instructions = [ImdbInstruct];

    /// <summary>True for a named dataset of prompt/completion rows whose completions are labels.</summary>
    public static bool IsInstructionLabels(string? dataset) =>
        dataset is not null && Instructions.Contains(dataset, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every named dataset.</summary>
    public static IReadOnlyList<string> All => [.. LabelledText, .. Instructions];
}
