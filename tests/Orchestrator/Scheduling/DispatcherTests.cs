using Microsoft.Extensions.Time.Testing;
using Moq;
using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Evidence;
using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Orchestrator.Tests.Scheduling;

/// <summary>The live dispatcher against the real PostgreSQL: capacity read from the tables, decisions written through the transition writer.</summary>
public sealed class DispatcherTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DriveReplacement_WithNoSpareLeft_AwaitsPartsWithAnAlert_AndStartsWhenTheDeliveryIsReceived()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "PARTS", imagingSlots: 10);
        await TestFleet.AddTechnicianAsync(db, site, "Ana");
        await TestFleet.StockAsync(db, site, "NVMe-512", 1);
        var machines = await TestFleet.AddMachinesAsync(db, site, 3, path: RecoveryPath.DriveReplacement, diskType: "NVMe-512");
        await TestFleet.LaunchWaveAsync(db, "Replace", machines);
        var dispatcher = TestFleet.Dispatcher(db);

        Assert.Equal(1, await dispatcher.DispatchAsync(Ct));
        Assert.Equal([("AwaitingParts", 2), ("InProgress", 1)], await StatesAsync(db));
        Assert.Equal((1L, 1L), (await CountAsync(db, "SELECT on_hand::bigint FROM reimage.spare_stock"), await CountAsync(db, "SELECT reserved::bigint FROM reimage.spare_stock")));
        Assert.Equal(1L, await CountAsync(db, "SELECT count(*) FROM reimage.alerts WHERE kind = 'awaiting-parts' AND subject = 'NVMe-512' AND resolved_at IS NULL"));

        var stockroom = new Stockroom(db, Kick(), TimeProvider.System);
        var delivery = await stockroom.ExpectAsync(site.Id, "NVMe-512", 2, "PO-4471", DateTimeOffset.UtcNow.AddDays(1), Ct);
        Assert.Equal(0, await dispatcher.DispatchAsync(Ct)); // announced is not on the shelf
        Assert.True(await stockroom.ReceiveAsync(delivery.Id, "Ana", Ct));
        Assert.False(await stockroom.ReceiveAsync(delivery.Id, "Ana", Ct)); // received twice, counted once

        Assert.Equal(2, await dispatcher.DispatchAsync(Ct));
        Assert.Equal([("InProgress", 3)], await StatesAsync(db));
        Assert.Equal((3L, 3L), (await CountAsync(db, "SELECT on_hand::bigint FROM reimage.spare_stock"), await CountAsync(db, "SELECT reserved::bigint FROM reimage.spare_stock")));
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM reimage.alerts WHERE resolved_at IS NULL"));
    }

    [Fact]
    public async Task HandsOnWork_WaitsForATechnicianOnShiftInTheSitesZone_WhileRemoteWorkGoesAhead()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        // 05:00 UTC on a Wednesday is 08:00 in Riyadh (UTC+3): the 09:00–17:00 shift has not begun.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 5, 0, 0, TimeSpan.Zero));
        var site = await TestFleet.AddSiteAsync(db, "RUH", imagingSlots: 10, timeZone: "Asia/Riyadh");
        var ana = await TestFleet.AddTechnicianAsync(db, site, "Ana", days: ShiftDays.Weekdays, starts: new TimeOnly(9, 0), ends: new TimeOnly(17, 0));
        await TestFleet.StockAsync(db, site, "NVMe-512", 10);
        var replace = await TestFleet.AddMachinesAsync(db, site, 2, prefix: "DR", path: RecoveryPath.DriveReplacement, diskType: "NVMe-512");
        var reformat = await TestFleet.AddMachinesAsync(db, site, 2, prefix: "RF");
        await TestFleet.LaunchWaveAsync(db, "Mixed", [.. replace, .. reformat]);
        var dispatcher = TestFleet.Dispatcher(db, clock);

        Assert.Equal(2, await dispatcher.DispatchAsync(Ct)); // the reformats only
        Assert.Equal(2L, await CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'Queued' AND path = 'DriveReplacement'"));

        clock.Advance(TimeSpan.FromHours(1)); // 09:00 in Riyadh
        Assert.Equal(2, await dispatcher.DispatchAsync(Ct));
        Assert.Equal(2L, await CountAsync(db, $"SELECT count(*) FROM reimage.recoveries WHERE step = 'RemoveDrive' AND technician_id = '{ana.Id}'"));
        Assert.Equal(2L, await CountAsync(db, "SELECT count(*) FROM reimage.machine_events WHERE kind = 'assignment' AND detail = 'assigned to Ana'"));
    }

    [Fact]
    public async Task HandsOnAdmissions_StopAtTheTechniciansQueueLimit()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "LIMIT", imagingSlots: 50, handsOnPerTechnician: 2);
        await TestFleet.AddTechnicianAsync(db, site, "Ana");
        await TestFleet.AddTechnicianAsync(db, site, "Ben");
        await TestFleet.StockAsync(db, site, "SATA-256", 50);
        await TestFleet.LaunchWaveAsync(db, "Replace", await TestFleet.AddMachinesAsync(db, site, 9, path: RecoveryPath.DriveReplacement, diskType: "SATA-256"));
        var dispatcher = TestFleet.Dispatcher(db);

        Assert.Equal(4, await dispatcher.DispatchAsync(Ct));
        Assert.Equal(0, await dispatcher.DispatchAsync(Ct));
        Assert.Equal([2L, 2L], await ColumnAsync<long>(db, "SELECT count(*) FROM reimage.recoveries WHERE technician_id IS NOT NULL GROUP BY technician_id"));
    }

    [Fact]
    public async Task UsbImagedSite_ImagesNoMoreMachinesAtOnceThanItHasUsbMedia()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "SHIP", imagingSlots: 20, imagesFromUsb: true);
        await TestFleet.StockAsync(db, site, SpareStock.UsbMedia, 3);
        await TestFleet.LaunchWaveAsync(db, "Vessel", await TestFleet.AddMachinesAsync(db, site, 8));

        Assert.Equal(3, await TestFleet.Dispatcher(db).DispatchAsync(Ct));
    }

    [Fact]
    public async Task MachineWithNoMac_GetsAHandsOnBootForATechnician_AndItsCheckOffLeadsToImaging()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "NOMAC");
        var ana = await TestFleet.AddTechnicianAsync(db, site, "Ana");
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1, withMac: false))[0];
        await TestFleet.LaunchWaveAsync(db, "Manual", [machine]);

        Assert.Equal(1, await TestFleet.Dispatcher(db).DispatchAsync(Ct));
        Assert.Equal(ana.Id, await ScalarAsync<Guid>(db, $"SELECT technician_id FROM reimage.recoveries WHERE step = 'ManualBoot' AND machine_id = '{machine}'"));
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM reimage.agent_commands"));

        var steps = new HandsOnSteps(db, new TransitionWriter(TimeProvider.System), new Custody(db, TimeProvider.System), Kick(), TimeProvider.System);
        var result = await steps.CompleteAsync(machine, Step.ManualBoot, new HandsOnCompletion(), "boot-1", new Actor("ana", "test", "Ana"), Ct);

        Assert.Equal(HandsOnOutcome.Completed, result.Outcome);
        Assert.Equal("Imaging", await ScalarAsync<string>(db, $"SELECT step FROM reimage.recoveries WHERE machine_id = '{machine}'"));
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE technician_id IS NOT NULL"));
    }

    [Fact]
    public async Task FittingTheDrive_TakesItOffTheShelf_AndAFailedMachineGivesItsReservationBack()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "FIT");
        await TestFleet.AddTechnicianAsync(db, site, "Ana");
        await TestFleet.StockAsync(db, site, "NVMe-512", 5);
        var machines = await TestFleet.AddMachinesAsync(db, site, 2, path: RecoveryPath.DriveReplacement, diskType: "NVMe-512");
        await TestFleet.LaunchWaveAsync(db, "Fit", machines);
        await TestFleet.Dispatcher(db).DispatchAsync(Ct);
        var steps = new HandsOnSteps(db, new TransitionWriter(TimeProvider.System), new Custody(db, TimeProvider.System), Kick(), TimeProvider.System);

        await steps.CompleteAsync(machines[0], Step.RemoveDrive, new HandsOnCompletion("OLD-1", EvidenceBagId: "EB-1", SealId: "S-1"), "k1", new Actor("ana", "test", "Ana"), Ct);
        await steps.CompleteAsync(machines[0], Step.InstallDrive, new HandsOnCompletion(NewDriveSerial: "NEW-1"), "k2", new Actor("ana", "test", "Ana"), Ct);
        await using (var fail = db.CreateCommand($"SELECT version FROM reimage.recoveries WHERE machine_id = '{machines[1]}'"))
        {
            var version = (long)(await fail.ExecuteScalarAsync(Ct))!;
            await using var connection = await db.OpenConnectionAsync(Ct);
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await new TransitionWriter(TimeProvider.System).WriteAsync(connection, transaction,
                [new Transition(machines[1], version, RecoveryPath.DriveReplacement, RecoveryState.InProgress, RecoveryState.Failed, Step.RemoveDrive, 1, null, FailureReason: "test")],
                Actor.System("test"), Ct);
            await transaction.CommitAsync(Ct);
        }

        Assert.Equal((4L, 0L), (await CountAsync(db, "SELECT on_hand::bigint FROM reimage.spare_stock"), await CountAsync(db, "SELECT reserved::bigint FROM reimage.spare_stock")));
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE reserved_part IS NOT NULL"));
    }

    [Fact]
    public async Task ClaimReleaseAndReassign_AreRecordedInTheChain_AndWorkOfATechnicianOffShiftMovesToOneOnShift()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));
        var site = await TestFleet.AddSiteAsync(db, "CREW", timeZone: "UTC");
        var day = await TestFleet.AddTechnicianAsync(db, site, "Day", starts: new TimeOnly(6, 0), ends: new TimeOnly(18, 0));
        var night = await TestFleet.AddTechnicianAsync(db, site, "Night", starts: new TimeOnly(18, 0), ends: new TimeOnly(6, 0));
        var other = await TestFleet.AddSiteAsync(db, "ELSEWHERE");
        var stranger = await TestFleet.AddTechnicianAsync(db, other, "Stranger");
        var machine = (await TestFleet.AddMachinesAsync(db, site, 1, withMac: false))[0];
        await TestFleet.LaunchWaveAsync(db, "Crew", [machine]);
        var dispatcher = TestFleet.Dispatcher(db, clock);
        var work = new TechnicianWork(db, new TransitionWriter(clock), Kick());
        var lead = new Actor("lead", "test");

        await dispatcher.DispatchAsync(Ct);
        Assert.Equal(day.Id, await HolderAsync(db, machine));
        Assert.False((await work.ClaimAsync(machine, stranger.Id, lead, Ct)).Done); // another site's technician
        Assert.False((await work.ReleaseAsync(machine, night.Id, lead, null, Ct)).Done); // not the holder
        Assert.True((await work.ReleaseAsync(machine, day.Id, lead, "needs a ladder", Ct)).Done);
        Assert.Null(await HolderAsync(db, machine));
        Assert.True((await work.ReassignAsync(machine, night.Id, lead, Ct)).Done);
        Assert.True((await work.ClaimAsync(machine, day.Id, lead, Ct)).Done);
        Assert.Equal([machine], (await work.QueueAsync(day.Id, Ct)).Select(q => q.MachineId));

        clock.Advance(TimeSpan.FromHours(9)); // 19:00: the day shift has gone home
        await dispatcher.DispatchAsync(Ct);

        Assert.Equal(night.Id, await HolderAsync(db, machine));
        var details = await ColumnAsync<string>(db, $"SELECT detail FROM reimage.machine_events WHERE machine_id = '{machine}' AND kind = 'assignment' ORDER BY id");
        Assert.Equal(["assigned to Day", "released by Day: needs a ladder", "reassigned by lead from nobody to Night", "claimed by Day from Night", "reassigned to Night: Day is off shift"], details);
        Assert.True((await AuditVerifier.VerifyAsync(db, Ct)).Intact);
    }

    [Fact]
    public async Task Gates_AreHeldByUnfinishedMachinesOnly_NotBySkippedOnesOrAnEmptyPrerequisite()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var site = await TestFleet.AddSiteAsync(db, "GATES", imagingSlots: 50);
        var planner = TestFleet.Planner(db);
        var empty = await planner.CreateAsync("Empty", 1, Ct);
        var first = await TestFleet.LaunchWaveAsync(db, "First", await TestFleet.AddMachinesAsync(db, site, 1, "A"), ordinal: 2);
        var afterEmpty = await planner.CreateAsync("After empty", 3, Ct);
        var afterFirst = await planner.CreateAsync("After first", 4, Ct);
        await planner.SetGateAsync(afterEmpty.Id, empty.Id, 100, Ct);
        await planner.SetGateAsync(afterFirst.Id, first, 100, Ct);
        var lead = Actor.System("test");
        foreach (var (wave, prefix) in new[] { (afterEmpty.Id, "B"), (afterFirst.Id, "C") })
        {
            await planner.AddMachinesAsync(wave, await TestFleet.AddMachinesAsync(db, site, 2, prefix), lead, Ct);
            await planner.ApproveAsync(wave, lead, Ct);
            await planner.LaunchAsync(wave, lead, Ct);
        }

        var dispatcher = TestFleet.Dispatcher(db);
        Assert.Equal(3, await dispatcher.DispatchAsync(Ct)); // the first wave's machine and the two behind the empty wave
        await using (var skip = db.CreateCommand($"UPDATE reimage.recoveries SET state = 'Skipped', step = NULL WHERE wave_id = '{first}'"))
        {
            await skip.ExecuteNonQueryAsync(Ct);
        }

        Assert.Equal(2, await dispatcher.DispatchAsync(Ct)); // a lead skipped it: the gate opens
    }

    private static WorkflowKick Kick() => new(Mock.Of<Hangfire.IBackgroundJobClient>());

    private static async Task<Guid?> HolderAsync(NpgsqlDataSource db, Guid machine)
    {
        await using var command = db.CreateCommand($"SELECT technician_id FROM reimage.recoveries WHERE machine_id = '{machine}'");
        return await command.ExecuteScalarAsync(Ct) is Guid id ? id : null;
    }

    private static async Task<List<(string, long)>> StatesAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("SELECT state, count(*) FROM reimage.recoveries GROUP BY state ORDER BY state");
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(string, long)>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return rows;
    }
}
