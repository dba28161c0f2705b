using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Evidence;
using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Bench.Forecast.Accuracy;

public sealed record DrillSettings
{
    public int Machines { get; init; } = 240;

    public int ForecastRuns { get; init; } = 100;

    /// <summary>
    /// How much slower every step really is than the forecast assumes (its median × this). 1 is the honest drill; any
    /// other value is a deliberately wrong assumption, which the accuracy figures must expose.
    /// </summary>
    public double WorldSlowdown { get; init; } = 1;

    /// <summary>Simulated time after which the drill gives up; machines not finished by then count as never.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromDays(21);
}

/// <summary>One drill: the forecast made at the start beside what the engine then did. Times are after the start; null is never.</summary>
/// <param name="Actual">When the last machine that did not fail was Restored, as the engine recorded it.</param>
/// <param name="Twin">The forecast's simulation of the same plan with the drill's own dice: the engine's twin.</param>
public sealed record DrillOutcome(
    int Seed, TimeSpan? Actual, TimeSpan? Median, TimeSpan? Percentile90, TimeSpan? Bound, TimeSpan? Twin,
    int Restored, int Failed, int Unfinished, double ForecastFailed, int TwinFailed, int AbandonedHandsOn, int RefusedCheckOffs, int Rounds)
{
    /// <summary>(actual − forecast median) ÷ forecast median, in per cent: positive when the engine took longer.</summary>
    public double? ErrorPercent => Actual is { } a && Median is { } m && m > TimeSpan.Zero ? 100 * (a - m) / m : null;

    /// <summary>(actual − twin) ÷ twin, in per cent: how far the engine and the model part on identical dice.</summary>
    public double? TwinErrorPercent => Actual is { } a && Twin is { } t && t > TimeSpan.Zero ? 100 * (a - t) / t : null;

    public bool Covered => Actual is { } a && Percentile90 is { } p && a <= p;
}

/// <summary>
/// The forecast's accuracy drill: the <see cref="AccuracyFleet"/> plan seeded into an empty database, the
/// forecast read from the live tables at the start (<see cref="LivePlan"/>, <see cref="Forecaster"/>), then the real
/// engine — <see cref="WorkflowPumpJob"/> with its <see cref="WorkflowPump"/> and <see cref="Dispatcher"/>, the
/// <see cref="TransitionWriter"/>, the agent command queue, technicians' check-offs, PostgreSQL — run on a
/// <see cref="DrillClock"/> against a simulated world (<see cref="DrillWorld"/>) until every machine is finished.
/// After each instant in which something happened the pump job runs to quiescence, as a kicked job does within a
/// fraction of a second; then the world reacts, and the clock jumps to the next thing that will happen: a step's end,
/// a shift change, a delivery, a command's retry time or a step's timeout.
/// </summary>
public static class AccuracyDrill
{
    private const int DiceOffset = 1_000_000;

    public static async Task<DrillOutcome> RunAsync(NpgsqlDataSource db, int seed, DrillSettings? settings = null, CancellationToken ct = default)
    {
        settings ??= new DrillSettings();
        var clock = new DrillClock(AccuracyFleet.Start);
        await AccuracyFleet.SeedAsync(db, clock, settings.Machines, ct);
        var plan = await LivePlan.ReadAsync(db, clock.Now, ct);
        var forecast = Forecaster.Forecast(plan, settings.ForecastRuns, progress: null, ct);

        var options = Options.Create(new WorkflowOptions());
        var writer = new TransitionWriter(clock);
        var kick = new WorkflowKick(new DrillJobs());
        var job = new WorkflowPumpJob(new WorkflowPump(db, writer, options, clock, NullLogger<WorkflowPump>.Instance),
            new Dispatcher(db, writer, options, clock, NullLogger<Dispatcher>.Instance), kick, clock);
        // The forecast's runs use seeds 1…runs; the world's dice are far past them.
        var dice = DiceOffset + seed;
        var world = new DrillWorld(db, clock, plan, Slower(plan.Durations, settings.WorldSlowdown), dice,
            new AgentCommandQueue(db, clock), new HandsOnSteps(db, writer, new Custody(db, clock), kick, clock), new TechnicianWork(db, writer, kick), new Stockroom(db, kick, clock));
        await world.StartAsync(ct);

        var giveUp = clock.Now + settings.Horizon;
        var rounds = 0;
        while (true)
        {
            await job.RunAsync(ct);
            rounds++;
            await world.ReactAsync(ct);
            var (next, left) = await EngineAsync(db, clock.Now, ct);
            if (left == 0)
            {
                break;
            }

            next = Earliest(next, world.Next);
            if (next is null || next > giveUp)
            {
                break;
            }

            clock.Now = next.Value;
            await world.HappenAsync(ct);
        }

        await using var result = db.CreateCommand(
            """
            SELECT max(state_changed_at) FILTER (WHERE state = 'Restored'), count(*) FILTER (WHERE state = 'Restored'),
                   count(*) FILTER (WHERE state IN ('Failed', 'Quarantined')), count(*) FILTER (WHERE state IN ('Planned', 'Queued', 'AwaitingParts', 'InProgress'))
            FROM reimage.recoveries
            """);
        await using var reader = await result.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (restored, failed, unfinished) = ((int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3));
        TimeSpan? actual = unfinished > 0 || reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0) - AccuracyFleet.Start;
        // The simulation thrown with the world's own dice: where the engine and the forecast's model part, this shows it
        // drill by drill, free of the luck of the draw.
        var twin = ForecastSimulation.Run(settings.WorldSlowdown == 1 ? plan : plan with { Durations = Slower(plan.Durations, settings.WorldSlowdown) }, dice);
        return new DrillOutcome(seed, actual, forecast.Fleet.Median, forecast.Fleet.Percentile90, forecast.Bound.Fleet, twin.FleetMakespan,
            restored, failed, unfinished, forecast.MeanFailed, twin.Failed, world.AbandonedHandsOn, world.RefusedCheckOffs, rounds);
    }

    private static readonly (string[] Steps, TimeSpan[] Timeouts) Timeouts = StepTimeouts();

    private static (string[], TimeSpan[]) StepTimeouts()
    {
        var steps = Enum.GetValues<RecoveryPath>().SelectMany(p => RecoveryPaths.Steps(p, remoteBoot: true).Concat(RecoveryPaths.Steps(p, remoteBoot: false)))
            .DistinctBy(s => s.Step).ToList();
        return ([.. steps.Select(s => s.Step.ToString())], [.. steps.Select(s => s.Timeout)]);
    }

    /// <summary>
    /// What the engine will do by itself, without the world: the earliest retry that comes due and the earliest step
    /// timeout the sweeper may act on (a second past the timeout: it acts on steps strictly older; a hands-on step's
    /// timeout counts only shift time, so it may come due later, at a later event); and how many machines are not finished.
    /// </summary>
    private static async Task<(DateTimeOffset? Next, long Left)> EngineAsync(NpgsqlDataSource db, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            SELECT least(
                (SELECT min(not_before) FROM reimage.agent_commands WHERE status = 'Pending' AND not_before > @now),
                (SELECT min(r.step_started_at + t.timeout + interval '1 second')
                 FROM reimage.recoveries r JOIN unnest(@steps, @timeouts) AS t(step, timeout) ON t.step = r.step
                 WHERE r.state = 'InProgress' AND r.step_started_at + t.timeout + interval '1 second' > @now)),
                (SELECT count(*) FROM reimage.recoveries WHERE state IN ('Planned', 'Queued', 'AwaitingParts', 'InProgress'))
            """);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("steps", Timeouts.Steps);
        command.Parameters.AddWithValue("timeouts", Timeouts.Timeouts);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0), reader.GetInt64(1));
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private static StepDurations Slower(StepDurations durations, double factor) => factor == 1 ? durations
        : new StepDurations(durations.Defaults.ToDictionary(d => d.Key, d => d.Value with { Median = d.Value.Median * factor }))
        {
            BySite = durations.BySite.ToDictionary(d => d.Key, d => d.Value with { Median = d.Value.Median * factor }),
        };
}
