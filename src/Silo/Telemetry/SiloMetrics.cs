using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Orchestrator.Silo.Telemetry;

/// <summary>
/// The silo's own instruments (meter `Orchestrator.Silo`, exported through OpenTelemetry) and the same values in
/// Prometheus text format for `/metrics`.
/// </summary>
public sealed class SiloMetrics : IDisposable
{
    public const string MeterName = "Orchestrator.Silo";
    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _started;
    private readonly Counter<long> _finished;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _steps;
    private readonly Counter<long> _basesPretrained;
    private readonly Counter<long> _basesDownloaded;
    private long _startedCount, _finishedCount, _failedCount, _stepCount, _running, _basesPretrainedCount, _basesDownloadedCount;

    public SiloMetrics()
    {
        _started = _meter.CreateCounter<long>("orchestrator.trials.started");
        _finished = _meter.CreateCounter<long>("orchestrator.trials.finished");
        _failed = _meter.CreateCounter<long>("orchestrator.trials.failed");
        _steps = _meter.CreateCounter<long>("orchestrator.training.steps", description: "Optimizer steps of finished trials (rate = steps/s)");
        _basesPretrained = _meter.CreateCounter<long>("orchestrator.bases.pretrained", description: "Base models pretrained on this silo");
        _basesDownloaded = _meter.CreateCounter<long>("orchestrator.bases.downloaded", description: "Base models taken from the artifact store instead");
        _meter.CreateObservableGauge("orchestrator.trials.running", () => Interlocked.Read(ref _running));
    }

    public void TrialStarted() { _started.Add(1); Interlocked.Increment(ref _startedCount); Interlocked.Increment(ref _running); }
    public void TrialFinished(long steps)
    {
        _finished.Add(1); _steps.Add(steps);
        Interlocked.Increment(ref _finishedCount); Interlocked.Add(ref _stepCount, steps); Interlocked.Decrement(ref _running);
    }
    public void TrialFailed() { _failed.Add(1); Interlocked.Increment(ref _failedCount); Interlocked.Decrement(ref _running); }

    public void BasePretrained() { _basesPretrained.Add(1); Interlocked.Increment(ref _basesPretrainedCount); }
    public void BaseDownloaded() { _basesDownloaded.Add(1); Interlocked.Increment(ref _basesDownloadedCount); }

    public long TrialsFinished => Interlocked.Read(ref _finishedCount);
    public long BasesPretrained => Interlocked.Read(ref _basesPretrainedCount);
    public long BasesDownloaded => Interlocked.Read(ref _basesDownloadedCount);

    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        void Line(string name, string type, long value)
        {
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            text.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        Line("orchestrator_trials_started_total", "counter", Interlocked.Read(ref _startedCount));
        Line("orchestrator_trials_finished_total", "counter", Interlocked.Read(ref _finishedCount));
        Line("orchestrator_trials_failed_total", "counter", Interlocked.Read(ref _failedCount));
        Line("orchestrator_training_steps_total", "counter", Interlocked.Read(ref _stepCount));
        Line("orchestrator_trials_running", "gauge", Interlocked.Read(ref _running));
        Line("orchestrator_bases_pretrained_total", "counter", BasesPretrained);
        Line("orchestrator_bases_downloaded_total", "counter", BasesDownloaded);
        return text.ToString();
    }

    public void Dispose() => _meter.Dispose();
}
