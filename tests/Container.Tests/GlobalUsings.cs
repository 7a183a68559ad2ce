global using Cli = Orchestrator.TestServers.OrchestratorCli;
global using CliResult = Orchestrator.TestServers.CliResult;
global using Orchestrator.TestServers;
