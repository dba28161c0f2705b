using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// Verbs that run instead of the web host: <c>import FILE [--site CODE]</c> and <c>verify-audit</c>. They use the
/// same storage configuration as the server (and the same private cluster when no connection string is set).
/// The benchmarks and drills have their own verbs in bench/Reimage.Bench.
/// </summary>
public static class CommandLine
{
    private static readonly string[] Verbs = ["import", "verify-audit"];

    /// <summary>Runs the verb named by <paramref name="args"/>; null when the arguments are not a verb (start the server).</summary>
    public static async Task<int?> RunVerbAsync(string[] args)
    {
        if (args.Length == 0 || !Verbs.Contains(args[0]))
        {
            return null;
        }

        // Configuration comes from appsettings and the environment (ConnectionStrings__Reimage, Reimage__DataDirectory).
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // EF logs the probe for a not-yet-created migrations table as a failed command; real failures throw.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Critical);
        try
        {
            builder.AddReimageStorage();
        }
        catch (PostgresNotFoundException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 3;
        }

        using var host = builder.Build();
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        await host.Services.MigrateReimageDatabaseAsync(TimeSpan.FromSeconds(30), cancel.Token);
        try
        {
            return args[0] switch
            {
                "import" when args.Length >= 2 => await ImportCommands.ImportFileAsync(host.Services, args[1],
                    new ImportOptions(Option(args, "--site"), args.Contains("--dry-run"), args.Contains("--create-sites"), args.Contains("--replace-macs")),
                    Console.Out, cancel.Token),
                "import" => Usage(ImportUsage),
                "verify-audit" => await VerifyAuditAsync(host.Services.GetRequiredService<NpgsqlDataSource>(), Console.Out, cancel.Token),
                _ => Usage($"{ImportUsage} | verify-audit"),
            };
        }
        finally
        {
            // Stop the private cluster if this command started it.
            host.Services.GetService<LocalPostgres>()?.Stop();
        }
    }

    private const string ImportUsage = "import FILE [--site CODE] [--create-sites] [--replace-macs] [--dry-run]";

    /// <summary>Checks every machine's event chain; exit code 0 when intact, 1 when broken (naming the first broken event).</summary>
    public static async Task<int> VerifyAuditAsync(NpgsqlDataSource db, TextWriter output, CancellationToken ct)
    {
        var result = await AuditVerifier.VerifyAsync(db, ct);
        if (result.Intact)
        {
            await output.WriteLineAsync($"Audit chain intact: {result.Events} events over {result.Machines} machines.");
            return 0;
        }

        await output.WriteLineAsync($"Audit chain BROKEN: {result.First!.Problem} (machine {result.First.MachineId}).");
        await output.WriteLineAsync($"{result.Findings.Count} break(s) in {result.Events} events over {result.Machines} machines:");
        foreach (var finding in result.Findings.OrderBy(f => f.EventId).Take(50))
        {
            await output.WriteLineAsync($"  {finding.Problem}");
        }

        return 1;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int Usage(string usage)
    {
        Console.Error.WriteLine($"usage: dotnet run --project src/Dashboard -- {usage}");
        return 2;
    }
}
