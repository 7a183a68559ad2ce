global using Cli = Orchestrator.TestServers.OrchestratorCli;
global using CliResult = Orchestrator.TestServers.CliResult;
global using Orchestrator.Reliability.Tests;
global using Orchestrator.Silo.Security;
global using Orchestrator.TestServers;
