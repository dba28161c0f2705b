using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// Verbs that run instead of the web host: <c>import FILE [--site CODE]</c>,
/// <c>bench-import [--rows N] [--runs N]</c>, <c>drill [--machines N] [--sites N]</c>, <c>bench-accuracy [--drills N] [--machines N]</c>
/// and <c>verify-audit</c>. They use the same storage configuration as the server
/// (and the same private cluster when no connection string is set).
/// </summary>
public static class CommandLine
{
    private static readonly string[] Verbs = ["import", "bench-import", "drill", "verify-audit", "bench-grid", "bench-forecast", "bench-accuracy", "bench"];

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
                "import" when args.Length >= 2 => await ImportCommands.ImportFileAsync(host.Services, args[1], Option(args, "--site"), Console.Out, cancel.Token),
                "import" => Usage("import FILE [--site CODE]"),
                "bench-grid" => await Fleet.GridBenchmark.RunAsync(host.Services.GetRequiredService<IConfiguration>().GetConnectionString(Storage.ConnectionStringName)!,
                    int.Parse(Option(args, "--machines") ?? "100000", System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(Option(args, "--queries") ?? "400", System.Globalization.CultureInfo.InvariantCulture), Console.Out, cancel.Token),
                "bench-forecast" => await ForecastBenchmarkAsync(Console.Out, cancel.Token),
                "bench-accuracy" => await AccuracyBenchmarkAsync(host.Services.GetRequiredService<IConfiguration>().GetConnectionString(Storage.ConnectionStringName)!,
                    int.Parse(Option(args, "--drills") ?? "30", System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(Option(args, "--machines") ?? "240", System.Globalization.CultureInfo.InvariantCulture), Console.Out, cancel.Token),
                "bench" => await SuiteAsync(host.Services, host.Services.GetRequiredService<IConfiguration>().GetConnectionString(Storage.ConnectionStringName)!, cancel.Token),
                "verify-audit" => await VerifyAuditAsync(host.Services.GetRequiredService<NpgsqlDataSource>(), Console.Out, cancel.Token),
                "drill" => await Drills.Drill.RunAsync(host.Services.GetRequiredService<IConfiguration>().GetConnectionString(Storage.ConnectionStringName)!,
                    int.Parse(Option(args, "--machines") ?? "50000", System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(Option(args, "--sites") ?? "10", System.Globalization.CultureInfo.InvariantCulture),
                    Console.Out, cancel.Token),
                _ => await ImportCommands.BenchmarkAsync(host.Services,
                    int.Parse(Option(args, "--rows") ?? "100000", System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(Option(args, "--runs") ?? "5", System.Globalization.CultureInfo.InvariantCulture),
                    Console.Out, cancel.Token),
            };
        }
        finally
        {
            // Stop the private cluster if this command started it.
            host.Services.GetService<LocalPostgres>()?.Stop();
        }
    }

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

    /// <summary>
    /// The benchmark suite, one command: B1 import of 100k rows, B3 drill of 50k machines against the Hangfire baseline
    /// (with B4 next-command latency and B8 database size), B6 grid page query at 100k, the forecast's run time and P1
    /// per reference scenario, and the forecast's accuracy over 30 seeded drills. Each prints its detail and one JSON line.
    /// </summary>
    private static async Task<int> SuiteAsync(IServiceProvider services, string connectionString, CancellationToken ct)
    {
        var failures = 0;
        await Console.Out.WriteLineAsync($"Benchmark suite on {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        failures += await ImportCommands.BenchmarkAsync(services, 100_000, 5, Console.Out, ct) == 0 ? 0 : 1;
        failures += await Drills.Drill.RunAsync(connectionString, 50_000, 10, Console.Out, ct) == 0 ? 0 : 1;
        failures += await Fleet.GridBenchmark.RunAsync(connectionString, 100_000, 400, Console.Out, ct) == 0 ? 0 : 1;
        failures += await ForecastBenchmarkAsync(Console.Out, ct);
        failures += await AccuracyBenchmarkAsync(connectionString, 30, 240, Console.Out, ct);
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Exit code 0 when the drills meet the accuracy targets, 1 when they do not.</summary>
    private static async Task<int> AccuracyBenchmarkAsync(string connectionString, int drills, int machines, TextWriter output, CancellationToken ct) =>
        (await Orchestrator.Forecast.Accuracy.AccuracyBenchmark.RunAsync(connectionString, drills, machines, output, ct)).MeetsTargets ? 0 : 1;

    private static async Task<int> ForecastBenchmarkAsync(TextWriter output, CancellationToken ct)
    {
        await Orchestrator.Forecast.ForecastBenchmark.RunAsync(output, 100_000, 100, ct);
        return 0;
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
