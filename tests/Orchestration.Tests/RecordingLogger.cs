using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Orchestration.Tests;

/// <summary>A logger that keeps what it is told, so a test can wait for the line that marks an event.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _awaited = [];
    private readonly Lock _lock = new();

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Completes once a line containing <paramref name="text"/> is logged (or was already).</summary>
    public async Task WhenLoggedAsync(string text, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_lines.Any(l => l.Contains(text, StringComparison.Ordinal))) return;
            _awaited.Add((text, seen));
        }
        try { await seen.Task.WaitAsync(timeout); }
        catch (TimeoutException) { Assert.Fail($"no log line with \"{text}\" within {timeout.TotalSeconds:0} s; logged: {string.Join(" | ", _lines)}"); }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = formatter(state, exception);
        lock (_lock)
        {
            _lines.Enqueue(line);
            foreach (var (text, seen) in _awaited.Where(a => line.Contains(a.Text, StringComparison.Ordinal))) seen.TrySetResult();
        }
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
}
