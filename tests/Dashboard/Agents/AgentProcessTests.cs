using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;
using Reimage.Dashboard.Tests.Reliability;
using Reimage.Orchestrator.Audit;
using Reimage.Tests;
using static Reimage.Tests.TestFleet;

namespace Reimage.Dashboard.Tests.Agents;

/// <summary>
/// The real site agent process, enrolled against the real server process, over HTTP on loopback: it drives simulated
/// machines from Queued to Restored, never touches another site's, and survives minutes cut off from the server
/// without carrying out a command twice or having a result counted twice.
/// </summary>
[Collection("Hangfire")]
public sealed class AgentProcessTests(PostgresFixture postgres) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "reimage-agent-" + Guid.NewGuid().ToString("N")[..8]);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EnrolledAgentProcess_DrivesItsSitesMachinesToRestored_AndLeavesOtherSitesAlone()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var db = NpgsqlDataSource.Create(connectionString);
        var site = await TestFleet.AddSiteAsync(db, "AGENT", imagingSlots: 20);
        var other = await TestFleet.AddSiteAsync(db, "ELSEWHERE", imagingSlots: 20);
        var mine = await TestFleet.AddMachinesAsync(db, site, 40);
        await TestFleet.LaunchWaveAsync(db, "Agents", [.. mine, .. await TestFleet.AddMachinesAsync(db, other, 5)]);
        var log = new List<string>();
        var port = FreePort();
        await using var server = await StartServerAsync(connectionString, port, log);
        var token = await EnrolmentTokenAsync(port, site.Id);
        await using var agent = ReimageProcess.StartAgent(AgentEnvironment(port, token), log);

        await WaitForAsync(() => CountAsync(db, $"SELECT count(*) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE m.site_id = '{site.Id}' AND r.state = 'Restored'"),
            n => n == 40, TimeSpan.FromMinutes(3), log, agent, server);

        var journal = await File.ReadAllLinesAsync(Path.Combine(_root, "journal.csv"), Ct);
        Assert.Equal(journal.Length, journal.Select(l => l.Split(',')[0]).Distinct().Count());
        Assert.Equal(40 * 3, journal.Length); // network boot, imaging, verification: each once
        Assert.All(journal, l => Assert.StartsWith("AGENT-", l.Split(',')[2], StringComparison.Ordinal));
        Assert.Equal(0L, await CountAsync(db, $"SELECT count(*) FROM reimage.agent_commands WHERE site_id = '{other.Id}' AND deliveries > 0"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_root, "data", "credential.json")));
        }

        Assert.DoesNotContain(log, l => l.Contains(token, StringComparison.Ordinal)); // the token is a secret: never logged
        Assert.True((await AuditVerifier.VerifyAsync(db, Ct)).Intact);
    }

    [Fact]
    public async Task AgentCutOffForMinutes_CarriesOutNothingTwice_AndEachQueuedResultCountsOnce()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var db = NpgsqlDataSource.Create(connectionString);
        var site = await TestFleet.AddSiteAsync(db, "CUT", imagingSlots: 12);
        await TestFleet.LaunchWaveAsync(db, "Cut off", await TestFleet.AddMachinesAsync(db, site, 36));
        var log = new List<string>();
        var port = FreePort();
        await using var server = await StartServerAsync(connectionString, port, log);
        await using var proxy = new CutoffProxy(port);
        var token = await EnrolmentTokenAsync(port, site.Id);
        await using var agent = ReimageProcess.StartAgent(AgentEnvironment(proxy.Port, token, speed: 150), log);
        await WaitForAsync(() => CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'Restored'"), n => n >= 6, TimeSpan.FromMinutes(2), log, agent, server);

        proxy.Cut();
        var cutAt = DateTime.UtcNow;
        // While the line is down the agent finishes what it holds and keeps the results; its leases lapse on the server.
        await WaitForAsync(() => CountAsync(db, "SELECT count(*) FROM reimage.agent_commands WHERE status = 'Leased' AND lease_expires_at > now()"),
            n => n == 0, TimeSpan.FromMinutes(1), log);
        using (var http = await SignedInAsync(port))
        {
            await WaitForAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/agents", Ct))[0].GetProperty("online").GetBoolean() ? 1 : 0,
                online => online == 0, TimeSpan.FromMinutes(1), log);
        }

        var remaining = TimeSpan.FromMinutes(2) - (DateTime.UtcNow - cutAt);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, Ct); // the rest of the outage: two minutes in all
        }

        proxy.Restore();
        await WaitForAsync(() => CountAsync(db, "SELECT count(*) FROM reimage.recoveries WHERE state = 'Restored'"), n => n == 36, TimeSpan.FromMinutes(3), log, agent, server);

        var journal = await File.ReadAllLinesAsync(Path.Combine(_root, "journal.csv"), Ct);
        Assert.Equal(36 * 3, journal.Length);
        Assert.Equal(journal.Length, journal.Select(l => l.Split(',')[0]).Distinct().Count());
        Assert.Equal(36L * 3, await CountAsync(db, "SELECT count(*) FROM reimage.agent_commands WHERE status = 'Applied'"));
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM reimage.agent_commands WHERE status <> 'Applied'"));
        Assert.True(await CountAsync(db, "SELECT count(*) FROM reimage.agent_commands WHERE deliveries > 1") > 0, "some commands were offered again after their lease lapsed");
        // Planned, Queued, NetworkBoot, Imaging, Verify, Restored: six transitions a machine, none twice.
        Assert.Equal(0L, await CountAsync(db, "SELECT count(*) FROM (SELECT machine_id FROM reimage.machine_events WHERE kind = 'transition' GROUP BY machine_id HAVING count(*) <> 6) x"));
        Assert.True((await AuditVerifier.VerifyAsync(db, Ct)).Intact);
    }

    [Fact]
    public async Task AgentProcess_WithBadConfiguration_ExitsWithCode3_NamingEveryBadKey()
    {
        var log = new List<string>();
        await using var agent = ReimageProcess.StartAgent(new Dictionary<string, string>
        {
            ["Agent__Server"] = "http://reimage.example", // plain http without Agent__AllowInsecureHttp
            ["Agent__WakeOnLan__Port"] = "0",
            ["Agent__DataDirectory"] = Path.Combine(_root, "data"),
        }, log);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromMinutes(1));

        await agent.WaitForExitAsync(patience.Token);

        Assert.Equal(3, agent.ExitCode); // bad configuration: the service managers do not restart it
        lock (log)
        {
            Assert.Contains(log, l => l.Contains("Agent:Server", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains("Agent:WakeOnLan:Port", StringComparison.Ordinal));
        }
    }

    private Dictionary<string, string> AgentEnvironment(int port, string token, double speed = 600) => new()
    {
        ["Agent__Server"] = $"http://127.0.0.1:{port}",
        ["Agent__AllowInsecureHttp"] = "true",
        ["Agent__EnrolmentToken"] = token,
        ["Agent__Name"] = "test-agent",
        ["Agent__Driver"] = "simulated",
        ["Agent__SimulationSpeed"] = speed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Agent__SimulationFailures"] = "false",
        ["Agent__SimulationJournal"] = Path.Combine(_root, "journal.csv"),
        ["Agent__DataDirectory"] = Path.Combine(_root, "data"),
        ["Agent__LongPoll"] = "00:00:02",
        ["Agent__HeartbeatInterval"] = "00:00:02",
    };

    /// <summary>The server on <paramref name="port"/>, once it answers /healthz; killed again if it never does.</summary>
    private static async Task<ChildProcess> StartServerAsync(string connectionString, int port, List<string> log)
    {
        var server = ReimageProcess.Start(connectionString, log, $"http://127.0.0.1:{port}", demo: false, new Dictionary<string, string>
        {
            ["Reimage__Agents__Lease"] = "00:00:05",
            ["Reimage__Agents__OfflineAfter"] = "00:00:15",
            ["Reimage__Security__InitialAdminPassword"] = ReimageApp.AdminPassword,
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
            await WaitForAsync(async () =>
            {
                using var response = await http.GetAsync("/healthz", Ct);
                return (long)response.StatusCode;
            }, status => status == 200, TimeSpan.FromMinutes(1), log, server);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A lead's HTTP client: signed in as the admin through the real sign-in endpoint, cookie kept.</summary>
    private static async Task<HttpClient> SignedInAsync(int port)
    {
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var login = await http.PostAsJsonAsync("/api/account/login", new { userName = "admin", password = ReimageApp.AdminPassword }, Ct);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return http;
    }

    private static async Task<string> EnrolmentTokenAsync(int port, Guid site)
    {
        using var http = await SignedInAsync(port);
        using var response = await http.PostAsJsonAsync($"/api/sites/{site}/enrolment-tokens", new { validHours = 1 }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
    }

    /// <summary>
    /// Reads until <paramref name="done"/> holds. A read that fails or times out (a slow server, a database busy with
    /// the rest of the suite) is tried again: only <paramref name="patience"/> running out, or one of the processes
    /// in <paramref name="alive"/> exiting, ends the wait.
    /// </summary>
    private static async Task WaitForAsync(Func<Task<long>> read, Func<long, bool> done, TimeSpan patience, List<string> log, params ChildProcess[] alive)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            string state;
            try
            {
                var value = await read();
                if (done(value))
                {
                    return;
                }

                state = $"still {value}";
            }
            catch (Exception e) when ((e is HttpRequestException or NpgsqlException or OperationCanceledException) && !Ct.IsCancellationRequested)
            {
                state = $"the last read failed ({e.GetType().Name}: {e.Message})";
            }

            if (DateTime.UtcNow > deadline || alive.Any(p => p.HasExited))
            {
                string tail;
                lock (log)
                {
                    tail = string.Join("\n", log.TakeLast(40));
                }

                Assert.Fail($"After {patience} {state}{(alive.Any(p => p.HasExited) ? " and a process exited" : "")}. Last log lines:\n{tail}");
            }

            await Task.Delay(250, Ct);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
