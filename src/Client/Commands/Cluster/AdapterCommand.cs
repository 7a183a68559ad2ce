using System.CommandLine;
using Orchestrator.Client.Output;
using Orchestrator.Storage;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `adapter download TRIAL -o DIR`: a trial's PEFT adapter folder, ready for `PeftModel.from_pretrained`;
/// `adapter merge --model DIR --adapter DIR -o OUT`: the adapter merged into its base (local, <see cref="Local.AdapterMergeCommand"/>).
/// </summary>
public sealed class AdapterCommand : Command
{
    public AdapterCommand() : base("adapter", "Trained adapters.")
    {
        Subcommands.Add(new DownloadCommand());
        Subcommands.Add(new Local.AdapterMergeCommand());
    }

    private sealed class DownloadCommand : ClusterCommand
    {
        private static readonly Argument<string> TrialArgument = new("trial") { Description = "Trial id (see `trials SWEEP`)." };
        private static readonly Option<DirectoryInfo> OutOption = new("--out", "-o") { Description = "Folder to write the adapter into.", Required = true };
        private static readonly Option<string?> SweepOption = new("--sweep") { Description = "The trial's sweep (found automatically when omitted)." };

        public DownloadCommand() : base("download", "Download a trial's adapter (adapter_model.safetensors + adapter_config.json), checksums verified.")
        {
            Arguments.Add(TrialArgument);
            Options.Add(OutOption);
            Options.Add(SweepOption);
            Options.Add(ConsoleOutput.JsonOption);
        }

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
        {
            var output = ConsoleOutput.Create(parseResult);
            var trial = parseResult.GetValue(TrialArgument)!;
            if (!ArtifactPaths.IsValidName(trial))
                throw new UserInputException($"'{trial}' is not a trial id (ids look like t0123456789ab)", ExitCodes.InvalidInput);
            var outDir = parseResult.GetValue(OutOption)!.FullName;
            var named = parseResult.GetValue(SweepOption) is { } given ? CheckSweepName(given) : null;
            await using var session = await ConnectAsync(parseResult, cancellationToken);
            var sweeps = named is { } s ? [s]
                : await session.Client.GetGrain<ISchedulerGrain>(0).GetSweepsAsync(true, cancellationToken);
            foreach (var sweep in sweeps)
            {
                var trials = await session.Client.GetGrain<ISweepGrain>(sweep).GetTrialsAsync(cancellationToken);
                if (trials.FirstOrDefault(t => t.TrialId == trial) is not { } view) continue;
                if (view.AdapterSha256 is null)
                    throw new UserInputException($"trial {trial} of {sweep} has no adapter ({view.Kind}, {view.State.ToString().ToLowerInvariant()})", ExitCodes.NotFound);
                var sha = await DownloadVerifiedAsync(session.Store, sweep, trial, view.AdapterSha256, outDir, cancellationToken);
                if (output.IsJson) output.Json(new { sweep, trial, directory = outDir, sha256 = sha });
                else output.Line($"{trial} ({sweep}) → {outDir} (sha256 {sha[..12]}… verified)");
                return ExitCodes.Success;
            }
            throw new UserInputException($"no trial '{trial}' in {(sweeps.Count == 0 ? "any sweep" : string.Join(", ", sweeps))}", ExitCodes.NotFound);
        }

        /// <summary>
        /// Downloads into a staging folder beside the target, checks the weights against the sha256 the trial's result
        /// recorded, and only then moves the files in: a corrupt adapter leaves nothing behind. Returns the sha256.
        /// </summary>
        private static async Task<string> DownloadVerifiedAsync(IArtifactStore store, string sweep, string trial, string expectedSha256,
            string outDir, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(outDir);
            var staging = Path.Combine(outDir, $".download-{Guid.NewGuid():N}");
            try
            {
                try
                {
                    await store.DownloadDirectoryAsync(ArtifactPaths.TrialAdapter(sweep, trial), staging, cancellationToken);
                }
                catch (ArtifactCorruptException e)
                {
                    throw new UserInputException($"the adapter of {trial} is corrupt in storage: {e.Message}", ExitCodes.Failed);
                }
                var staged = Path.Combine(staging, ArtifactPaths.AdapterWeightsFile);
                if (!File.Exists(staged))
                    throw new UserInputException($"trial {trial} of {sweep} lists an adapter but storage holds no {ArtifactPaths.AdapterWeightsFile}", ExitCodes.NotFound);
                var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(staged, cancellationToken)));
                if (sha != expectedSha256)
                    throw new UserInputException($"the adapter of {trial} is corrupt: {ArtifactPaths.AdapterWeightsFile} has sha256 {sha}, its result recorded {expectedSha256}; nothing was written to {outDir}", ExitCodes.Failed);
                foreach (var file in Directory.GetFiles(staging))
                    File.Move(file, Path.Combine(outDir, Path.GetFileName(file)), overwrite: true);
                foreach (var folder in Directory.GetDirectories(staging))
                {
                    var target = Path.Combine(outDir, Path.GetFileName(folder));
                    if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
                    Directory.Move(folder, target);
                }
                return sha;
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            }
        }
    }
}
