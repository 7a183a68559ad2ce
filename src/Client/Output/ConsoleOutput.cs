using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Client.Output;

/// <summary>How a verb writes: rich (a terminal), plain (redirected: no ANSI, no live views) or JSON (for scripts).</summary>
public enum OutputMode { Rich, Plain, Json }

/// <summary>
/// The one place verbs write to the console. Rich output goes through Spectre.Console; when stdout is not a terminal
/// the same calls produce plain aligned text, and with <c>--json</c> only <see cref="Json{T}"/> writes to stdout
/// (tables and lines are suppressed so the output stays one parseable document). Errors always go to stderr as
/// <c>error: ...</c>.
/// </summary>
public sealed class ConsoleOutput
{
    /// <summary>The shared <c>--json</c> option; add it to a verb with <c>Options.Add(ConsoleOutput.JsonOption)</c>.</summary>
    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Write machine-readable JSON to stdout instead of tables.",
    };

    /// <summary>camelCase, indented, enums as strings: the format every <c>--json</c> verb writes.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly IAnsiConsole? _rich;

    private ConsoleOutput(OutputMode mode, TextWriter stdout, TextWriter stderr)
    {
        Mode = mode;
        _out = stdout;
        _error = stderr;
        if (mode == OutputMode.Rich)
        {
            _rich = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.Detect,
                ColorSystem = ColorSystemSupport.Detect,
                Out = new AnsiConsoleOutput(stdout),
            });
        }
    }

    public OutputMode Mode { get; }
    public bool IsJson => Mode == OutputMode.Json;
    /// <summary>True when live views (progress bars) may redraw the terminal.</summary>
    public bool IsInteractive => Mode == OutputMode.Rich;

    /// <summary>
    /// The output for this process: JSON when asked, plain when stdout is redirected, rich otherwise.
    /// <paramref name="machine"/> is any document for scripts on stdout (<c>--json</c>, <c>--format json|csv</c>):
    /// then stdout holds that document only, and whatever people read goes to stderr or nowhere.
    /// </summary>
    public static ConsoleOutput Create(bool machine) =>
        new(machine ? OutputMode.Json : Console.IsOutputRedirected ? OutputMode.Plain : OutputMode.Rich, Console.Out, Console.Error);

    /// <summary>The output for a parsed verb, honouring <see cref="JsonOption"/> when the verb has it.</summary>
    public static ConsoleOutput Create(ParseResult parseResult) => Create(parseResult.GetValue(JsonOption));

    /// <summary>An output on given writers, for tests and for capturing a verb's output.</summary>
    public static ConsoleOutput Create(OutputMode mode, TextWriter stdout, TextWriter stderr) => new(mode, stdout, stderr);

    /// <summary>Writes one JSON document to stdout (in every mode: a verb that only has JSON to give still gives it).</summary>
    public void Json<T>(T value) => _out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>A line of text for people; suppressed in JSON mode.</summary>
    public void Line(string text = "")
    {
        if (IsJson) return;
        if (_rich is not null) _rich.WriteLine(text);
        else _out.WriteLine(text);
    }

    /// <summary>A heading line, bold on a terminal.</summary>
    public void Heading(string text)
    {
        if (IsJson) return;
        if (_rich is not null) _rich.MarkupLine($"[bold]{Markup.Escape(text)}[/]");
        else _out.WriteLine(text);
    }

    /// <summary><c>error: message</c> on stderr, in every mode.</summary>
    public void Error(string message) => _error.WriteLine($"error: {message}");

    /// <summary><c>warning: message</c> on stderr, in every mode.</summary>
    public void Warning(string message) => _error.WriteLine($"warning: {message}");

    /// <summary>A note for people that must not disturb stdout (e.g. where files were written); stderr in JSON mode.</summary>
    public void Note(string message)
    {
        if (IsJson) _error.WriteLine(message);
        else Line(message);
    }

    /// <summary>A table; plain mode aligns columns with spaces (numbers right-aligned), JSON mode writes nothing.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, string? title = null)
    {
        if (IsJson) return;
        var materialized = rows.ToList();
        var plain = PlainTable(headers, materialized).ToList();
        // A bordered table needs about 3 more characters per column than the aligned plain form. When even that does
        // not fit the terminal, the plain form reads better than a table squeezed into wrapped cells.
        if (_rich is not null && plain.Max(l => l.Length) + 3 * headers.Count + 1 <= _rich.Profile.Width)
        {
            var table = new Table().Border(TableBorder.Rounded);
            if (title is not null) table.Title = new TableTitle(Markup.Escape(title));
            var numeric = NumericColumns(headers.Count, materialized);
            for (var c = 0; c < headers.Count; c++)
            {
                var column = new TableColumn(Markup.Escape(headers[c]));
                column.NoWrap();
                if (numeric[c]) column.RightAligned();
                table.AddColumn(column);
            }
            foreach (var row in materialized)
                table.AddRow(Enumerable.Range(0, headers.Count).Select(c => Markup.Escape(c < row.Count ? row[c] : "")).ToArray());
            _rich.Write(table);
            return;
        }
        if (title is not null) _out.WriteLine(title);
        foreach (var line in plain) _out.WriteLine(line);
    }

    /// <summary>Key/value pairs, one per line; JSON mode writes nothing.</summary>
    public void KeyValues(IEnumerable<(string Key, string Value)> pairs, string? title = null)
    {
        if (IsJson) return;
        var list = pairs.ToList();
        if (_rich is not null)
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            foreach (var (key, value) in list) grid.AddRow($"[grey]{Markup.Escape(key)}[/]", Markup.Escape(value));
            if (title is not null) _rich.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
            _rich.Write(grid);
            return;
        }
        if (title is not null) _out.WriteLine(title);
        var width = list.Count == 0 ? 0 : list.Max(p => p.Key.Length);
        foreach (var (key, value) in list) _out.WriteLine($"{key.PadRight(width)}  {value}");
    }

    /// <summary>
    /// Runs <paramref name="work"/> with progress bars: live on a terminal; on stderr every 10% otherwise; silent in
    /// JSON mode. The board is safe to update from any thread.
    /// </summary>
    public async Task<T> ProgressAsync<T>(Func<ProgressBoard, Task<T>> work)
    {
        if (_rich is null)
            return await work(new ProgressBoard(IsJson ? null : _error, null));
        T result = default!;
        await _rich.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context => result = await work(new ProgressBoard(null, context)));
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with one live region that it redraws (a terminal), or that writes the plain lines it
    /// is given as they come (redirected output). JSON mode shows nothing.
    /// </summary>
    public async Task<T> LiveAsync<T>(Func<LiveRegion, Task<T>> work)
    {
        if (_rich is null)
            return await work(new LiveRegion(IsJson ? null : _error, null));
        T result = default!;
        await _rich.Live(new Text("")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context => result = await work(new LiveRegion(null, context)));
        return result;
    }

    /// <summary>Formats a count with thousands separators, invariant culture (16,384).</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Formats a metric compactly: 4 significant decimals, invariant culture.</summary>
    public static string Number(double value) =>
        double.IsNaN(value) ? "nan" : value.ToString(Math.Abs(value) >= 1000 ? "0.##" : "0.####", CultureInfo.InvariantCulture);

    /// <summary>Formats bytes as GiB/MiB/KiB with two decimals.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.00} {units[unit]}");
    }

    internal static IEnumerable<string> PlainTable(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in rows)
            for (var c = 0; c < widths.Length && c < row.Count; c++)
                widths[c] = Math.Max(widths[c], row[c].Length);
        var numeric = NumericColumns(headers.Count, rows);
        string Format(IReadOnlyList<string> cells, bool header) => string.Join("  ", Enumerable.Range(0, widths.Length).Select(c =>
        {
            var cell = c < cells.Count ? cells[c] : "";
            return numeric[c] && !header ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]);
        })).TrimEnd();
        yield return Format(headers, header: true);
        yield return string.Join("  ", widths.Select(w => new string('-', w)));
        foreach (var row in rows) yield return Format(row, header: false);
    }

    private static bool[] NumericColumns(int count, IReadOnlyList<IReadOnlyList<string>> rows) =>
        Enumerable.Range(0, count).Select(c =>
        {
            var cells = rows.Select(r => c < r.Count ? r[c] : "").Where(s => s.Length > 0 && s != "-").ToList();
            return cells.Count > 0 && cells.All(s => double.TryParse(s.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        }).ToArray();
}

/// <summary>The region of one <see cref="ConsoleOutput.LiveAsync{T}"/> call: a redrawn picture, or plain lines.</summary>
public sealed class LiveRegion
{
    private readonly TextWriter? _plain;
    private readonly LiveDisplayContext? _context;

    internal LiveRegion(TextWriter? plain, LiveDisplayContext? context)
    {
        _plain = plain;
        _context = context;
    }

    /// <summary>True when <see cref="Show"/> redraws a terminal; false when only <see cref="Log"/> lines are written.</summary>
    public bool IsRedrawn => _context is not null;

    /// <summary>Replaces what the terminal shows (no-op when redirected).</summary>
    public void Show(IRenderable picture)
    {
        if (_context is null) return;
        _context.UpdateTarget(picture);
        _context.Refresh();
    }

    /// <summary>A line for redirected output (no-op on a terminal, where the picture says it).</summary>
    public void Log(string line) => _plain?.WriteLine(line);
}

/// <summary>Progress bars of one <see cref="ConsoleOutput.ProgressAsync{T}"/> call.</summary>
public sealed class ProgressBoard
{
    private readonly TextWriter? _plain;
    private readonly ProgressContext? _context;
    private readonly Lock _lock = new();

    internal ProgressBoard(TextWriter? plain, ProgressContext? context)
    {
        _plain = plain;
        _context = context;
    }

    /// <summary>Adds a bar that runs from 0 to <paramref name="total"/>.</summary>
    public ProgressBar Add(string description, double total)
    {
        lock (_lock)
        {
            var task = _context?.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
            return new ProgressBar(this, description, Math.Max(total, 1), task);
        }
    }

    internal void WritePlain(string line)
    {
        if (_plain is null) return;
        lock (_lock) _plain.WriteLine(line);
    }
}

/// <summary>One bar. Plain mode logs it at every tenth of the way and on completion.</summary>
public sealed class ProgressBar
{
    private readonly ProgressBoard _board;
    private readonly ProgressTask? _task;
    private int _lastDecile = -1;
    private bool _completed;

    internal ProgressBar(ProgressBoard board, string description, double total, ProgressTask? task)
    {
        _board = board;
        Description = description;
        Total = total;
        _task = task;
    }

    public string Description { get; private set; }
    public double Total { get; private set; }
    public double Value { get; private set; }

    /// <summary>Moves the bar to <paramref name="value"/>; optionally replaces its description (e.g. "loss 0.31").</summary>
    public void Update(double value, string? description = null, double? total = null)
    {
        if (total is > 0)
        {
            Total = total.Value;
            if (_task is not null) _task.MaxValue = total.Value;
        }
        Value = Math.Clamp(value, 0, Total);
        if (description is not null) Description = description;
        if (_task is not null)
        {
            _task.Value = Value;
            if (description is not null) _task.Description = Markup.Escape(description);
            return;
        }
        var decile = (int)Math.Floor(10 * Value / Total);
        if (decile > _lastDecile && decile < 10)
        {
            _lastDecile = decile;
            _board.WritePlain(string.Create(CultureInfo.InvariantCulture, $"{Description}: {100 * Value / Total:0}%"));
        }
    }

    /// <summary>Fills the bar and stops it.</summary>
    public void Complete(string? description = null)
    {
        if (_completed) return;
        _completed = true;
        if (description is not null) Description = description;
        if (_task is not null)
        {
            if (description is not null) _task.Description = Markup.Escape(description);
            _task.Value = _task.MaxValue;
            _task.StopTask();
            return;
        }
        _board.WritePlain($"{Description}: done");
    }
}
