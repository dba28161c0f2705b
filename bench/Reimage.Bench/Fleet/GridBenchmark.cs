using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Reimage.Bench.Import;
using Reimage.Bench.Infrastructure;
using Reimage.Dashboard.Fleet;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Bench.Fleet;

/// <summary>
/// B6: the fleet grid's page query at 100,000 machines — the query the lead's grid runs on every scroll and filter —
/// timed over a mix of unfiltered pages at random offsets, state, site and text filters (sorted pages are timed
/// beside it). Baseline in the same process:
/// fetching the same 50 rows by primary key, the cheapest read of a page there is.
/// </summary>
public static class GridBenchmark
{
    public static async Task<int> RunAsync(string connectionString, int machines, int queries, TextWriter output, CancellationToken ct)
    {
        await using var database = await ThrowawayDatabase.CreateAsync(connectionString, "reimage_grid", ct);
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        var (csv, _) = ImportBenchmark.Generate(machines, seed: 20261126);
        var report = await new FleetImporter(db, TimeProvider.System).ImportAsync(new MemoryStream(csv), new ImportOptions(CreateSites: true), Actor.System("benchmark"), ct);
        if (!report.Imported)
        {
            await output.WriteAsync(report.ToText());
            return 1;
        }

        // What autovacuum does after a bulk import: statistics, and the visibility map that lets a deep page walk the
        // host-name index without visiting the table.
        await using (var analyze = db.CreateCommand("VACUUM ANALYZE"))
        {
            await analyze.ExecuteNonQueryAsync(ct);
        }

        var query = new FleetQuery(db, TimeProvider.System);
        var sites = await query.SitesAsync(ct);
        var random = new Random(20261126);
        var states = new[] { RecoveryState.NotPlanned, RecoveryState.Queued, RecoveryState.Failed };
        var page = new List<double>();
        var byKind = new Dictionary<string, List<double>>();
        var baseline = new List<double>();
        for (var i = -20; i < queries; i++)
        {
            var filter = (i % 4) switch
            {
                0 => new FleetFilter(),
                1 => new FleetFilter(State: states[random.Next(states.Length)]),
                2 => new FleetFilter(SiteId: sites[random.Next(sites.Count)].Id),
                _ => new FleetFilter(Text: $"{random.Next(100):D2}"),
            };
            var skip = filter == new FleetFilter() ? random.Next(machines - 50) : 0;
            var watch = Stopwatch.StartNew();
            var (rows, _) = await query.PageAsync(filter, skip, 50, ct);
            var pageMs = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            await ByIdAsync(db, rows.Select(r => r.Id).ToArray(), ct);
            if (i >= 0) // the first 20 warm the caches and are not counted
            {
                var kind = (i % 4) switch { 0 => "page", 1 => "state", 2 => "site", _ => "text" };
                (byKind.TryGetValue(kind, out var list) ? list : byKind[kind] = []).Add(pageMs);
                page.Add(pageMs);
                baseline.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        // Sorted pages at random offsets, reported beside the mix (not in its p50/p95, so the figure stays comparable).
        foreach (var column in new[] { FleetColumn.State, FleetColumn.Since, FleetColumn.Site })
        {
            var times = byKind[$"sort {column.ToString().ToLowerInvariant()} (not in the mix)"] = [];
            for (var i = -5; i < queries / 8; i++)
            {
                var watch = Stopwatch.StartNew();
                await query.PageAsync(new FleetFilter(), new FleetSort(column, Descending: i % 2 == 0), random.Next(machines - 50), 50, ct);
                if (i >= 0)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        }

        page.Sort();
        baseline.Sort();
        double P(List<double> xs, double p) => xs[Math.Min(xs.Count - 1, (int)Math.Ceiling(p * xs.Count) - 1)];
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"grid: {queries} page queries at {machines} machines: p50 {P(page, .5):F1} ms, p95 {P(page, .95):F1} ms, max {page[^1]:F1} ms; by-id baseline p50 {P(baseline, .5):F2} ms"));
        foreach (var (kind, times) in byKind)
        {
            times.Sort();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {kind}: p50 {P(times, .5):F1} ms, p95 {P(times, .95):F1} ms"));
        }

        await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["benchmark"] = "B6_grid_page_query",
            ["machines"] = machines,
            ["queries"] = queries,
            ["p50_ms"] = Math.Round(P(page, .5), 2),
            ["p95_ms"] = Math.Round(P(page, .95), 2),
            ["baseline_p50_ms"] = Math.Round(P(baseline, .5), 3),
            ["ratio_p50"] = Math.Round(P(page, .5) / P(baseline, .5), 1),
        }));
        return 0;
    }

    private static async Task ByIdAsync(NpgsqlDataSource db, Guid[] ids, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT m.id, m.hostname, r.state FROM reimage.machines m JOIN reimage.recoveries r ON r.machine_id = m.id WHERE m.id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", ids);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
        }
    }
}
