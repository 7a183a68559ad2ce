using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Contracts.Workers;
using Orchestrator.Dashboard.Api;
using Orchestrator.Dashboard.Feeds;
using Orchestrator.Dashboard.Security;
using Orchestrator.Storage;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Dashboard;

/// <summary>
/// The dashboard on an ASP.NET Core host that has an <see cref="IClusterClient"/> and an <see cref="IArtifactStore"/>
/// (a silo, or the CLI's `dashboard` verb): the pages at `/`, their files under `/static/`, the JSON API under
/// `/api/`, and `/api/sweeps/{name}/events` (server-sent events). Everything reads; only pause/resume/cancel write.
/// With a token (<see cref="DashboardToken"/>) every `/api/` call needs it; without one the API reads freely and
/// refuses to write. The pages and their files under `/static/` hold no data and need no token.
/// </summary>
public static class DashboardEndpoints
{
    public static IServiceCollection AddDashboard(this IServiceCollection services, DashboardOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<SweepFeeds>();
        return services;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<DashboardOptions>();
        if (Directory.Exists(options.AssetsDirectory))
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = new PhysicalFileProvider(options.AssetsDirectory),
                RequestPath = "/static",
                OnPrepareResponse = c => Protect(c.Context.Response),
            });
        app.MapGet("/", (HttpResponse response) =>
        {
            var index = Path.Combine(options.AssetsDirectory, "index.html");
            if (!File.Exists(index))
                return Error(500, $"the dashboard's pages are missing from {options.AssetsDirectory}; rebuild after scripts/setup.sh");
            Protect(response);
            return Results.File(index, "text/html; charset=utf-8");
        });

        var api = app.MapGroup("/api");
        // First, so nothing below (not even a 503 that names the cluster's trouble) answers a caller without the token.
        api.AddEndpointFilter(async (context, next) => DashboardToken.MayRead(context.HttpContext.Request, options.Token)
            ? await next(context)
            : Unauthorized(context.HttpContext.Response, "this dashboard needs its token: send 'Authorization: Bearer TOKEN'"));
        // A silo that is gone or restarting is the cluster's state, not a bug of the page: one line of JSON, no stack trace.
        api.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                return Error(503, $"the cluster did not answer: {e.Message.Split('\n')[0]}");
            }
        });
        api.MapGet("/sweeps", SweepsAsync);
        api.MapGet("/sweeps/{name}", SweepAsync);
        api.MapGet("/sweeps/{name}/trials", TrialsAsync);
        api.MapGet("/sweeps/{name}/analysis", AnalysisAsync);
        api.MapGet("/sweeps/{name}/curves", CurvesAsync);
        api.MapGet("/sweeps/{name}/pareto", ParetoAsync);
        api.MapGet("/sweeps/{name}/events", Events);
        api.MapGet("/sweeps/{name}/trials/{trial}", TrialAsync);
        api.MapGet("/sweeps/{name}/trials/{trial}/files/{**path}", DownloadAsync);
        // Plain routes rather than a regex constraint: the slim host (CreateSlimBuilder) has no regex route constraints.
        foreach (var command in Enum.GetValues<SweepCommand>())
            api.MapPost($"/sweeps/{{name}}/{command.ToString().ToLowerInvariant()}",
                (string name, HttpRequest request, DashboardOptions options, SweepFeeds feeds, IClusterClient client, CancellationToken cancellationToken) =>
                    ControlAsync(name, command, request, options, feeds, client, cancellationToken));
        api.MapGet("/workers", WorkersAsync);
        api.MapGet("/leaderboards", LeaderboardsAsync);
        api.MapGet("/leaderboards/global", GlobalLeaderboardAsync);
        api.MapGet("/settings", () => Json(new { mutable = !string.IsNullOrEmpty(options.Token) }));
        app.WarnAtStartIfOpen(options);
        return app;
    }

    /// <summary>Scripts only from this server (no inline script runs, whatever a value contains); ECharts writes inline styles for its tooltips.</summary>
    private static void Protect(HttpResponse response)
    {
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy =
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'";
    }

    private static IResult Json<T>(T value, int status = 200) => Results.Json(value, DashboardJson.Options, statusCode: status);

    private static IResult Error(int status, string message) => Json(new { error = message }, status);

    private static IResult Unauthorized(HttpResponse response, string message)
    {
        response.Headers.WWWAuthenticate = "Bearer";
        return Error(401, message);
    }

    private static async Task<IResult> SweepsAsync(IClusterClient client, CancellationToken cancellationToken)
    {
        var names = await client.GetGrain<ISchedulerGrain>(0).GetSweepsAsync(true, cancellationToken);
        var workers = await WorkerInfosAsync(client, cancellationToken);
        var sweeps = new List<object>();
        foreach (var name in names)
        {
            var status = await client.GetGrain<ISweepGrain>(name).GetStatusAsync(cancellationToken);
            sweeps.Add(new { status, workers = workers.Count(w => w.Sweep == name && w.TrialId is not null) });
        }
        return Json(sweeps);
    }

    /// <summary>The sweep's feed, or why there is none (a bad name, an unknown sweep).</summary>
    private static async Task<(SweepFeed? Feed, SweepSnapshot? Snapshot, IResult? Problem)> FindAsync(SweepFeeds feeds, string name, CancellationToken cancellationToken)
    {
        if (SweepName.Check(name) is { } problem) return (null, null, Error(400, problem));
        var feed = feeds[name];
        var snapshot = await feed.GetAsync(cancellationToken);
        return snapshot.Status.State == SweepState.NotFound ? (null, null, Error(404, $"no sweep named '{name}'")) : (feed, snapshot, null);
    }

    private static async Task<IResult> SweepAsync(string name, SweepFeeds feeds, IClusterClient client, CancellationToken cancellationToken)
    {
        var (_, snapshot, problem) = await FindAsync(feeds, name, cancellationToken);
        if (problem is not null) return problem;
        var spec = await client.GetGrain<ISweepGrain>(name).GetSpecAsync(cancellationToken);
        return Json(new
        {
            status = snapshot!.Status,
            spec = spec is null ? null : new { spec.Model, spec.Dataset, spec.Metric, spec.Maximize, spec.FileName },
            parameters = snapshot.Trials.SelectMany(t => t.Parameters.Keys).Distinct().ToList(),
            metrics = snapshot.Trials.SelectMany(t => t.Metrics.Keys).Distinct().Order(StringComparer.Ordinal).ToList(),
            fields = LeaderboardFilter.BuiltInFields,
        });
    }

    private static async Task<IResult> TrialsAsync(string name, SweepFeeds feeds, string? where, string? sort, bool? desc, int? offset, int? limit, CancellationToken cancellationToken)
    {
        var (_, snapshot, problem) = await FindAsync(feeds, name, cancellationToken);
        if (problem is not null) return problem;
        try
        {
            return Json(TrialTable.Query(snapshot!.Trials, snapshot.Status.Objective, where, sort, desc ?? false, offset ?? 0, limit ?? 50));
        }
        catch (FilterSyntaxException e)
        {
            return Error(400, e.Message);
        }
    }

    private static async Task<IResult> AnalysisAsync(string name, SweepFeeds feeds, CancellationToken cancellationToken)
    {
        var (feed, snapshot, problem) = await FindAsync(feeds, name, cancellationToken);
        return problem ?? Json(feed!.GetAnalysis(snapshot!));
    }

    private static async Task<IResult> ParetoAsync(string name, string? x, string? y, SweepFeeds feeds, IClusterClient client, CancellationToken cancellationToken)
    {
        var (_, snapshot, problem) = await FindAsync(feeds, name, cancellationToken);
        if (problem is not null) return problem;
        var spec = await client.GetGrain<ISweepGrain>(name).GetSpecAsync(cancellationToken);
        try
        {
            return Json(ParetoViews.Of(spec, snapshot!.Status.Objective, snapshot.Trials, x, y));
        }
        catch (ArgumentException e)
        {
            return Error(400, e.Message);
        }
    }

    private static async Task<IResult> CurvesAsync(string name, string? ids, SweepFeeds feeds, CancellationToken cancellationToken)
    {
        var (feed, _, problem) = await FindAsync(feeds, name, cancellationToken);
        if (problem is not null) return problem;
        var wanted = (ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(20).ToList();
        return Json(await feed!.GetCurvesAsync(wanted, cancellationToken));
    }

    private static IResult Events(string name, SweepFeeds feeds, HttpContext context, IHostApplicationLifetime lifetime) =>
        SweepName.Check(name) is { } problem ? Error(400, problem) : TypedResults.ServerSentEvents(EventsAsync(feeds[name], context.RequestAborted, lifetime.ApplicationStopping), "update");

    /// <param name="stopping">Ends the stream when the process stops: an open page must not hold up the exit of a
    /// `run` whose sweep ended (the web host waits for open requests), and it gets that ending first.</param>
    private static async IAsyncEnumerable<string> EventsAsync(SweepFeed feed, [EnumeratorCancellation] CancellationToken aborted, CancellationToken stopping)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        var (updates, subscription) = await feed.SubscribeAsync(ended.Token);
        using (subscription)
        {
            while (!ended.IsCancellationRequested)
            {
                SweepUpdate? update = null;
                try
                {
                    if (!await updates.WaitToReadAsync(ended.Token)) yield break;
                    updates.TryRead(out update);
                }
                catch (OperationCanceledException)
                {
                }
                if (update is not null) yield return Event(update);
            }
            if (aborted.IsCancellationRequested) yield break;
            await feed.RefreshNowAsync(TimeSpan.FromSeconds(5));
            while (updates.TryRead(out var last)) yield return Event(last);
        }
    }

    private static string Event(SweepUpdate update) => JsonSerializer.Serialize(new
    {
        update.Status,
        trials = update.Trials.Select(t => TrialTable.Row(t, t.Metric(update.Status.Metric))),
        update.Truncated,
    }, DashboardJson.Options);

    private static async Task<IResult> TrialAsync(string name, string trial, IClusterClient client, IArtifactStore store, SweepFeeds feeds, CancellationToken cancellationToken)
    {
        if (SweepName.Check(name) is { } problem) return Error(400, problem);
        if (!ArtifactPaths.IsValidName(trial)) return Error(400, $"'{trial}' is not a trial id");
        var detail = await client.GetGrain<ISweepGrain>(name).GetTrialAsync(trial, cancellationToken);
        if (detail is null) return Error(404, $"sweep '{name}' has no trial '{trial}'");
        var status = await client.GetGrain<ISweepGrain>(name).GetStatusAsync(cancellationToken);
        var t = detail.Trial;
        // A finished trial's whole curve is its metrics.jsonl; the grain keeps only what it heard since it activated.
        var history = t.State is TrialState.Running or TrialState.Queued ? detail.History
            : (await feeds[name].GetCurvesAsync([trial], cancellationToken)).GetValueOrDefault(trial) ?? detail.History;
        return Json(new
        {
            row = TrialTable.Row(t, t.Metric(status.Metric)),
            metric = status.Metric,
            config = ShownConfig(t),
            t.TrainableParameters,
            t.TotalParameters,
            t.ElapsedSeconds,
            t.AdapterSha256,
            attempts = detail.Attempts.Select(a => new { a.Number, a.Worker, a.Silo, a.StartedAt, a.EndedAt, a.Outcome, a.Error }),
            history,
            checkpoints = detail.Checkpoints,
            files = await TrialFiles.ListAsync(store, name, trial, cancellationToken),
        });
    }

    /// <summary>
    /// A trial's settings as the page shows them: a full fine-tuning or frozen-base trial leaves out the options that
    /// only shape a LoRA adapter (rank, alpha, target_modules, ...), whose defaults it carries but never used.
    /// </summary>
    private static Dictionary<string, string> ShownConfig(TrialRecord t) =>
        t.Config.Where(p => t.Kind == TrialKind.Lora || p.Key == "adapter"
                || !(TrainingOptions.TryGet(p.Key, out var option) && option.LoraOnly))
            .ToDictionary(p => p.Key, p => p.Value.ToString());

    private static async Task<IResult> DownloadAsync(string name, string trial, string path, IArtifactStore store, CancellationToken cancellationToken)
    {
        if (SweepName.Check(name) is { } problem) return Error(400, problem);
        if (!ArtifactPaths.IsValidName(trial)) return Error(400, $"'{trial}' is not a trial id");
        try
        {
            var stream = await store.OpenReadAsync(ArtifactPaths.Trial(name, trial) + path, null, cancellationToken);
            if (!new FileExtensionContentTypeProvider().TryGetContentType(path, out var type)) type = "application/octet-stream";
            return Results.Stream(stream, type, fileDownloadName: path.Split('/')[^1]);
        }
        catch (InvalidArtifactNameException e)
        {
            return Error(400, e.Message);
        }
        catch (ArtifactNotFoundException)
        {
            return Error(404, $"trial '{trial}' of sweep '{name}' has no file '{path}'");
        }
    }

    private static async Task<IResult> ControlAsync(string name, SweepCommand command, HttpRequest request, DashboardOptions options, SweepFeeds feeds, IClusterClient client, CancellationToken cancellationToken)
    {
        switch (DashboardToken.Check(request, options.Token))
        {
            case DashboardToken.Verdict.ReadOnly:
                return Error(403, "this dashboard is read-only: start it with --dashboard-token (or " + DashboardOptions.TokenVariable + ") to pause, resume or cancel");
            case DashboardToken.Verdict.Unauthorized: // the group's filter answers first; kept so this rule stands on its own
                return Unauthorized(request.HttpContext.Response, "pause, resume and cancel need 'Authorization: Bearer TOKEN' with the dashboard's token");
        }
        var (_, _, problem) = await FindAsync(feeds, name, cancellationToken);
        if (problem is not null) return problem;
        return Json(await client.GetGrain<ISweepGrain>(name).ControlAsync(command, cancellationToken));
    }

    /// <summary>The global leaderboards there are: one per model, dataset and metric of the known sweeps.</summary>
    private static async Task<IResult> LeaderboardsAsync(IClusterClient client, CancellationToken cancellationToken)
    {
        var names = await client.GetGrain<ISchedulerGrain>(0).GetSweepsAsync(true, cancellationToken);
        var boards = new List<(string Model, string Dataset, string Metric, string Sweep)>();
        foreach (var name in names)
            if (await client.GetGrain<ISweepGrain>(name).GetSpecAsync(cancellationToken) is { } spec)
                boards.Add((spec.Model, spec.Dataset, spec.Metric, name));
        return Json(boards.GroupBy(b => (b.Model, b.Dataset, b.Metric)).OrderBy(g => g.Key.Model).ThenBy(g => g.Key.Dataset).ThenBy(g => g.Key.Metric)
            .Select(g => new { model = g.Key.Model, dataset = g.Key.Dataset, metric = g.Key.Metric, sweeps = g.Select(b => b.Sweep).Order(StringComparer.Ordinal).ToList() }));
    }

    /// <summary>`leaderboard --global`: every recorded trial of a model, dataset and metric, across sweeps, best first.</summary>
    private static async Task<IResult> GlobalLeaderboardAsync(string? model, string? dataset, string? metric, int? top, IClusterClient client, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(model) || string.IsNullOrEmpty(dataset))
            return Error(400, "the global leaderboard needs ?model=M&dataset=D (and optionally &metric=, default test_accuracy)");
        var entries = await client.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.GlobalKey(model, dataset, metric ?? "test_accuracy")).GetAsync(top ?? 0, cancellationToken);
        return Json(entries.Select(e => new { e.Trial.Sweep, row = TrialTable.Row(e.Trial, e.Score), e.Objective, e.RecordedAt }));
    }

    private static async Task<IResult> WorkersAsync(IClusterClient client, CancellationToken cancellationToken) =>
        Json(await WorkerInfosAsync(client, cancellationToken));

    private static async Task<List<WorkerInfo>> WorkerInfosAsync(IClusterClient client, CancellationToken cancellationToken)
    {
        var ids = await client.GetGrain<ISchedulerGrain>(0).GetWorkerIdsAsync(cancellationToken);
        var infos = new List<WorkerInfo>();
        foreach (var id in ids)
            if (await client.GetGrain<IWorkerGrain>(id).GetInfoAsync(cancellationToken) is { } info) infos.Add(info);
        return infos;
    }
}
