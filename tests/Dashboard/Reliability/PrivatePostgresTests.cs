using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Audit;
using Reimage.Orchestrator.Infrastructure;

using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Reliability;

/// <summary>
/// The private PostgreSQL cluster Reimage runs when no connection string is set, treated as the real thing is: its
/// postmaster killed with SIGKILL (the OOM killer, an operator's mistake), its port taken while it is down, Reimage
/// stopped while it is down, and a start of Reimage that fails after the cluster came up.
/// </summary>
[Collection("Hangfire")]
public sealed class PrivatePostgresTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "reimage-private-" + Guid.NewGuid().ToString("N")[..8]);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string ClusterRoot => Path.Combine(_root, "pg");

    [Fact]
    public async Task KilledPrivateCluster_IsBackWithin30Seconds_TheRunCompletes_AndAStopStopsIt()
    {
        const int machines = 600;
        var connectionString = await PrepareClusterAsync(machines);
        var log = new List<string>();
        var port = TestNetwork.FreePort();
        await using var reimage = Start(log, port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(3) };
        await WaitForAsync(async () => await FinalAsync(connectionString) >= 50, TimeSpan.FromMinutes(2), log, reimage);

        KillPostmaster();
        var killed = Stopwatch.StartNew();
        // The killed postmaster's backends linger a moment (a pooled connection may still answer): wait for the restart itself.
        await WaitForAsync(async () => await HealthAsync(http) is (200, var body) && body.Contains("restarted", StringComparison.Ordinal), TimeSpan.FromSeconds(60), log, reimage);
        var backAfter = killed.Elapsed;
        var (_, health) = await HealthAsync(http);

        Assert.True(backAfter < TimeSpan.FromSeconds(30), $"healthy again {backAfter.TotalSeconds:F1} s after the cluster was killed");
        Assert.Contains("private PostgreSQL restarted 1 time(s)", health, StringComparison.Ordinal);
        Assert.Contains(log, l => l.Contains("is not running: starting it again", StringComparison.Ordinal));
        await WaitForAsync(async () => await FinalAsync(connectionString) == machines, TimeSpan.FromMinutes(3), log, reimage);
        var metrics = await http.GetStringAsync("/metrics", Ct);
        Assert.Matches(new System.Text.RegularExpressions.Regex("^reimage_private_postgres_restarts_total(?:\\{[^}]*\\})? 1( |$)", System.Text.RegularExpressions.RegexOptions.Multiline), metrics);
        await using (var db = NpgsqlDataSource.Create(connectionString))
        {
            var audit = await AuditVerifier.VerifyAsync(db, Ct);
            Assert.True(audit.Intact, string.Join("\n", audit.Findings.Take(5).Select(f => f.Problem)));
        }

        Assert.True(await reimage.TerminateAsync(TimeSpan.FromSeconds(60)), "Reimage stopped on SIGTERM");
        Assert.False(PostmasterAlive(), "the cluster Reimage (re)started is stopped with it");
    }

    [Fact]
    public async Task StoppedWhileItsClusterCannotComeBack_ReimageStillStops_AndHealthSaysWhy()
    {
        await PrepareClusterAsync(machines: 0);
        var log = new List<string>();
        var port = TestNetwork.FreePort();
        await using var reimage = Start(log, port, demo: false);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        await WaitForAsync(async () => (await HealthAsync(http)).Status == 200, TimeSpan.FromMinutes(2), log, reimage);
        var clusterPort = int.Parse(await File.ReadAllTextAsync(Path.Combine(ClusterRoot, "port"), Ct), System.Globalization.CultureInfo.InvariantCulture);

        // Killed, and its port taken by something else at once: it cannot start again until the port is free.
        KillPostmaster();
        using var squatter = Squat(clusterPort);
        await WaitForAsync(async () => (await HealthAsync(http)).Body.Contains("restarting (attempt", StringComparison.Ordinal), TimeSpan.FromSeconds(60), log, reimage);
        var (status, body) = await HealthAsync(http);

        Assert.Equal(503, status);
        Assert.Contains("private PostgreSQL down since", body, StringComparison.Ordinal);
        var stopping = Stopwatch.StartNew();
        Assert.True(await reimage.TerminateAsync(TimeSpan.FromSeconds(60)), "a graceful stop must not hang on a dead database:\n" + string.Join("\n", log.TakeLast(20)));
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(45), $"stopped after {stopping.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task AStartThatFails_LeavesNoClusterRunning()
    {
        var log = new List<string>();
        // A setting that fails validation once the host starts: after the cluster was initialised and started.
        await using var reimage = Start(log, TestNetwork.FreePort(), demo: false, new Dictionary<string, string> { ["Reimage__Workflow__BatchSize"] = "0" });
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromMinutes(2));

        await reimage.WaitForExitAsync(patience.Token);

        Assert.NotEqual(0, reimage.ExitCode);
        Assert.True(File.Exists(Path.Combine(ClusterRoot, "data", "PG_VERSION")), "the cluster was made:\n" + string.Join("\n", log.TakeLast(20)));
        Assert.Contains(log, l => l.Contains("Reimage:Workflow", StringComparison.Ordinal));
        Assert.False(PostmasterAlive(), "the failed start stopped the cluster it had started");
    }

    public void Dispose()
    {
        StopPostmaster();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Reimage with no connection string: its private cluster in the test's data directory.</summary>
    private ChildProcess Start(List<string> log, int port, bool demo = true, Dictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>(extra ?? []) { ["Reimage__DataDirectory"] = _root };
        return ReimageProcess.Start("", log, $"http://127.0.0.1:{port}", demo, environment);
    }

    /// <summary>Makes the cluster as Reimage would, migrates it and launches a drill fleet, then stops it again.</summary>
    private async Task<string> PrepareClusterAsync(int machines)
    {
        var cluster = LocalPostgres.Start(ClusterRoot);
        try
        {
            cluster.EnsureDatabase("reimage");
            var connectionString = new NpgsqlConnectionStringBuilder(cluster.ConnectionString("reimage")) { ConnectionIdleLifetime = 2, ConnectionPruningInterval = 1 }.ConnectionString;
            await using var db = NpgsqlDataSource.Create(connectionString);
            var options = new DbContextOptionsBuilder<ReimageDbContext>();
            Storage.Configure(options, db);
            await using (var context = new ReimageDbContext(options.Options))
            {
                await context.Database.MigrateAsync(Ct);
            }

            if (machines > 0)
            {
                await ReimageProcess.LaunchDrillFleetAsync(db, machines, slotsPerSite: 40, Ct);
            }

            return connectionString;
        }
        finally
        {
            cluster.Stop();
        }
    }

    private int? PostmasterPid()
    {
        var file = Path.Combine(ClusterRoot, "data", "postmaster.pid");
        return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault(), out var pid) ? pid : null;
    }

    private bool PostmasterAlive()
    {
        if (PostmasterPid() is not { } pid)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private void KillPostmaster()
    {
        using var process = Process.GetProcessById(PostmasterPid() ?? throw new InvalidOperationException("no postmaster"));
        process.Kill(); // SIGKILL: no shutdown, the pid file and shared memory left behind
        process.WaitForExit(10_000);
    }

    private void StopPostmaster()
    {
        if (PostmasterAlive())
        {
            KillPostmaster();
        }
    }

    private static TcpListener Squat(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return listener;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20); // the killed postmaster's socket is still closing
            }
        }
    }

    private static async Task<long> FinalAsync(string connectionString)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        return await ReimageProcess.FinalCountAsync(db, Ct);
    }

    private static async Task<(int Status, string Body)> HealthAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("/healthz", Ct);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, e.Message);
        }
    }

    /// <summary>Polls until <paramref name="done"/> holds, tolerating a database or server that is away meanwhile.</summary>
    private static async Task WaitForAsync(Func<Task<bool>> done, TimeSpan limit, List<string> log, ChildProcess reimage)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                if (await done())
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
                // the database is away
            }

            Assert.False(reimage.HasExited, "Reimage exited:\n" + Tail(log));
            Assert.True(DateTime.UtcNow < deadline, "not reached in time; Reimage said:\n" + Tail(log));
            await Task.Delay(250, Ct);
        }
    }

    private static string Tail(List<string> log)
    {
        lock (log)
        {
            return string.Join("\n", log.TakeLast(30));
        }
    }

}
