using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// Verbs that run instead of the web host: <c>import FILE [--site CODE]</c> and
/// <c>bench-import [--rows N] [--runs N]</c>. They use the same storage configuration as the server
/// (and the same private cluster when no connection string is set).
/// </summary>
public static class CommandLine
{
    private static readonly string[] Verbs = ["import", "bench-import"];

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
