using System.CommandLine;
using System.Text.Json;
using Orchestrator.Client.Commands;
using Orchestrator.Client.Output;

namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>
/// Every verb's <c>--json</c> (and <c>--format json|csv</c>) output is exactly its document on stdout: notes, warnings
/// and the embedded silo's log, at Debug here, go to stderr. The verbs come from the command catalog, so a new one is
/// run here too, or fails by name until <see cref="MachineOutputInvocations"/> says how.
/// </summary>
public sealed class MachineOutputTests(FinishedSweep sweep) : IClassFixture<FinishedSweep>
{
    /// <summary>Every verb (as typed: `adapter download`) with <c>--json</c> or <c>--format</c>.</summary>
    public static TheoryData<string> VerbsWithMachineOutput()
    {
        var verbs = new TheoryData<string>();
        foreach (var verb in Leaves(CommandCatalog.All(), "")
                     .Where(c => c.Command.Options.Any(o => o == ConsoleOutput.JsonOption || o.Name == "--format")))
            verbs.Add(verb.Path);
        return verbs;
    }

    private static IEnumerable<(string Path, Command Command)> Leaves(IEnumerable<Command> commands, string parent) =>
        commands.SelectMany(c => c.Subcommands.Count == 0
            ? [(parent + c.Name, c)]
            : Leaves(c.Subcommands, parent + c.Name + " "));

    [Theory]
    [MemberData(nameof(VerbsWithMachineOutput))]
    public async Task A_verbs_machine_output_is_only_its_document_on_stdout_with_the_embedded_silo_logging_at_debug(string verb)
    {
        var invocations = MachineOutputInvocations.For(verb, sweep);
        Assert.True(invocations.Count > 0, $"`{verb}` offers --json or --format but has no invocation in MachineOutputInvocations: add one");
        foreach (var invocation in invocations)
        {
            var result = await CliProcess.RunAsync([.. verb.Split(' '), .. invocation.Arguments], sweep.Work, TimeSpan.FromMinutes(5), FinishedSweep.ChattyHost);
            var what = $"orchestrator {verb} {string.Join(' ', invocation.Arguments)}\n{result}";
            Assert.True(result.ExitCode == 0, what);
            if (invocation.Format == MachineFormat.Json) AssertOneJsonDocument(result.Stdout, what);
            else AssertCsv(result.Stdout, what);
        }
    }

    [Fact]
    public void The_sweep_these_verbs_read_was_run_by_run_json_with_a_debug_log_on_stderr_and_one_document_on_stdout()
    {
        AssertOneJsonDocument(sweep.Run.Stdout, sweep.Run.ToString());
        // The premise of the theory: the host really was chatty, and said so on stderr.
        Assert.Contains("dbug: ", sweep.Run.Stderr);
    }

    private static void AssertOneJsonDocument(string stdout, string what)
    {
        // JsonDocument.Parse refuses anything but whitespace before or after the one value.
        try { using var _ = JsonDocument.Parse(stdout); }
        catch (JsonException e) { Assert.Fail($"stdout is not one JSON document ({e.Message})\n{what}"); }
    }

    private static void AssertCsv(string stdout, string what)
    {
        var lines = stdout.Split("\r\n");
        Assert.True(lines[^1].Length == 0, $"the CSV does not end in CRLF\n{what}");
        var rows = lines[..^1];
        Assert.True(rows.Length >= 2, $"no header and rows\n{what}");
        Assert.StartsWith("position,trial,", rows[0]);
        var width = Fields(rows[0]);
        Assert.All(rows, row => Assert.True(Fields(row) == width, $"`{row}` has {Fields(row)} fields, the header {width}\n{what}"));
    }

    /// <summary>Fields of one RFC 4180 line (the leaderboard quotes no line breaks into a field).</summary>
    private static int Fields(string line)
    {
        var (count, quoted) = (1, false);
        foreach (var c in line)
        {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) count++;
        }
        return count;
    }
}
