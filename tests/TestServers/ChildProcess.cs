using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Orchestrator.TestServers;

/// <summary>
/// A server process started for a test. Its stdout and stderr go to a log file (appended, so a restart keeps the
/// earlier output); stopping asks politely (SIGTERM) and then kills the whole tree. Children still alive when the
/// test host exits are killed too, so a failed run leaves no server behind.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Live.Values)
            {
                try { process.Kill(entireProcessTree: true); } catch { /* already gone */ }
            }
        };
    }

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();

    private ChildProcess(Process process, StreamWriter log, string logPath, string description)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
        Description = description;
    }

    public string LogPath { get; }

    /// <summary>The command line, for error messages.</summary>
    public string Description { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <param name="environment">Variables set for the child on top of the test host's own (secrets go here, never in arguments, which the log records).</param>
    public static ChildProcess Start(string fileName, IReadOnlyList<string> arguments, string logPath, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // so the child never reads the test runner's stdin
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(logPath)!,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var description = $"{fileName} {string.Join(' ', arguments)}";
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), Encoding.UTF8) { AutoFlush = true };
        log.WriteLine($"--- {DateTimeOffset.UtcNow:O} starting: {description}");

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(process, log, logPath, description);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e)
        {
            log.Dispose();
            process.Dispose();
            throw new InvalidOperationException($"Could not start '{description}': {e.Message}", e);
        }

        Live[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Polls until <paramref name="probe"/> answers true. Throws, with the tail of the log, when the process exits
    /// first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> probe, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        Exception? lastError = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(CancellationToken.None); // drain the output into the log
                throw new InvalidOperationException(
                    $"'{Description}' exited with code {_process.ExitCode} before it was ready.\n{LogTail()}");
            }

            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                try
                {
                    if (await probe(attempt.Token))
                    {
                        return;
                    }
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    lastError = e;
                }
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"'{Description}' was not ready within {timeout.TotalSeconds:0} s" +
                    (lastError is null ? "" : $" (last probe error: {lastError.GetType().Name}: {lastError.Message})") +
                    $".\n{LogTail()}");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>Waits for the process to exit by itself; false when it still runs after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, then a kill of the whole tree if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited && grace > TimeSpan.Zero)
        {
            _ = SendSignal(_process.Id, Sigterm);
            using var wait = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Did not stop in time: kill below.
            }
        }

        await KillAsync();
    }

    /// <summary>Kills the whole tree at once, like a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        await _process.WaitForExitAsync(CancellationToken.None);
        Live.TryRemove(_process.Id, out _);
        lock (_logLock)
        {
            _log.WriteLine($"--- {DateTimeOffset.UtcNow:O} exited with code {_process.ExitCode}");
        }
    }

    /// <summary>The last lines of the log file, for exception messages.</summary>
    public string LogTail(int maxLines = 40) => ReadLogTail(LogPath, maxLines);

    public static string ReadLogTail(string logPath, int maxLines = 40)
    {
        try
        {
            using var stream = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var lines = new Queue<string>();
            while (reader.ReadLine() is { } line)
            {
                lines.Enqueue(line);
                if (lines.Count > maxLines)
                {
                    lines.Dequeue();
                }
            }

            return $"--- last {lines.Count} lines of {logPath}:\n{string.Join('\n', lines)}";
        }
        catch (IOException e)
        {
            return $"--- could not read {logPath}: {e.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        lock (_logLock)
        {
            _log.Dispose();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after dispose is dropped.
            }
        }
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
