using System.Text;
using System.Text.RegularExpressions;

namespace Orchestrator.Sweeps;

/// <summary>
/// Reads and validates sweep files. Every problem is collected (with file, line and column) and thrown together as
/// one <see cref="SweepValidationException"/>; nothing a user writes produces any other exception.
/// </summary>
public static partial class SweepFile
{
    public const int MaxFileBytes = 1 << 20;
    public const int MaxStringLength = 4096;
    public const int MaxRunCap = 10_000;
    /// <summary>run_cap of a random or bayes sweep that gives none (W&amp;B's would run until stopped).</summary>
    public const int DefaultRunCap = 100;
    public const int MaxGridTrials = 10_000;
    public const int MaxParallel = 256;
    public const int MaxMaxFailures = 100;
    public const int MaxIterLimit = 1_000_000;

    public static SweepSpec Load(string path) => Load(path, out _);

    /// <summary>Loads and validates a sweep file; <paramref name="warnings"/> are things that run but probably not as meant.</summary>
    public static SweepSpec Load(string path, out IReadOnlyList<SweepProblem> warnings)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw Fail(path, "file not found");
            if (info.Length > MaxFileBytes) throw Fail(path, $"file is {info.Length} bytes; a sweep file may be at most {MaxFileBytes} bytes (1 MB)");
            return Parse(File.ReadAllText(path), path, out warnings);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Fail(path, "cannot read the file: " + e.Message);
        }
    }

    public static SweepSpec Parse(string yamlText, string fileName) => Parse(yamlText, fileName, out _);

    /// <summary>
    /// Parses and validates a sweep: every value against the trainer's rule table, every expanded trial's config as a
    /// whole, and the metric against what the task's trials report. <paramref name="warnings"/> lists what is valid
    /// but suspicious, such as a metric only some of the trials report.
    /// </summary>
    public static SweepSpec Parse(string yamlText, string fileName, out IReadOnlyList<SweepProblem> warnings)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        fileName ??= "<sweep>";
        if (yamlText.Length > MaxFileBytes || Encoding.UTF8.GetByteCount(yamlText) > MaxFileBytes)
            throw Fail(fileName, $"file is larger than {MaxFileBytes} bytes (1 MB); a sweep file is much smaller");
        var reader = new SweepReader(fileName);
        var spec = reader.Read(yamlText);
        warnings = reader.Warnings.OrderBy(p => p.Line).ThenBy(p => p.Column).ToList();
        if (reader.Problems.Count > 0 || spec is null)
        {
            if (reader.Problems.Count == 0) reader.Add(1, 1, "file is empty; expected a mapping with name, task, metric and parameters");
            throw new SweepValidationException(reader.Problems.OrderBy(p => p.Line).ThenBy(p => p.Column).ToList());
        }
        return spec;
    }

    private static SweepValidationException Fail(string file, string message) => new([new SweepProblem(file, 1, 1, message)]);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_./-]{0,127}$")]
    internal static partial Regex MetricPattern();
}
