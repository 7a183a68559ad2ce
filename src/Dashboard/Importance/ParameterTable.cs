namespace Orchestrator.Dashboard.Importance;

/// <summary>
/// Finished trials as a numeric design matrix for a tree model: a numeric parameter is one column of its raw value,
/// any other parameter one 0/1 column per distinct value (one-hot, as Optuna's fANOVA encodes a categorical). Only
/// trials that have every parameter and a finite score are rows.
/// </summary>
public sealed class ParameterTable
{
    private ParameterTable(IReadOnlyList<string> parameters, IReadOnlyList<IReadOnlyList<int>> columns, float[][] rows, double[] scores, (double Low, double High)[] bounds)
    {
        Parameters = parameters;
        Columns = columns;
        Rows = rows;
        Scores = scores;
        Bounds = bounds;
    }

    /// <summary>The parameters, in the order given.</summary>
    public IReadOnlyList<string> Parameters { get; }

    /// <summary>The feature columns of each parameter (one for a number, one per value for a category).</summary>
    public IReadOnlyList<IReadOnlyList<int>> Columns { get; }

    public float[][] Rows { get; }

    public double[] Scores { get; }

    /// <summary>Each column's domain: the observed range of a number, [0, 1] for a one-hot column.</summary>
    public (double Low, double High)[] Bounds { get; }

    public int ColumnCount => Bounds.Length;

    public static ParameterTable Of(IReadOnlyList<(IReadOnlyDictionary<string, ParameterValue> Parameters, double Score)> trials, IReadOnlyList<string> parameters)
    {
        var usable = trials.Where(t => double.IsFinite(t.Score) && parameters.All(t.Parameters.ContainsKey)).ToList();
        var columns = new List<IReadOnlyList<int>>();
        var bounds = new List<(double, double)>();
        var encoders = new List<Func<IReadOnlyDictionary<string, ParameterValue>, float[], int>>();
        foreach (var p in parameters)
        {
            var values = usable.Select(t => t.Parameters[p]).ToList();
            var first = bounds.Count;
            if (values.All(v => v.AsNumber is not null))
            {
                var numbers = values.Select(v => v.AsNumber!.Value).ToList();
                bounds.Add((numbers.Count > 0 ? numbers.Min() : 0, numbers.Count > 0 ? numbers.Max() : 0));
                columns.Add([first]);
                encoders.Add((t, row) => { row[first] = (float)t[p].AsNumber!.Value; return 0; });
            }
            else
            {
                var categories = values.Select(v => v.ToString()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                columns.Add([.. Enumerable.Range(first, categories.Count)]);
                bounds.AddRange(categories.Select(_ => (0.0, 1.0)));
                encoders.Add((t, row) => { row[first + categories.IndexOf(t[p].ToString())] = 1; return 0; });
            }
        }
        var rows = usable.Select(t =>
        {
            var row = new float[bounds.Count];
            foreach (var encode in encoders) encode(t.Parameters, row);
            return row;
        }).ToArray();
        return new ParameterTable(parameters, columns, rows, usable.Select(t => t.Score).ToArray(), [.. bounds]);
    }
}
