// The container entrypoint: `dotnet Orchestrator.Silo.dll`, options from ORCHESTRATOR_* variables.
Console.WriteLine("Orchestrator silo: not wired yet");
return 0;
