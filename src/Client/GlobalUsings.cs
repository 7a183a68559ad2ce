global using Orleans;
global using Orchestrator.Contracts.Sweeps;
