using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Infrastructure;

using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Reliability;

/// <summary>PostgreSQL going away under a running Reimage, and Reimage starting before PostgreSQL. Each test owns its cluster.</summary>
[Collection("Hangfire")]
public sealed class DatabaseOutageTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "reimage-outage-" + Guid.NewGuid().ToString("N")[..8]);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PostgresRestartedMidRun_TheRunCompletesWithoutRestartingReimage()
    {
        const int machines = 600;
        var (connectionString, cluster) = await NewDatabaseAsync();
        var log = new List<string>();
        try
        {
            await using (var db = NpgsqlDataSource.Create(connectionString))
            {
                await ReimageProcess.LaunchDrillFleetAsync(db, machines, slotsPerSite: 40, Ct);
            }

            await using var reimage = ReimageProcess.Start(connectionString, log);
            await WaitForAsync(connectionString, async db => await ReimageProcess.FinalCountAsync(db, Ct) >= 50, TimeSpan.FromMinutes(2), log);
            cluster.Stop();
            await Task.Delay(TimeSpan.FromSeconds(5), Ct); // the outage
            cluster = LocalPostgres.Start(Path.Combine(_root, "pg"));

            await WaitForAsync(connectionString, async db => await ReimageProcess.FinalCountAsync(db, Ct) == machines, TimeSpan.FromMinutes(3), log);

            Assert.False(reimage.HasExited, "Reimage kept running through the outage");
            await using var check = NpgsqlDataSource.Create(connectionString);
            var audit = await AuditVerifier.VerifyAsync(check, Ct);
            Assert.True(audit.Intact, string.Join("\n", audit.Findings.Take(5).Select(f => f.Problem)));
        }
        finally
        {
            cluster.Stop();
        }
    }

    [Fact]
    public async Task StartedWhilePostgresIsDown_WorksWithin30SecondsOfItComingUp()
    {
        var (connectionString, cluster) = await NewDatabaseAsync();
        try
        {
            await using (var db = NpgsqlDataSource.Create(connectionString))
            {
                await ReimageProcess.LaunchDrillFleetAsync(db, 100, slotsPerSite: 25, Ct);
            }

            cluster.Stop();
            var port = TestNetwork.FreePort();
            var log = new List<string>();
            await using var reimage = ReimageProcess.Start(connectionString, log, $"http://127.0.0.1:{port}");
            await Task.Delay(TimeSpan.FromSeconds(8), Ct); // Reimage starts into a dead database
            Assert.False(reimage.HasExited, "Reimage waits for its database instead of exiting:\n" + string.Join("\n", log.TakeLast(20)));
            cluster = LocalPostgres.Start(Path.Combine(_root, "pg"));
            var up = Stopwatch.StartNew();

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
            await WaitForAsync(connectionString, async db =>
            {
                var healthy = await HealthyAsync(http);
                return healthy && await ReimageProcess.ScalarAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'Restored'", Ct) > 0;
            }, TimeSpan.FromSeconds(60), log);

            Assert.True(up.Elapsed < TimeSpan.FromSeconds(30), $"healthy and restoring machines {up.Elapsed.TotalSeconds:F1} s after PostgreSQL came up");
        }
        finally
        {
            cluster.Stop();
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<(string ConnectionString, LocalPostgres Cluster)> NewDatabaseAsync()
    {
        var cluster = LocalPostgres.Start(Path.Combine(_root, "pg"));
        try
        {
            cluster.EnsureDatabase("reimage");
            var connectionString = new NpgsqlConnectionStringBuilder(cluster.ConnectionString("reimage")) { ConnectionIdleLifetime = 2, ConnectionPruningInterval = 1 }.ConnectionString;
            await using var db = NpgsqlDataSource.Create(connectionString);
            var options = new DbContextOptionsBuilder<ReimageDbContext>();
            Storage.Configure(options, db);
            await using var context = new ReimageDbContext(options.Options);
            await context.Database.MigrateAsync(Ct);
            return (connectionString, cluster);
        }
        catch
        {
            cluster.Stop(); // the test never gets it to stop
            throw;
        }
    }

    /// <summary>Polls <paramref name="done"/> (tolerating the database being away) until it holds or the time is up.</summary>
    private static async Task WaitForAsync(string connectionString, Func<NpgsqlDataSource, Task<bool>> done, TimeSpan limit, List<string> log)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                await using var db = NpgsqlDataSource.Create(connectionString);
                if (await done(db))
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
                // the database is still away
            }

            Assert.True(DateTime.UtcNow < deadline, "not reached in time; Reimage said:\n" + string.Join("\n", log.TakeLast(30)));
            await Task.Delay(250, Ct);
        }
    }

    private static async Task<bool> HealthyAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/healthz", Ct)).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

}
