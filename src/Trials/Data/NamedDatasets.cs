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
}
