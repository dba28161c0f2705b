using System.Diagnostics;
using Npgsql;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Reliability;

/// <summary>The real Reimage server as a child process, running the simulated fleet on an accelerated clock.</summary>
internal static class ReimageProcess
{
    /// <summary>Starts the server; dispose the result to kill it (also when the test fails).</summary>
    public static ChildProcess Start(string connectionString, List<string> log, string urls = "http://127.0.0.1:0", bool demo = true,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var bin = AppContext.BaseDirectory;
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(bin, "Reimage.Dashboard.dll")}\"{(demo ? " --demo" : "")} --urls {urls}") { WorkingDirectory = bin };
        info.Environment["ConnectionStrings__Reimage"] = connectionString;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Reimage__Demo__Speed"] = "900";        // a 25-minute imaging run takes under 2 s
        info.Environment["Reimage__Agents__Lease"] = "00:00:03"; // a killed agent's commands come back quickly
        info.Environment["Reimage__Workflow__RetryBackoff"] = "00:00:00";
        return Launch(info, environment ?? new Dictionary<string, string>(), log);
    }

    /// <summary><paramref name="machines"/> machines over four sites, in one approved and launched wave.</summary>
    public static async Task LaunchDrillFleetAsync(NpgsqlDataSource db, int machines, int slotsPerSite, CancellationToken ct)
    {
        var ids = new List<Guid>();
        foreach (var code in new[] { "K1", "K2", "K3", "K4" })
        {
            var site = await TestFleet.AddSiteAsync(db, code, imagingSlots: slotsPerSite);
            ids.AddRange(await TestFleet.AddMachinesAsync(db, site, machines / 4));
        }

        var planner = TestFleet.Planner(db);
        var wave = await planner.CreateAsync("Drill", 1, ct);
        await planner.AddMachinesAsync(wave.Id, ids, Actor.System("test"), ct);
        await planner.ApproveAsync(wave.Id, Actor.System("test"), ct);
        await planner.LaunchAsync(wave.Id, Actor.System("test"), ct);
    }

    public static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql, CancellationToken ct)
    {
        await using var command = db.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public static Task<long> FinalCountAsync(NpgsqlDataSource db, CancellationToken ct) =>
        ScalarAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state IN ('Restored', 'Failed')", ct);

    /// <summary>The real site agent (src/Agents) as a child process, configured through its environment; dispose it to kill it.</summary>
    public static ChildProcess StartAgent(IReadOnlyDictionary<string, string> environment, List<string> log)
    {
        var bin = AppContext.BaseDirectory;
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(bin, "Reimage.Agents.dll")}\"") { WorkingDirectory = bin };
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return Launch(info, environment, log);
    }

    private static ChildProcess Launch(ProcessStartInfo info, IReadOnlyDictionary<string, string> environment, List<string> log)
    {
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return ChildProcess.Start(info, log);
    }
}
