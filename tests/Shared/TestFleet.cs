using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Tests;

/// <summary>Writes small fleets straight into a test's own database.</summary>
public static class TestFleet
{
    public static ReimageDbContext Context(NpgsqlDataSource db)
    {
        var options = new DbContextOptionsBuilder<ReimageDbContext>();
        Storage.Configure(options, db);
        return new ReimageDbContext(options.Options);
    }

    /// <summary>A context factory on <paramref name="db"/>, as the engine's services take it.</summary>
    public static IDbContextFactory<ReimageDbContext> Contexts(NpgsqlDataSource db)
    {
        var options = new DbContextOptionsBuilder<ReimageDbContext>();
        Storage.Configure(options, db);
        return new Microsoft.EntityFrameworkCore.Infrastructure.PooledDbContextFactory<ReimageDbContext>(options.Options);
    }

    /// <summary>A wave planner on <paramref name="db"/> with no Hangfire behind it (its kicks go nowhere).</summary>
    public static WavePlanner Planner(NpgsqlDataSource db)
    {
        return new WavePlanner(Contexts(db), db,
            new TransitionWriter(TimeProvider.System), new WorkflowKick(Moq.Mock.Of<Hangfire.IBackgroundJobClient>()), TimeProvider.System);
    }

    /// <summary>A dispatcher on <paramref name="db"/> reading the time from <paramref name="clock"/> (the system's by default).</summary>
    public static Orchestrator.Scheduling.Dispatcher Dispatcher(NpgsqlDataSource db, TimeProvider? clock = null, int batchSize = 2000) =>
        new(db, new TransitionWriter(clock ?? TimeProvider.System), Microsoft.Extensions.Options.Options.Create(new WorkflowOptions { BatchSize = batchSize }),
            clock ?? TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Orchestrator.Scheduling.Dispatcher>.Instance);

    /// <summary>Adds a technician at <paramref name="site"/> on one shift (round the clock, every day, unless told otherwise).</summary>
    public static async Task<Technician> AddTechnicianAsync(NpgsqlDataSource db, Site site, string name, string? building = null,
        ShiftDays days = ShiftDays.EveryDay, TimeOnly starts = default, TimeOnly ends = default)
    {
        await using var context = Context(db);
        var technician = new Technician { Id = Guid.CreateVersion7(), SiteId = site.Id, Name = name, Building = building };
        context.Technicians.Add(technician);
        context.Shifts.Add(new Shift { Id = Guid.CreateVersion7(), TechnicianId = technician.Id, Days = days, Starts = starts, Ends = ends });
        await context.SaveChangesAsync();
        return technician;
    }

    /// <summary>Puts <paramref name="onHand"/> of <paramref name="item"/> on <paramref name="site"/>'s shelf.</summary>
    public static async Task StockAsync(NpgsqlDataSource db, Site site, string item, int onHand)
    {
        await using var context = Context(db);
        context.SpareStock.Add(new SpareStock { SiteId = site.Id, Item = item, OnHand = onHand });
        await context.SaveChangesAsync();
    }

    public static async Task<Site> AddSiteAsync(NpgsqlDataSource db, string code, int imagingSlots = 25, string timeZone = "Europe/London",
        bool imagesFromUsb = false, int handsOnPerTechnician = 3)
    {
        await using var context = Context(db);
        var site = new Site
        {
            Id = Guid.CreateVersion7(), Code = code, Name = code + " site", TimeZone = timeZone, ImagingSlots = imagingSlots,
            ImagesFromUsb = imagesFromUsb, HandsOnPerTechnician = handsOnPerTechnician, CreatedAt = DateTimeOffset.UtcNow,
        };
        context.Sites.Add(site);
        await context.SaveChangesAsync();
        return site;
    }

    /// <summary>Creates an approved and launched wave holding <paramref name="machines"/> (queued for the dispatcher); returns its id.</summary>
    public static async Task<Guid> LaunchWaveAsync(NpgsqlDataSource db, string name, IReadOnlyCollection<Guid> machines, int ordinal = 1)
    {
        var planner = Planner(db);
        var lead = Actor.System("test");
        var wave = await planner.CreateAsync(name, ordinal, CancellationToken.None);
        await planner.AddMachinesAsync(wave.Id, machines, lead, CancellationToken.None);
        await planner.ApproveAsync(wave.Id, lead, CancellationToken.None);
        await planner.LaunchAsync(wave.Id, lead, CancellationToken.None);
        return wave.Id;
    }

    /// <summary>Adds <paramref name="count"/> NotPlanned machines at <paramref name="site"/>; returns their ids.</summary>
    public static async Task<Guid[]> AddMachinesAsync(NpgsqlDataSource db, Site site, int count, string prefix = "PC",
        RecoveryPath path = RecoveryPath.Reformat, string? diskType = null, string? building = null, string? floor = null, bool withMac = true)
    {
        await using var context = Context(db);
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var id = Guid.CreateVersion7();
            ids.Add(id);
            context.Machines.Add(new Machine
            {
                Id = id, Hostname = $"{site.Code}-{prefix}{i:D4}", SiteId = site.Id, SerialNumber = $"{site.Code}-{prefix}SN{i:D6}",
                DiskType = diskType, Building = building, Floor = floor,
                MacAddresses = !withMac ? [] : [$"02:{prefix.GetHashCode() & 0xFF:X2}:00:{site.Code.GetHashCode() & 0xFF:X2}:{i >> 8:X2}:{i & 0xFF:X2}"],
                CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            });
            context.Recoveries.Add(new Recovery { MachineId = id, State = RecoveryState.NotPlanned, Path = path, StateChangedAt = DateTimeOffset.UtcNow });
        }

        await context.SaveChangesAsync();
        return [.. ids];
    }

    /// <summary>The one value <paramref name="sql"/> selects.</summary>
    public static async Task<T> ScalarAsync<T>(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>A count (or any bigint) <paramref name="sql"/> selects.</summary>
    public static Task<long> CountAsync(NpgsqlDataSource db, string sql) => ScalarAsync<long>(db, sql);

    /// <summary>The value <paramref name="sql"/> selects, as invariant text (booleans as True/False).</summary>
    public static async Task<string> TextAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return Convert.ToString(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    /// <summary>The first column of every row <paramref name="sql"/> selects.</summary>
    public static async Task<List<T>> ColumnAsync<T>(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var values = new List<T>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public static async Task ExecuteAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
