using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Reimage.Dashboard.Live;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Live;

/// <summary>LISTEN/NOTIFY on a real PostgreSQL: changes made on another connection (another node) arrive, bursts are coalesced.</summary>
public sealed class LiveUpdatesTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AChangeOnAnotherConnection_ArrivesWithinTwoSeconds_NamingItsTable()
    {
        var (db, live) = await StartAsync();
        var heard = new TaskCompletionSource<IReadOnlySet<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        live.Changed += changed => heard.TrySetResult(changed);

        // Another "node": its own data source, so nothing in this process knows about the change but PostgreSQL.
        await using var otherNode = NpgsqlDataSource.Create(db);
        var site = await TestFleet.AddSiteAsync(otherNode, "LIV");
        var started = TimeProvider.System.GetTimestamp();
        await TestFleet.AddMachinesAsync(otherNode, site, 3);

        var changed = await heard.Task.WaitAsync(TimeSpan.FromSeconds(2), Ct);
        Assert.Contains("machines", changed);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(2));
        await live.StopAsync(Ct);
    }

    [Fact]
    public async Task ABurstOfChanges_IsPassedOnAtMostOncePerSecond_AndTheLastOneIsNotLost()
    {
        var (db, live) = await StartAsync();
        var times = new List<TimeSpan>();
        var started = TimeProvider.System.GetTimestamp();
        var all = new HashSet<string>();
        live.Changed += changed =>
        {
            lock (times)
            {
                times.Add(TimeProvider.System.GetElapsedTime(started));
                all.UnionWith(changed);
            }
        };

        await using var connection = await NpgsqlDataSource.Create(db).OpenConnectionAsync(Ct);
        for (var i = 0; i < 60; i++) // 60 separate transactions over ~1.8 s
        {
            await using var notify = new NpgsqlCommand($"SELECT pg_notify('{LiveUpdates.Channel}', 't{i % 3}')", connection);
            await notify.ExecuteNonQueryAsync(Ct);
            await Task.Delay(30, Ct);
        }

        var burst = TimeProvider.System.GetElapsedTime(started); // ~1.8 s, longer on a loaded machine
        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        lock (times)
        {
            // The first at once, then at most one per second while changes keep coming, and one for the tail.
            Assert.InRange(times.Count, 2, (int)burst.TotalSeconds + 2);
            for (var i = 1; i < times.Count; i++)
            {
                Assert.True(times[i] - times[i - 1] >= TimeSpan.FromMilliseconds(950), $"renders {times[i - 1]} and {times[i]} closer than a second");
            }

            Assert.Equal(["t0", "t1", "t2"], all.Order());
        }

        await live.StopAsync(Ct);
    }

    private async Task<(string Db, LiveUpdates Live)> StartAsync()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var live = new LiveUpdates(NpgsqlDataSource.Create(connectionString), TimeProvider.System, NullLogger<LiveUpdates>.Instance);
        await live.StartAsync(Ct);
        while (!live.Listening)
        {
            await Task.Delay(20, Ct);
        }

        return (connectionString, live);
    }
}
