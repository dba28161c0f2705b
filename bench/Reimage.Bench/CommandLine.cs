using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Reimage.Bench.Drills;
using Reimage.Bench.Fleet;
using Reimage.Bench.Forecast;
using Reimage.Bench.Forecast.Accuracy;
using Reimage.Bench.Import;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Bench;

/// <summary>
/// The benchmark and drill verbs: <c>bench</c> (the whole suite), <c>bench-import [--rows N] [--runs N]</c>,
/// <c>drill [--machines N] [--sites N]</c>, <c>bench-grid [--machines N] [--queries N]</c>, <c>bench-forecast</c> and
/// <c>bench-accuracy [--drills N] [--machines N]</c>. They use the server's storage configuration (the same private
/// cluster when no connection string is set), but each works in its own throwaway database beside the configured one:
/// the configured database itself is never read, written or migrated.
/// </summary>
public static class CommandLine
{
    private const string Usage =
        "usage: dotnet run -c Release --project bench/Reimage.Bench -- bench | bench-import [--rows N] [--runs N] | drill [--machines N] [--sites N]"
        + " | bench-grid [--machines N] [--queries N] | bench-forecast | bench-accuracy [--drills N] [--machines N]";

    private static readonly string[] Verbs = ["bench", "bench-import", "drill", "bench-grid", "bench-forecast", "bench-accuracy"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || !Verbs.Contains(args[0]))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
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
        // The throwaway databases' connection strings are built from configuration: the data source hides its password.
        var connectionString = host.Services.GetRequiredService<IConfiguration>().GetConnectionString(Storage.ConnectionStringName)!;
        var clock = host.Services.GetRequiredService<TimeProvider>();
        var output = Console.Out;
        try
        {
            return args[0] switch
            {
                "bench-import" => await ImportBenchmark.RunAsync(connectionString, clock, Number(args, "--rows", 100_000), Number(args, "--runs", 5), output, cancel.Token),
                "drill" => await Drill.RunAsync(connectionString, Number(args, "--machines", 50_000), Number(args, "--sites", 10), output, cancel.Token),
                "bench-grid" => await GridBenchmark.RunAsync(connectionString, Number(args, "--machines", 100_000), Number(args, "--queries", 400), output, cancel.Token),
                "bench-forecast" => await ForecastAsync(output, cancel.Token),
                "bench-accuracy" => await AccuracyAsync(connectionString, Number(args, "--drills", 30), Number(args, "--machines", 240), output, cancel.Token),
                _ => await SuiteAsync(connectionString, clock, output, cancel.Token),
            };
        }
        finally
        {
            // Stop the private cluster if this command started it.
            host.Services.GetService<LocalPostgres>()?.Stop();
        }
    }

    /// <summary>
    /// The benchmark suite, one command: B1 import of 100k rows, B3 drill of 50k machines against the Hangfire baseline
    /// (with B4 next-command latency and B8 database size), B6 grid page query at 100k, the forecast's run time and P1
    /// per reference scenario, and the forecast's accuracy over 30 seeded drills. Each prints its detail and one JSON line.
    /// </summary>
    private static async Task<int> SuiteAsync(string connectionString, TimeProvider clock, TextWriter output, CancellationToken ct)
    {
        var failures = 0;
        await output.WriteLineAsync($"Benchmark suite on {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        failures += await ImportBenchmark.RunAsync(connectionString, clock, 100_000, 5, output, ct) == 0 ? 0 : 1;
        failures += await Drill.RunAsync(connectionString, 50_000, 10, output, ct) == 0 ? 0 : 1;
        failures += await GridBenchmark.RunAsync(connectionString, 100_000, 400, output, ct) == 0 ? 0 : 1;
        failures += await ForecastAsync(output, ct);
        failures += await AccuracyAsync(connectionString, 30, 240, output, ct);
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Exit code 0 when the drills meet the accuracy targets, 1 when they do not.</summary>
    private static async Task<int> AccuracyAsync(string connectionString, int drills, int machines, TextWriter output, CancellationToken ct) =>
        (await AccuracyBenchmark.RunAsync(connectionString, drills, machines, output, ct)).MeetsTargets ? 0 : 1;

    private static async Task<int> ForecastAsync(TextWriter output, CancellationToken ct)
    {
        await ForecastBenchmark.RunAsync(output, 100_000, 100, ct);
        return 0;
    }

    private static int Number(string[] args, string name, int otherwise)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : otherwise;
    }
}
