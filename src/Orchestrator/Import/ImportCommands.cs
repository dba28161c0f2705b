using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Reimage.Orchestrator.Infrastructure;
using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

/// <summary>The import's command-line entry points (wired into the Dashboard's command line).</summary>
public static class ImportCommands
{
    /// <summary>Imports one file and prints the report. 0 = imported, 1 = rejected (nothing written), 2 = the file cannot be read.</summary>
    public static async Task<int> ImportFileAsync(IServiceProvider services, string path, string? defaultSite, TextWriter output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(output);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            await output.WriteLineAsync($"Cannot read {path}: {e.Message}");
            return 2;
        }

        await using (file)
        {
            var importer = new FleetImporter(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<TimeProvider>());
            var actor = new Actor(Environment.UserName, $"cli:import {Path.GetFileName(path)}");
            ImportReport report;
            try
            {
                report = await importer.ImportAsync(file, new ImportOptions(defaultSite), actor, ct);
            }
            catch (IOException e)
            {
                await output.WriteLineAsync($"Cannot read {path}: {e.Message}");
                return 2;
            }

            await output.WriteAsync(report.ToText());
            return report.Imported ? 0 : 1;
        }
    }

    /// <summary>
    /// Times imports of a generated <paramref name="rows"/>-row file into an empty fleet against a raw binary COPY of
    /// the same rows. Runs in a throwaway database created next to the configured one and dropped afterwards, so
    /// it never touches a real fleet. The last line printed is a JSON summary.
    /// </summary>
    public static Task<int> BenchmarkAsync(IServiceProvider services, int rows, int repetitions, TextWriter output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        // The data source hides its password, so the throwaway database's connection string is built from configuration.
        var connectionString = services.GetRequiredService<IConfiguration>().GetConnectionString(Storage.ConnectionStringName)
            ?? throw new InvalidOperationException($"No connection string '{Storage.ConnectionStringName}': call AddReimageStorage first.");
        return ImportBenchmark.RunAsync(connectionString, services.GetRequiredService<TimeProvider>(), rows, repetitions, output, ct);
    }
}
