using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Reimage.Agents.Protocol;
using Reimage.Agents.Protocol.Simulation;
using Reimage.Bench.Infrastructure;
using Reimage.Dashboard.Agents;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Bench.Drills;

/// <summary>
/// The drill benchmark: N simulated machines driven from launch to Restored through the real engine (Hangfire on
/// PostgreSQL, the workflow pump, the command queue, in-process site agents) with zero-length steps, so that it
/// measures the orchestrator and nothing else. In the same run it measures the raw Hangfire.PostgreSql rate for
/// empty jobs as the baseline. Runs in a throwaway database; never touches the real fleet.
/// </summary>
public static class Drill
{
    private const int BaselineJobs = 1000;
    private static int _emptyJobsRun;

    public static async Task<int> RunAsync(string connectionString, int machines, int sites, TextWriter output, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(machines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sites, 1);
        await using var database = await ThrowawayDatabase.CreateAsync(connectionString, "reimage_drill", ct);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Critical);
        builder.Configuration["ConnectionStrings:Reimage"] = database.ConnectionString;
        builder.Configuration["Reimage:Workflow:RetryBackoff"] = "00:00:00";
        builder.AddReimageStorage();
        builder.AddReimageWorkflow();
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            await output.WriteLineAsync($"Drill: {machines} machines at {sites} sites, zero-length steps, database {database.Name}, {Environment.ProcessorCount} cores.");
            var baseline = await HangfireBaselineAsync(host.Services, ct);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"baseline: {BaselineJobs} empty Hangfire jobs at {baseline:F0} jobs/s"));

            var db = host.Services.GetRequiredService<NpgsqlDataSource>();
            var siteIds = await SeedAsync(host.Services, machines, sites, ct);
            var (transitions, seconds) = await DriveAsync(host.Services, db, siteIds, machines, output, ct);
            var rate = transitions / seconds;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"drill: {transitions} transitions in {seconds:F1} s = {rate:F0} transitions/s, {rate / baseline:F1} × the Hangfire baseline"));
            var (p50, p99) = await LatencyAsync(db, ct);
            var (idle50, idle99) = await IdleLatencyAsync(host.Services, db, siteIds[0], ct);
            var (total, events, commands, hangfire) = await SizeAsync(db, ct);
            var per10K = 10_000.0 / machines;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"latency from a result recorded to the next command available (B4): idle engine p50 {idle50:F0} ms, p99 {idle99:F0} ms; under the drill's load p50 {p50:F0} ms, p99 {p99:F0} ms"));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"database after the run (B8): {total / 1048576.0 * per10K:F1} MiB per 10,000 machines (events {events / 1048576.0 * per10K:F1}, commands {commands / 1048576.0 * per10K:F1}, hangfire {hangfire / 1048576.0 * per10K:F1})"));
            await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["machines"] = machines,
                ["transitions"] = transitions,
                ["seconds"] = Math.Round(seconds, 2),
                ["transitions_per_s"] = Math.Round(rate),
                ["baseline_jobs_per_s"] = Math.Round(baseline),
                ["next_command_latency_idle_p50_ms"] = Math.Round(idle50, 1),
                ["next_command_latency_idle_p99_ms"] = Math.Round(idle99, 1),
                ["next_command_latency_p50_ms"] = Math.Round(p50, 1),
                ["next_command_latency_p99_ms"] = Math.Round(p99, 1),
                ["db_mib_per_10k_machines"] = Math.Round(total / 1048576.0 * per10K, 1),
            }));
            return 0;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// B4: for every step after the first, the time from the agent's result being recorded to the machine's next
    /// command being available to its agent — the engine's reaction time, measured here under the drill's full load.
    /// </summary>
    private static async Task<(double P50, double P99)> LatencyAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            WITH c AS (
                SELECT completed_at, lead(created_at) OVER (PARTITION BY machine_id ORDER BY created_at, attempt) AS next_created
                FROM reimage.agent_commands)
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)
            FROM (SELECT extract(epoch FROM next_created - completed_at) * 1000 AS ms FROM c WHERE next_created IS NOT NULL AND completed_at IS NOT NULL) x
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetDouble(0), reader.GetDouble(1));
    }

    /// <summary>
    /// B4 on an idle engine: one machine at a time, a result is reported the way an agent reports it (recorded, pump
    /// kicked), and the clock runs until the machine's next command is available — the path a single event takes
    /// through Hangfire (LISTEN/NOTIFY pickup), the pump and the transition writer.
    /// </summary>
    private static async Task<(double P50, double P99)> IdleLatencyAsync(IServiceProvider services, NpgsqlDataSource db, Guid site, CancellationToken ct)
    {
        const int Samples = 40;
        var planner = services.GetRequiredService<WavePlanner>();
        var queue = services.GetRequiredService<AgentCommandQueue>();
        var kick = services.GetRequiredService<WorkflowKick>();
        var csv = new StringBuilder("hostname,serial_number,mac_addresses,site,recovery_path\n");
        await using (var code = db.CreateCommand($"SELECT code FROM reimage.sites WHERE id = '{site}'"))
        {
            var siteCode = (string)(await code.ExecuteScalarAsync(ct))!;
            for (var i = 0; i < Samples; i++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"IDLE{i:D4},ISN{i:D6},{0x0600_0000_0000L + i:X12},{siteCode},Reformat\n");
            }
        }

        await services.GetRequiredService<FleetImporter>().ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), new ImportOptions(CreateSites: true), Actor.System("drill"), ct);
        var wave = await planner.CreateAsync("Idle latency", 2, ct);
        var ids = new List<Guid>();
        await using (var select = db.CreateCommand("SELECT id FROM reimage.machines WHERE hostname LIKE 'IDLE%'"))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetGuid(0));
            }
        }

        await planner.AddMachinesAsync(wave.Id, ids, Actor.System("drill"), ct);
        await planner.ApproveAsync(wave.Id, Actor.System("drill"), ct);
        await planner.LaunchAsync(wave.Id, Actor.System("drill"), ct);
        var leased = new List<LeasedCommand>();
        while (leased.Count < Samples)
        {
            leased.AddRange(await queue.LeaseAsync(site, "idle-latency", Samples, TimeSpan.FromMinutes(10), ct));
            await Task.Delay(20, ct);
        }

        var latencies = new List<double>();
        foreach (var command in leased)
        {
            var watch = Stopwatch.StartNew();
            await queue.CompleteAsync(site, [new CommandResult(command.Id, true, "woken")], ct);
            kick.Kick();
            while (true)
            {
                await using var next = db.CreateCommand("SELECT count(*) FROM reimage.agent_commands WHERE machine_id = @m AND status = 'Pending'");
                next.Parameters.AddWithValue("m", command.MachineId);
                if ((long)(await next.ExecuteScalarAsync(ct))! > 0)
                {
                    break;
                }

                await Task.Delay(2, ct);
            }

            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        return (latencies[latencies.Count / 2], latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(0.99 * latencies.Count) - 1)]);
    }

    /// <summary>B8: the database's size after the full run, with its largest parts.</summary>
    private static async Task<(long Total, long Events, long Commands, long Hangfire)> SizeAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using (var vacuum = db.CreateCommand("VACUUM ANALYZE"))
        {
            await vacuum.ExecuteNonQueryAsync(ct);
        }

        await using var command = db.CreateCommand(
            """
            SELECT pg_database_size(current_database()),
                   pg_total_relation_size('reimage.machine_events'), pg_total_relation_size('reimage.agent_commands'),
                   (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'hangfire' AND c.relkind = 'r')
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>An empty job: the unit of the baseline.</summary>
    public static void EmptyJob() => Interlocked.Increment(ref _emptyJobsRun);

    private static async Task<double> HangfireBaselineAsync(IServiceProvider services, CancellationToken ct)
    {
        var jobs = services.GetRequiredService<IBackgroundJobClient>();
        Interlocked.Exchange(ref _emptyJobsRun, 0);
        var watch = Stopwatch.StartNew();
        // Enqueued from as many callers as the server has workers, as a busy web tier would.
        await Parallel.ForEachAsync(Enumerable.Range(0, BaselineJobs), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            (_, _) => { jobs.Enqueue(() => EmptyJob()); return ValueTask.CompletedTask; });
        while (Volatile.Read(ref _emptyJobsRun) < BaselineJobs)
        {
            await Task.Delay(10, ct);
        }

        return BaselineJobs / watch.Elapsed.TotalSeconds;
    }

    private static async Task<Guid[]> SeedAsync(IServiceProvider services, int machines, int sites, CancellationToken ct)
    {
        var csv = new StringBuilder(machines * 80).AppendLine("hostname,serial_number,mac_addresses,site,role,criticality,recovery_path");
        for (var i = 0; i < machines; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"DRILL{i:D8},DSN{i:D9},{0x0200_0000_0000L + i:X12},D{i % sites:D3},Workstation,{1 + (i % 4)},Reformat\n");
        }

        var report = await services.GetRequiredService<FleetImporter>().ImportAsync(
            new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), new ImportOptions(CreateSites: true), Actor.System("drill"), ct);
        if (!report.Imported)
        {
            throw new InvalidOperationException("The drill fleet did not import:\n" + report.ToText());
        }

        var db = services.GetRequiredService<NpgsqlDataSource>();
        // The drill measures the engine, not capacity: every machine may be in flight at once.
        await using (var slots = db.CreateCommand("UPDATE reimage.sites SET imaging_slots = @slots"))
        {
            slots.Parameters.AddWithValue("slots", machines);
            await slots.ExecuteNonQueryAsync(ct);
        }

        await using var ids = db.CreateCommand("SELECT id FROM reimage.sites ORDER BY code");
        var siteIds = new List<Guid>();
        await using var reader = await ids.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            siteIds.Add(reader.GetGuid(0));
        }

        return [.. siteIds];
    }

    private static async Task<(long Transitions, double Seconds)> DriveAsync(
        IServiceProvider services, NpgsqlDataSource db, Guid[] siteIds, int machines, TextWriter output, CancellationToken ct)
    {
        var planner = services.GetRequiredService<WavePlanner>();
        var wave = await planner.CreateAsync("Drill", 1, ct);
        var all = new List<Guid>(machines);
        await using (var select = db.CreateCommand("SELECT id FROM reimage.machines"))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                all.Add(reader.GetGuid(0));
            }
        }

        await planner.AddMachinesAsync(wave.Id, all, Actor.System("drill"), ct);
        await using var before = db.CreateCommand("SELECT coalesce(max(id), 0) FROM reimage.machine_events");
        var firstEvent = (long)(await before.ExecuteScalarAsync(ct))!;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var queue = services.GetRequiredService<AgentCommandQueue>();
        var kick = services.GetRequiredService<WorkflowKick>();
        var clock = services.GetRequiredService<TimeProvider>();
        var fleet = new SimulatedFleet(SimulatedFleetOptions.Instant, clock);
        var agentOptions = new SiteAgentOptions { MaxInFlight = 2000, IdleDelay = TimeSpan.FromMilliseconds(100), ReportInterval = TimeSpan.FromMilliseconds(100) };
        var agents = siteIds.Select(site => new SiteAgent(new InProcessAgentTransport(queue, kick, site, $"drill-agent-{site}"), fleet, agentOptions, clock,
            services.GetRequiredService<ILogger<SiteAgent>>()).RunAsync(stop.Token)).ToList();

        var watch = Stopwatch.StartNew();
        await planner.ApproveAsync(wave.Id, Actor.System("drill"), ct);
        await planner.LaunchAsync(wave.Id, Actor.System("drill"), ct);
        var lastReport = watch.Elapsed;
        while (true)
        {
            // A fresh command each time: a data-source command hands its connection back after each execution.
            await using var poll = db.CreateCommand("SELECT count(*) FILTER (WHERE state = 'Restored'), count(*) FILTER (WHERE state = 'Failed') FROM reimage.recoveries");
            long done, failed;
            await using (var reader = await poll.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                (done, failed) = (reader.GetInt64(0), reader.GetInt64(1));
            }

            if (done + failed >= machines)
            {
                break;
            }

            if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(10))
            {
                lastReport = watch.Elapsed;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {watch.Elapsed.TotalSeconds:F0} s: {done} restored"));
            }

            await Task.Delay(50, ct);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(agents);
        await using var count = db.CreateCommand("SELECT count(*) FROM reimage.machine_events WHERE id > @first AND kind = 'transition'");
        count.Parameters.AddWithValue("first", firstEvent);
        return ((long)(await count.ExecuteScalarAsync(ct))!, seconds);
    }
}
