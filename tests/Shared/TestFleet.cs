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

    /// <summary>A wave planner on <paramref name="db"/> with no Hangfire behind it (its kicks go nowhere).</summary>
    public static WavePlanner Planner(NpgsqlDataSource db)
    {
        var options = new DbContextOptionsBuilder<ReimageDbContext>();
        Storage.Configure(options, db);
        return new WavePlanner(new Microsoft.EntityFrameworkCore.Infrastructure.PooledDbContextFactory<ReimageDbContext>(options.Options), db,
            new TransitionWriter(TimeProvider.System), new WorkflowKick(Moq.Mock.Of<Hangfire.IBackgroundJobClient>()), TimeProvider.System);
    }

    public static async Task<Site> AddSiteAsync(NpgsqlDataSource db, string code, int imagingSlots = 25)
    {
        await using var context = Context(db);
        var site = new Site { Id = Guid.CreateVersion7(), Code = code, Name = code + " site", TimeZone = "Europe/London", ImagingSlots = imagingSlots, CreatedAt = DateTimeOffset.UtcNow };
        context.Sites.Add(site);
        await context.SaveChangesAsync();
        return site;
    }

    /// <summary>Adds <paramref name="count"/> NotPlanned machines at <paramref name="site"/>; returns their ids.</summary>
    public static async Task<Guid[]> AddMachinesAsync(NpgsqlDataSource db, Site site, int count, string prefix = "PC")
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
                MacAddresses = [$"02:{prefix.GetHashCode() & 0xFF:X2}:00:{site.Code.GetHashCode() & 0xFF:X2}:{i >> 8:X2}:{i & 0xFF:X2}"],
                CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            });
            context.Recoveries.Add(new Recovery { MachineId = id, State = RecoveryState.NotPlanned, Path = RecoveryPath.Reformat, StateChangedAt = DateTimeOffset.UtcNow });
        }

        await context.SaveChangesAsync();
        return [.. ids];
    }
}
