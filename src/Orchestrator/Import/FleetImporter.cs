using System.Data;
using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

/// <summary>
/// Imports a fleet inventory CSV: reads and validates every row, checks serials and MACs against the fleet,
/// then upserts by hostname (case-insensitive) in one transaction. All or nothing: one error and nothing is
/// written. Re-importing updates inventory fields and never a machine's recovery state.
/// </summary>
public sealed class FleetImporter(NpgsqlDataSource db, TimeProvider clock)
{
    /// <param name="progress">Told the phase as the import moves on (reading, checking rows with a count, checking against
    /// the fleet, writing), so a large file shows it is alive.</param>
    public async Task<ImportReport> ImportAsync(Stream csv, ImportOptions options, Actor actor, CancellationToken ct, IProgress<ImportProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(actor);

        progress?.Report(new ImportProgress("reading the file", 0));
        var source = await CsvSource.ReadAsync(csv, ct);
        var parsed = FleetCsvParser.Parse(source, clock, ct, rows => progress?.Report(new ImportProgress("checking rows", rows)));
        if (options.DefaultSite is { Length: > 32 } site)
        {
            parsed.Errors.Insert(0, new ImportIssue(0, "", $"the default site \"{site}\" is {site.Length} characters long; the limit is 32"));
        }

        if (parsed.Columns is null || parsed.Rows.Count == 0)
        {
            return Report(parsed, options, imported: false, ImportPreview.None);
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);

        // Two imports at once would each see the other's new hostnames as absent and both try to insert them.
        // work_mem: the staging joins hash the whole file; spilling them to disk doubles their cost.
        // The import's own statements have no command timeout: a large file or a wait behind another import is not a
        // fault. The caller's token still cancels them. statement_timeout 0: a server-wide default must not cut it short.
        await using (var exclusive = new NpgsqlCommand(
            "SET LOCAL statement_timeout = 0; SELECT pg_advisory_xact_lock(hashtext('reimage.import')); SET LOCAL work_mem = '64MB'", connection)
            { CommandTimeout = 0 })
        {
            await exclusive.ExecuteNonQueryAsync(ct);
        }

        progress?.Report(new ImportProgress("checking against the fleet", parsed.Rows.Count));
        await FleetStaging.CopyAsync(connection, parsed.Rows, options.DefaultSite?.Trim() is { Length: > 0 } defaultSite ? defaultSite : null, ct);
        var placedByRules = await FleetStaging.ApplySiteRulesAsync(connection, ct);
        if (placedByRules > 0)
        {
            parsed.Warnings.Insert(0, new ImportIssue(0, "", $"{placedByRules} row{(placedByRules == 1 ? "" : "s")} without a site were placed by the site rules"));
        }

        var conflicts = await FleetStaging.FindConflictsAsync(connection, ct);
        AddConflicts(parsed, conflicts);
        await FleetWriter.MapSitesAsync(connection, ct);
        var siteProblems = await FleetStaging.FindSiteProblemsAsync(connection, options.CreateSites, ct);
        if (siteProblems.Count > 0)
        {
            AddSiteProblems(parsed, siteProblems, await FleetStaging.SiteCodesAsync(connection, ct));
        }

        if (parsed.Errors.Count > 0)
        {
            await transaction.RollbackAsync(ct);
            return Report(parsed, options, imported: false, ImportPreview.None);
        }

        if (options.DryRun)
        {
            var preview = await FleetStaging.PreviewAsync(connection, options.ReplaceMacs, ct);
            await transaction.RollbackAsync(ct);
            return Report(parsed, options, imported: false, preview);
        }

        progress?.Report(new ImportProgress("writing", parsed.Rows.Count));
        var (inserted, updated, sitesCreated, fieldsChanged) = await FleetWriter.WriteAsync(connection, actor, clock.GetUtcNow(), options.ReplaceMacs, ct);
        await transaction.CommitAsync(ct);
        return Report(parsed, options, imported: true, new ImportPreview(inserted, updated, parsed.Rows.Count - inserted - updated, sitesCreated, fieldsChanged, []));
    }

    private static void AddConflicts(ParsedFile parsed, List<FleetConflict> conflicts)
    {
        var serialColumn = parsed.Columns!.HeaderFor(ImportField.SerialNumber);
        var macColumn = parsed.Columns.HeaderFor(ImportField.MacAddresses);
        foreach (var c in conflicts)
        {
            if (c.IsSerial)
            {
                parsed.Errors.Add(new ImportIssue(c.Line, serialColumn, $"serial number \"{c.Value}\" already belongs to machine {c.OwnerHostname} in the fleet"));
            }
            else
            {
                parsed.Warnings.Add(new ImportIssue(c.Line, macColumn, $"MAC address {c.Value} is also on {c.OwnerHostname} in the fleet: {MacAddresses.SharedNote}"));
            }
        }

        ImportReport.SortByLine(parsed.Errors);
        ImportReport.SortByLine(parsed.Warnings);
    }

    private static void AddSiteProblems(ParsedFile parsed, List<(int Line, string? Site)> problems, List<string> known)
    {
        var column = parsed.Columns!.HeaderFor(ImportField.Site);
        var hint = known.Count == 0 ? "there are no sites yet" : $"the sites are {string.Join(", ", known.Take(20))}{(known.Count > 20 ? ", …" : "")}";
        foreach (var (line, site) in problems)
        {
            parsed.Errors.Add(site is null
                ? new ImportIssue(line, column, "a new machine needs a site: give a site column, or a default site for the import")
                : new ImportIssue(line, column, $"site \"{site}\" does not exist ({hint}): correct the code, or let the import create new sites"));
        }

        ImportReport.SortByLine(parsed.Errors);
    }

    private static ImportReport Report(ParsedFile parsed, ImportOptions options, bool imported, ImportPreview preview) => new(
        imported,
        options.DryRun,
        parsed.Rows.Count,
        preview.Inserts,
        preview.Updates,
        preview.Unchanged,
        preview.NewSites,
        parsed.Errors,
        parsed.Warnings,
        parsed.Format,
        parsed.Delimiter,
        parsed.Encoding,
        preview.FieldsChanged,
        preview.Changes);
}
