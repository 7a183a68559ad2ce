// The CLI runner and its result type are shared with the CLI tests (tests/TestServers/OrchestratorCli.cs).
global using Cli = Orchestrator.TestServers.OrchestratorCli;
global using CliResult = Orchestrator.TestServers.CliResult;
global using Orchestrator.TestServers;
