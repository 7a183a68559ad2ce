using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts.Hosting;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Grains.Sweeps;
using Orchestrator.Silo.Hosting;
using Orchestrator.Silo.Training;
using Orchestrator.TestServers;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// A silo asked to stop drains before its HTTP server stops: while its trial is being handed back, /health/ready
/// answers 503 (the Service stops sending it work) and /health/live 200 (a liveness probe does not kill it mid-drain).
/// The trial is held mid-drain by the runner, so the probes see the drain however quick a real one would be.
/// </summary>
public sealed class DrainProbeTests : IAsyncLifetime
{
    private readonly string _dataDir = SweepCluster.NewDataDir();
    private readonly HeldTrialRunner _runner = new();
    private readonly int _httpPort = FreePort.Next();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private Microsoft.AspNetCore.Builder.WebApplication _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = SiloHost.Build(new SiloHostOptions
        {
            DataDir = _dataDir, Slots = 1, ServiceId = $"drain-probe-{Guid.NewGuid():N}",
            HttpPort = _httpPort, SiloPort = FreePort.Next(), GatewayPort = FreePort.Next(), ShutdownTimeout = TimeSpan.FromSeconds(60),
        }, services => services.AddSingleton<ITrialRunner>(_runner));
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _runner.MayFinish.TrySetResult();
        await _silo.DisposeAsync();
        _http.Dispose();
        SweepCluster.TryDelete(_dataDir);
    }

    private async Task<HttpStatusCode?> ProbeAsync(string path)
    {
        try
        {
            using var response = await _http.GetAsync($"http://127.0.0.1:{_httpPort}{path}");
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    [Fact]
    public async Task While_a_silo_drains_its_trial_readiness_answers_503_and_liveness_200()
    {
        var sweep = _silo.Services.GetRequiredService<IClusterClient>().GetGrain<ISweepGrain>("drain-probe");
        var submitted = await sweep.SubmitAsync(string.Join('\n',
            "name: drain-probe", "task: { model: mlp, dataset: mnist }", "metric: { name: train_loss, goal: minimize }",
            "method: grid", "parameters:", "  seed: { values: [0] }", ""), "drain-probe.yaml");
        Assert.True(submitted.Accepted, submitted.Message);
        await _runner.Started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, await ProbeAsync(SiloEndpoints.ReadyPath));
        Assert.Equal(HttpStatusCode.OK, await ProbeAsync(SiloEndpoints.LivePath));

        var stopping = _silo.StopAsync();
        await _runner.Released.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ProbeAsync(SiloEndpoints.ReadyPath));
        Assert.Equal(HttpStatusCode.OK, await ProbeAsync(SiloEndpoints.LivePath));
        Assert.False(stopping.IsCompleted, "the silo stopped before its trial was handed back");

        _runner.MayFinish.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(await ProbeAsync(SiloEndpoints.LivePath)); // stopped: nothing listens any more
    }

    /// <summary>Stands in for TorchSharp only: a trial that trains until told to stop, then holds its hand-back until allowed.</summary>
    private sealed class HeldTrialRunner : ITrialRunner
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource MayFinish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TrainingOutcome Run(TrialLease lease, TrialWorkspace workspace, ITrainingObserver observer, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMinutes(2));
            Released.TrySetResult();
            MayFinish.Task.Wait(TimeSpan.FromMinutes(2));
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidOperationException("the held trial was never told to stop");
        }
    }
}
