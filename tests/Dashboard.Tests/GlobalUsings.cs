global using Orleans;
global using Orchestrator.Contracts.Sweeps;
global using Orchestrator.Contracts.Trials;
