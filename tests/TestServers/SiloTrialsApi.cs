using System.Text.Json;

namespace Orchestrator.TestServers;

/// <summary>
/// A sweep's trials read from a silo's HTTP API (<c>GET /api/sweeps/NAME/trials</c>, the dashboard's table), as rows of
/// <c>trials --json</c>. The waits of process-cluster tests poll this instead of a CLI process per poll: a CLI run costs
/// about 1.7 CPU-seconds (runtime start, JIT, an Orleans client joining the cluster), and at four polls a second the
/// polling took a third of a 2-core machine from the silos it was watching. The CLI still answers every assertion
/// after the wait. Any live silo answers; one that is down, restarting or without the cluster is skipped.
/// </summary>
public sealed class SiloTrialsApi(Func<IEnumerable<Uri>> silos) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>One poll for <see cref="ProgressWait"/>: the rows from the first silo that answers, or why none did.</summary>
    public Task<ProgressWait.Poll<IReadOnlyList<TrialRow>>> PollAsync(string sweep) =>
        PollAsync<IReadOnlyList<TrialRow>>($"api/sweeps/{Uri.EscapeDataString(sweep)}/trials?limit=500", body =>
        {
            var page = JsonSerializer.Deserialize<Page>(body, Json) ?? throw new InvalidOperationException("an empty answer");
            var rows = page.Rows.Select(r => new TrialRow(r.Id, r.Kind, r.State, r.Attempts, r.Worker, r.Step, r.TotalSteps, r.Error) { Pack = r.Pack }).ToList();
            return (rows, string.Join("; ", rows.Select(t => t.ToString())));
        });

    /// <summary>
    /// One poll of <c>GET <paramref name="path"/></c> (relative to a silo's root) for <see cref="ProgressWait"/>: the first
    /// live silo that answers, its body read by <paramref name="read"/> (the value and its fingerprint), or why none did.
    /// </summary>
    public async Task<ProgressWait.Poll<T>> PollAsync<T>(string path, Func<string, (T Value, string Fingerprint)> read) where T : class
    {
        var failures = new List<string>();
        foreach (var silo in silos())
        {
            try
            {
                using var response = await _http.GetAsync(new Uri(silo, path));
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    failures.Add($"{silo}: {(int)response.StatusCode} {body}");
                    continue;
                }
                var (value, fingerprint) = read(body);
                return new(value, fingerprint);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                failures.Add($"{silo}: {e.GetType().Name}: {e.Message}");
            }
        }
        return new(null, "no silo answered: " + string.Join("; ", failures));
    }

    public void Dispose() => _http.Dispose();

    /// <summary>How the silos' API writes JSON: the web defaults (camelCase).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record Page(int Total, IReadOnlyList<Row> Rows);

    private sealed record Row(string Id, string Kind, string State, int Attempts, string? Worker, long Step, long TotalSteps, string? Error, string? Pack);
}
