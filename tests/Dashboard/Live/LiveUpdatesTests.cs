using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Reimage.Dashboard.Live;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Live;

/// <summary>
/// LISTEN/NOTIFY on a real PostgreSQL: changes made on another connection (another node) arrive, bursts are coalesced,
/// a lost connection comes back. The coalescing window and the reconnect backoff run on a fake clock that the test
/// moves only when LiveUpdates is waiting on it, so the test says exactly when a change may be passed on; real time
/// only bounds how long the test waits for PostgreSQL and the thread pool.
/// </summary>
public sealed class LiveUpdatesTests(PostgresFixture postgres)
{
    /// <summary>How long to wait for something that happens within milliseconds on an idle machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AChangeOnAnotherConnection_ArrivesAtOnce_NamingItsTable()
    {
        var timeline = new Timeline();
        var (db, live) = await StartAsync(timeline);

        // Another "node": its own data source, so nothing in this process knows about the change but PostgreSQL.
        await using var otherNode = NpgsqlDataSource.Create(db);
        var site = await TestFleet.AddSiteAsync(otherNode, "LIV");
        await TestFleet.AddMachinesAsync(otherNode, site, 3);

        // Passed on without the clock moving: a lone change is not held for a coalescing window.
        var render = Assert.IsType<Render>(await timeline.NextAsync());
        Assert.Contains("machines", render.Changed);
        Assert.Equal(timeline.Clock.Start, render.At);
        await live.StopAsync(Ct);
    }

    [Fact]
    public async Task ABurstOfChanges_IsPassedOnAtMostOncePerSecond_AndTheLastOneIsNotLost()
    {
        var timeline = new Timeline();
        var (db, live) = await StartAsync(timeline);
        await using var connection = await NpgsqlDataSource.Create(db).OpenConnectionAsync(Ct);

        await NotifyAsync(connection, "t0");
        var first = Assert.IsType<Render>(await timeline.NextAsync());
        for (var i = 1; i <= 60; i++) // 60 more, in separate transactions
        {
            await NotifyAsync(connection, $"t{i % 3}");
        }

        await NotifyAsync(connection, "last");
        var renders = await DriveUntilAsync(timeline, changed => changed.Contains("last"));

        // The first at once, then at most one per second while changes keep coming, and one for the tail.
        renders.Insert(0, first);
        Assert.Equal(timeline.Clock.Start, first.At);
        for (var i = 1; i < renders.Count; i++)
        {
            Assert.True(renders[i].At - renders[i - 1].At >= LiveUpdates.Coalesce, $"renders at {renders[i - 1].At:O} and {renders[i].At:O} closer than a second");
        }

        Assert.Equal(["last", "t0", "t1", "t2"], renders.SelectMany(r => r.Changed).Distinct().Order());
        await live.StopAsync(Ct);
    }

    [Fact]
    public async Task ALostConnection_Reconnects_AfterTheBackoff_AndReportsEverythingChanged()
    {
        var timeline = new Timeline();
        var (db, live) = await StartAsync(timeline);
        await using var otherNode = NpgsqlDataSource.Create(db);

        // The server ends the listening session, as a restart or a failover would.
        await using (var kill = otherNode.CreateCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"))
        {
            Assert.Equal(1L, await kill.ExecuteScalarAsync(Ct));
        }

        // It waits out its backoff on the clock before trying again, then says everything changed: what was sent meanwhile is gone.
        var backoff = Assert.IsType<Wait>(await timeline.NextAsync());
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.For);
        Assert.False(live.Listening);
        timeline.Clock.Advance(backoff.For);
        var render = Assert.IsType<Render>(await timeline.NextAsync());
        Assert.Equal([LiveUpdates.Everything], render.Changed);
        Assert.Equal(timeline.Clock.Start + backoff.For, render.At);

        // Listening again: a change on another connection arrives.
        await live.WhenListening.WaitAsync(Patience, Ct);
        await using var connection = await otherNode.OpenConnectionAsync(Ct);
        await NotifyAsync(connection, "machines");
        await DriveUntilAsync(timeline, changed => changed.Contains("machines"));
        await live.StopAsync(Ct);
    }

    /// <summary>
    /// Lets LiveUpdates run until it passes on a change that <paramref name="done"/> accepts: each time it waits on the
    /// clock (a change held for the rest of its window), the clock moves on by exactly that wait. Returns the renders seen.
    /// </summary>
    private static async Task<List<Render>> DriveUntilAsync(Timeline timeline, Func<IReadOnlySet<string>, bool> done)
    {
        var renders = new List<Render>();
        while (true)
        {
            switch (await timeline.NextAsync())
            {
                case Wait wait:
                    timeline.Clock.Advance(wait.For);
                    break;
                case Render render:
                    renders.Add(render);
                    if (done(render.Changed))
                    {
                        return renders;
                    }

                    break;
                default:
                    throw new InvalidOperationException("Unknown happening.");
            }
        }
    }

    private static async Task NotifyAsync(NpgsqlConnection connection, string table)
    {
        await using var notify = new NpgsqlCommand($"SELECT pg_notify('{LiveUpdates.Channel}', @table)", connection);
        notify.Parameters.AddWithValue("table", table);
        await notify.ExecuteNonQueryAsync(Ct);
    }

    private async Task<(string Db, LiveUpdates Live)> StartAsync(Timeline timeline)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var live = new LiveUpdates(NpgsqlDataSource.Create(connectionString), timeline.Clock, NullLogger<LiveUpdates>.Instance);
        live.Changed += changed => timeline.Add(new Render(timeline.Clock.GetUtcNow(), changed));
        await live.StartAsync(Ct);
        await live.WhenListening.WaitAsync(Patience, Ct);
        return (connectionString, live);
    }

    private abstract record Happening;

    /// <summary>LiveUpdates raised <see cref="LiveUpdates.Changed"/>, at this time on the fake clock.</summary>
    private sealed record Render(DateTimeOffset At, IReadOnlySet<string> Changed) : Happening;

    /// <summary>LiveUpdates started waiting on the clock for this long.</summary>
    private sealed record Wait(TimeSpan For) : Happening;

    /// <summary>What LiveUpdates did, in order: changes passed on and waits begun on its clock, which only the test moves.</summary>
    private sealed class Timeline
    {
        private readonly Channel<Happening> _happenings = Channel.CreateUnbounded<Happening>();

        public Timeline() => Clock = new WaitingClock(this);

        public WaitingClock Clock { get; }

        public void Add(Happening happening) => _happenings.Writer.TryWrite(happening);

        public async Task<Happening> NextAsync()
        {
            try
            {
                return await _happenings.Reader.ReadAsync(Ct).AsTask().WaitAsync(Patience, Ct);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"LiveUpdates neither passed a change on nor waited on its clock within {Patience}.");
            }
        }
    }

    /// <summary>A fake clock that tells the timeline whenever something starts waiting on it.</summary>
    private sealed class WaitingClock(Timeline timeline) : FakeTimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            timeline.Add(new Wait(dueTime));
            return timer;
        }
    }
}
