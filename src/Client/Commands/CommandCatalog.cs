using System.CommandLine;

namespace Orchestrator.Client.Commands;

/// <summary>Every verb of `./orchestrator`, in the order `--help` lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return new VersionCommand();
        yield return new Local.ValidateCommand();
        yield return new Local.LoraCommand();
        yield return new Local.TrainCommand();
        yield return new Local.EvalCommand();
        yield return new Local.GenerateCommand();
        yield return new Local.EstimateCommand();
        yield return new Local.ModelsCommand();
        yield return new Local.DataCommand();
        yield return new Cluster.RunCommand();
        yield return new Cluster.SubmitCommand();
        yield return new Cluster.StatusCommand();
        yield return new Cluster.WatchCommand();
        yield return new Cluster.TrialsCommand();
        yield return new Cluster.SweepControlCommand(SweepCommand.Pause);
        yield return new Cluster.SweepControlCommand(SweepCommand.Resume);
        yield return new Cluster.SweepControlCommand(SweepCommand.Cancel);
        yield return new Cluster.WorkersCommand();
        yield return new Cluster.DashboardCommand();
        yield return new Cluster.LeaderboardCommand();
        yield return new Cluster.ReportCommand();
        yield return new Cluster.AdapterCommand();
        yield return new Cluster.ReproduceCommand();
        yield return new Cluster.SiloCommand();
        yield return new Local.CertsCommand();
        yield return new Local.BenchCommand(new Cluster.BenchOrchestratorCommand(), new Local.BenchEarlyStoppingCommand(), new Local.BenchSearchCommand());
    }
}
