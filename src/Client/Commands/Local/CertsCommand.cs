using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Output;
using Orchestrator.Silo.Security;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>certs</c>: the certificates of a cluster's mutual TLS.</summary>
public sealed class CertsCommand : Command
{
    public CertsCommand() : base("certs", "Certificates for mutual TLS: a new cluster's CA, silo and client certificates.")
    {
        Subcommands.Add(new CertsCreateCommand());
    }
}

/// <summary>
/// <c>certs create --out DIR [--days N]</c>: a new authority and one silo and one client certificate, in the
/// folders <see cref="NewClusterCertificates"/> describes (private keys owner-only). Never overwrites.
/// </summary>
public sealed class CertsCreateCommand : OrchestratorCommand
{
    private static readonly Option<string> OutOption = new("--out") { Description = "Folder to create them in (ca/, silo/, client/).", Required = true };
    private static readonly Option<int> DaysOption = new("--days") { Description = "Validity in days.", DefaultValueFactory = _ => 365 };

    public CertsCreateCommand() : base("create", "Create a cluster CA and a silo and a client certificate (PEM: tls.crt, tls.key, ca.crt).")
    {
        Options.Add(OutOption);
        Options.Add(DaysOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var days = parseResult.GetValue(DaysOption);
        if (days is < 1 or > 3650) throw new UserInputException($"--days {days} is not valid: use 1 to 3650", ExitCodes.UsageError);
        NewClusterCertificates created;
        try
        {
            created = NewClusterCertificates.Create(parseResult.GetValue(OutOption)!, TimeSpan.FromDays(days));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException(e.Message, ExitCodes.UsageError);
        }
        var folders = new[] { ("ca", created.Authority), ("silo", created.Silo), ("client", created.Client) };
        if (output.IsJson)
        {
            output.Json(new
            {
                notAfter = created.NotAfter,
                folders = folders.ToDictionary(f => f.Item1, f => f.Item2.Path),
                silo = created.Silo.ToTlsFiles(),
                client = created.Client.ToTlsFiles(),
            });
            return Task.FromResult(ExitCodes.Success);
        }
        output.Table(["identity", "folder", "files"], folders.Select(f =>
            (IReadOnlyList<string>)[f.Item1, f.Item2.Path, string.Join(", ", f.Item2.Files(withAuthority: f.Item1 != "ca").Select(Path.GetFileName))]));
        output.Line($"valid until {created.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}; private keys are readable by their owner only; keep ca/tls.key offline.");
        var silo = created.Silo;
        var client = created.Client;
        output.Line($"silo:   --tls-cert {silo.Certificate} --tls-key {silo.Key} --tls-ca {silo.Authority}");
        output.Line($"client: --tls-cert {client.Certificate} --tls-key {client.Key} --tls-ca {client.Authority}");
        return Task.FromResult(ExitCodes.Success);
    }
}
