using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Scheduling;

/// <summary>
/// Generated fleets through the real dispatcher and the real PostgreSQL: whatever the mix of sites, shifts, stock and
/// paths, what the tables say afterwards respects every limit, and no site with room and work is left idle.
/// (The policy alone gets thousands of cases in <see cref="SchedulingPolicyTests"/>; these check the SQL around it.)
/// </summary>
public sealed class DispatcherPropertyTests(PostgresFixture postgres)
{
    private const int Fleets = 24;
    private static readonly string[] DriveTypes = ["NVMe-512", "SATA-256"];
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GeneratedFleets_NeverExceedSlotsTechniciansOrStock_AndLeaveNoUsableSlotIdle()
    {
        for (var seed = 0; seed < Fleets; seed++)
        {
            var random = new Random(seed);
            await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
            var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, random.Next(24), 0, 0, TimeSpan.Zero));
            var machines = new List<Guid>();
            for (var s = random.Next(1, 5); s > 0; s--)
            {
                var site = await TestFleet.AddSiteAsync(db, $"S{s}", imagingSlots: random.Next(0, 12), timeZone: random.Next(2) == 0 ? "UTC" : "Asia/Riyadh",
                    imagesFromUsb: random.Next(5) == 0, handsOnPerTechnician: random.Next(1, 4));
                for (var t = random.Next(0, 4); t > 0; t--)
                {
                    var starts = new TimeOnly(random.Next(24), 0);
                    await TestFleet.AddTechnicianAsync(db, site, $"T{s}{t}", "B" + random.Next(2), starts: starts, ends: starts.AddHours(random.Next(6, 13)));
                }

                foreach (var item in DriveTypes.Append(SpareStock.UsbMedia).Where(_ => random.Next(3) > 0))
                {
                    await TestFleet.StockAsync(db, site, item, random.Next(0, 6));
                }

                machines.AddRange(await TestFleet.AddMachinesAsync(db, site, random.Next(0, 30), "RF"));
                machines.AddRange(await TestFleet.AddMachinesAsync(db, site, random.Next(0, 5), "NM", withMac: false));
                machines.AddRange(await TestFleet.AddMachinesAsync(db, site, random.Next(0, 15), "DR", RecoveryPath.DriveReplacement, DriveTypes[random.Next(2)],
                    building: "B" + random.Next(2), floor: random.Next(3).ToString()));
            }

            if (machines.Count > 0)
            {
                await TestFleet.LaunchWaveAsync(db, "Generated", machines);
            }

            var dispatcher = TestFleet.Dispatcher(db, clock);
            for (var round = 0; round < 3; round++)
            {
                await dispatcher.DispatchAsync(Ct);
                await CheckAsync(db, seed, round, clock.GetUtcNow());
                clock.Advance(TimeSpan.FromHours(random.Next(1, 8)));
            }
        }
    }

    private static async Task CheckAsync(NpgsqlDataSource db, int seed, int round, DateTimeOffset now)
    {
        var context = $"fleet {seed}, round {round}";
        await using var connection = await db.OpenConnectionAsync(Ct);
        var snapshot = await Orchestrator.Scheduling.CapacitySnapshot.ReadAsync(connection, null, now, Ct);
        await using var command = new NpgsqlCommand(
            """
            SELECT s.id, s.imaging_slots, s.images_from_usb, s.hands_on_per_technician,
                   coalesce((SELECT on_hand FROM reimage.spare_stock WHERE site_id = s.id AND item = 'USB-media'), 0),
                   (SELECT count(*) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
                    WHERE m.site_id = s.id AND r.state = 'InProgress' AND r.step <> 'Verify'),
                   (SELECT count(*) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
                    WHERE m.site_id = s.id AND r.state = 'InProgress' AND r.step IN ('RemoveDrive', 'InstallDrive', 'ManualBoot')),
                   (SELECT count(*) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id
                    WHERE m.site_id = s.id AND r.state = 'Queued' AND r.path = 'Reformat' AND cardinality(m.mac_addresses) > 0)
            FROM reimage.sites s
            """, connection);
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                var site = reader.GetGuid(0);
                var slots = reader.GetBoolean(2) ? Math.Min(reader.GetInt32(1), reader.GetInt32(4)) : reader.GetInt32(1);
                var inSlots = reader.GetInt64(5);
                var crew = snapshot.OnShift.Count(t => t.SiteId == site);
                Assert.True(inSlots <= slots, $"{context}: {inSlots} machines in {slots} slots");
                Assert.True(reader.GetInt64(6) <= Math.Max(0, crew * reader.GetInt32(3)) || round > 0,
                    $"{context}: {reader.GetInt64(6)} hands-on steps for {crew} technicians on shift");
                Assert.False(inSlots < slots && reader.GetInt64(7) > 0, $"{context}: a slot idle while a remote reformat waits");
            }
        }

        await using var stock = new NpgsqlCommand(
            """
            SELECT s.site_id, s.item, s.on_hand, s.reserved,
                   (SELECT count(*) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE m.site_id = s.site_id AND r.reserved_part = s.item)
            FROM reimage.spare_stock s
            """, connection);
        await using (var reader = await stock.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                Assert.True(reader.GetInt32(3) <= reader.GetInt32(2), $"{context}: more {reader.GetString(1)} reserved than on the shelf");
                Assert.Equal(reader.GetInt64(4), reader.GetInt32(3));
            }
        }

        await using var queues = new NpgsqlCommand(
            """
            SELECT count(*), s.hands_on_per_technician FROM reimage.recoveries r JOIN reimage.technicians t ON t.id = r.technician_id JOIN reimage.sites s ON s.id = t.site_id
            GROUP BY t.id, s.hands_on_per_technician
            """, connection);
        await using (var reader = await queues.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                Assert.True(reader.GetInt64(0) <= reader.GetInt32(1), $"{context}: a technician's queue overfilled");
            }
        }

        await using var wrongSite = new NpgsqlCommand(
            "SELECT count(*) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id JOIN reimage.technicians t ON t.id = r.technician_id WHERE t.site_id <> m.site_id",
            connection);
        Assert.Equal(0L, (long)(await wrongSite.ExecuteScalarAsync(Ct))!);
    }
}
