using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Reliability;

/// <summary>
/// The real Reimage process (Dashboard with its Hangfire server and the simulated site agents), killed with SIGKILL at
/// random moments of a 2,000-machine drill and started again, ten times; then left to finish. Afterwards the event
/// log — every transition, hash-chained — and the command table are checked: nothing lost, nothing done twice,
/// every machine in a final state.
/// </summary>
[Collection("Hangfire")]
public sealed class CrashTests(PostgresFixture postgres)
{
    private const int Machines = 2000;
    private const int Kills = 10;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledTenTimesDuringADrill_LosesNoTransition_DuplicatesNoWork_AndFinishesEveryMachine()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var db = NpgsqlDataSource.Create(connectionString);
        await LaunchDrillFleetAsync(db);
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var log = new List<string>();

        for (var kill = 1; kill <= Kills; kill++)
        {
            await using var reimage = Start(connectionString, log);
            var after = TimeSpan.FromMilliseconds(random.Next(2500, 8000)); // during start-up as well as mid-run
            await Task.Delay(after, Ct); // the crash point, not a wait for anything
            await reimage.KillAsync();
            log.Add($"kill {kill} after {after.TotalMilliseconds:F0} ms: {await FinalCountAsync(db)} machines final, {await ScalarAsync(db, "SELECT count(*) FROM reimage.machine_events")} events");
        }

        await using (var last = Start(connectionString, log))
        {
            var deadline = DateTime.UtcNow.AddMinutes(4);
            while (await FinalCountAsync(db) < Machines)
            {
                Assert.True(DateTime.UtcNow < deadline, $"seed {seed}: not every machine finished\n{string.Join("\n", log.TakeLast(40))}");
                Assert.False(last.HasExited, $"seed {seed}: Reimage exited\n{string.Join("\n", log.TakeLast(40))}");
                await Task.Delay(250, Ct); // polling the database for the end state
            }

            await last.KillAsync();
        }

        foreach (var line in log.Where(l => l.StartsWith("kill ", StringComparison.Ordinal)))
        {
            TestContext.Current.TestOutputHelper?.WriteLine(line);
        }

        // Nothing lost or altered: every machine's chain verifies and ends at its recovery record.
        var audit = await AuditVerifier.VerifyAsync(db, Ct);
        Assert.True(audit.Intact, $"seed {seed}: " + string.Join("\n", audit.Findings.Take(10).Select(f => f.Problem)));

        // Every transition starts where the previous one ended, and the last one is the machine's state.
        var broken = await ScalarAsync(db,
            """
            WITH e AS (
                SELECT machine_id, from_state, to_state, lag(to_state) OVER (PARTITION BY machine_id ORDER BY id) AS previous,
                       row_number() OVER (PARTITION BY machine_id ORDER BY id DESC) AS from_end
                FROM reimage.machine_events WHERE kind = 'transition')
            SELECT count(*) FROM e LEFT JOIN reimage.recoveries r ON r.machine_id = e.machine_id
            WHERE (e.previous IS NOT NULL AND e.previous <> e.from_state) OR (e.from_end = 1 AND e.to_state <> r.state)
            """);
        Assert.Equal(0L, broken);

        // No work done twice: at most one applied result per machine, step and attempt, and none left unapplied.
        Assert.Equal(0L, await ScalarAsync(db, "SELECT count(*) FROM (SELECT 1 FROM reimage.agent_commands WHERE status = 'Applied' GROUP BY machine_id, step, attempt HAVING count(*) > 1) d"));
        Assert.Equal(0L, await ScalarAsync(db, "SELECT count(*) FROM reimage.agent_commands WHERE status IN ('Completed', 'Pending', 'Leased')"));
        // Each step a machine went through was entered once per attempt.
        Assert.Equal(0L, await ScalarAsync(db,
            """
            SELECT count(*) FROM (
                SELECT 1 FROM reimage.machine_events WHERE kind = 'transition' AND to_state = 'InProgress'
                GROUP BY machine_id, step, detail HAVING count(*) > 1 AND min(detail) NOT LIKE 'attempt % failed%') d
            """));
        Assert.Equal(Machines, await ScalarAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state IN ('Restored', 'Failed')"));
        Assert.True(await ScalarAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'Restored'") > Machines * 9 / 10);
    }

    private static ChildProcess Start(string connectionString, List<string> log) => ReimageProcess.Start(connectionString, log);

    private static Task LaunchDrillFleetAsync(NpgsqlDataSource db) => ReimageProcess.LaunchDrillFleetAsync(db, Machines, 150, Ct);

    private static Task<long> FinalCountAsync(NpgsqlDataSource db) => ReimageProcess.FinalCountAsync(db, Ct);

    private static Task<long> ScalarAsync(NpgsqlDataSource db, string sql) => ReimageProcess.ScalarAsync(db, sql, Ct);
}
