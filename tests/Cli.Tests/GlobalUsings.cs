// The CLI runner and its result type are shared with the reliability suite (tests/TestServers/OrchestratorCli.cs).
global using CliProcess = Orchestrator.TestServers.OrchestratorCli;
global using CliResult = Orchestrator.TestServers.CliResult;
