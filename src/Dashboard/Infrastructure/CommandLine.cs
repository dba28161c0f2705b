using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Evidence;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// Verbs that run instead of the web host: <c>import FILE [--site CODE]</c> and <c>verify-audit [--checkpoints DIR]</c>. They use the
/// same storage configuration as the server (and the same private cluster when no connection string is set).
/// The benchmarks and drills have their own verbs in bench/Reimage.Bench.
/// </summary>
public static class CommandLine
{
    private static readonly string[] Verbs = ["import", "verify-audit", "verify-bundle"];

    /// <summary>Runs the verb named by <paramref name="args"/>; null when the arguments are not a verb (start the server).</summary>
    public static async Task<int?> RunVerbAsync(string[] args)
    {
        if (args.Length == 0 || !Verbs.Contains(args[0]))
        {
            return null;
        }

        if (args[0] == "verify-bundle")
        {
            // Offline: no database, no configuration; only the bundle and (best) the installation's published key.
            return args.Length >= 2 ? VerifyBundle(args[1], Option(args, "--public-key"), Console.Out) : Usage(BundleUsage);
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
                "verify-audit" => await VerifyAuditAsync(host.Services.GetRequiredService<NpgsqlDataSource>(), Console.Out, cancel.Token,
                    Option(args, "--checkpoints"), Option(args, "--public-key") ?? InstallationPublicKey(host.Services.GetRequiredService<IConfiguration>())),
                _ => Usage($"{ImportUsage} | {VerifyUsage} | {BundleUsage}"),
            };
        }
        finally
        {
            // Stop the private cluster if this command started it.
            host.Services.GetService<LocalPostgres>()?.Stop();
        }
    }

    private const string ImportUsage = "import FILE [--site CODE] [--create-sites] [--replace-macs] [--dry-run]";
    private const string VerifyUsage = "verify-audit [--checkpoints DIR] [--public-key HEX|FILE]";
    private const string BundleUsage = "verify-bundle FILE [--public-key HEX|FILE]";

    /// <summary>Checks an evidence bundle offline; exit code 0 when it proves itself, 1 when it does not, 2 for unusable arguments.</summary>
    public static int VerifyBundle(string path, string? publicKey, TextWriter output)
    {
        byte[]? key;
        try
        {
            key = publicKey is null ? null : CheckpointKey.ReadPublicKey(publicKey);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"verify-bundle: {e.Message}");
            return 2;
        }

        BundleVerification result;
        try
        {
            using var file = File.OpenRead(path);
            result = EvidenceBundle.Verify(file, key);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"verify-bundle: cannot read {path}: {e.Message}");
            return 2;
        }

        var scope = string.Join(", ", new[] { result.CaseNumber is null ? null : $"case {result.CaseNumber}", result.Site is null ? null : $"site {result.Site}" }.Where(s => s is not null));
        if (result.Intact)
        {
            output.WriteLine($"Bundle intact: {scope}: {result.Summary!.Items} evidence item(s), {result.Summary.Transfers} custody transfer(s), {result.Summary.Machines} machine chain(s) "
                + $"of {result.Summary.Events} events, covered by checkpoint #{result.Summary.CheckpointId} signed by key {result.KeyId}.");
            if (result.KeyFromBundle)
            {
                output.WriteLine($"  The key is the one the bundle names: compare {result.KeyId} with the key the installation published (or pass --public-key).");
            }

            return 0;
        }

        output.WriteLine($"Bundle BROKEN{(scope.Length > 0 ? $" ({scope})" : "")}: {result.Findings.Count} finding(s):");
        foreach (var finding in result.Findings.Take(50))
        {
            output.WriteLine($"  {finding}");
        }

        return 1;
    }

    /// <summary>
    /// Checks every machine's event chain, then holds the database against the signed checkpoints: those in
    /// <paramref name="checkpointDirectory"/> (the copies kept outside the database: the strong check) or else those in
    /// the database. Exit code 0 when intact, 1 when anything is broken (naming it), 2 for unusable arguments.
    /// </summary>
    public static async Task<int> VerifyAuditAsync(
        NpgsqlDataSource db, TextWriter output, CancellationToken ct, string? checkpointDirectory = null, string? publicKey = null)
    {
        byte[]? key = null;
        List<Checkpoint>? outside = null;
        try
        {
            key = publicKey is null ? null : CheckpointKey.ReadPublicKey(publicKey);
            outside = checkpointDirectory is null ? null : Checkpoints.ReadDirectory(checkpointDirectory);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"verify-audit: {e.Message}");
            return 2;
        }

        if (outside is not null && key is null)
        {
            await output.WriteLineAsync("verify-audit: --checkpoints needs the public key (--public-key HEX|FILE), or this installation's signing key file");
            return 2;
        }

        var broken = false;
        var result = await AuditVerifier.VerifyAsync(db, ct);
        if (result.Intact)
        {
            await output.WriteLineAsync($"Audit chain intact: {result.Events} events over {result.Machines} machines.");
        }
        else
        {
            broken = true;
            await output.WriteLineAsync($"Audit chain BROKEN: {result.First!.Problem} (machine {result.First.MachineId}).");
            await output.WriteLineAsync($"{result.Findings.Count} break(s) in {result.Events} events over {result.Machines} machines:");
            foreach (var finding in result.Findings.OrderBy(f => f.EventId).Take(50))
            {
                await output.WriteLineAsync($"  {finding.Problem}");
            }
        }

        if (key is null)
        {
            await output.WriteLineAsync("Checkpoints not checked: no public key (--public-key) and no signing key file here.");
            return broken ? 1 : 0;
        }

        var inDatabase = await Checkpoints.ReadAllAsync(db, 0, ct);
        var checkpoints = await CheckpointVerifier.VerifyAsync(db, outside ?? inDatabase, key, ct);
        var findings = checkpoints.Findings.Concat(outside is null ? [] : CheckpointVerifier.CompareWithDatabase(outside, inDatabase)).ToList();
        var source = outside is null ? "in the database (a copy kept outside it, --checkpoints DIR, is the stronger check)" : $"in {checkpointDirectory}";
        if (findings.Count == 0)
        {
            await output.WriteLineAsync(checkpoints.Latest is null
                ? $"No checkpoints {source}."
                : $"Checkpoints intact: {checkpoints.Checked} {source}, the latest #{checkpoints.Latest.Id} sealed {checkpoints.Latest.SealedAt:u} over {checkpoints.Latest.Machines} machines (key {CheckpointKey.IdOf(key)}).");
            return broken ? 1 : 0;
        }

        await output.WriteLineAsync($"Checkpoints BROKEN: {findings.Count} finding(s) against {checkpoints.Checked} checkpoints {source}:");
        foreach (var finding in findings.Take(50))
        {
            await output.WriteLineAsync($"  {finding}");
        }

        return 1;
    }

    /// <summary>The public key of this installation's checkpoint signing key, when its file is here.</summary>
    private static string? InstallationPublicKey(IConfiguration configuration)
    {
        var path = CheckpointKey.PathFrom(configuration["Reimage:Audit:SigningKey"], configuration["Reimage:DataDirectory"]);
        if (!File.Exists(path))
        {
            return null;
        }

        using var key = CheckpointKey.LoadOrCreate(path);
        return key.PublicKeyHex;
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
