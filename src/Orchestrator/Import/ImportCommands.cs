using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

/// <summary>The import's command-line entry points (wired into the Dashboard's command line).</summary>
public static class ImportCommands
{
    /// <summary>Imports one file and prints the report. 0 = imported, 1 = rejected (nothing written), 2 = the file cannot be read.</summary>
    public static async Task<int> ImportFileAsync(IServiceProvider services, string path, ImportOptions options, TextWriter output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
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
                report = await importer.ImportAsync(file, options, actor, ct);
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
}
