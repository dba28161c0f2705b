using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
        var port = TestNetwork.FreePort();
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

    /// <summary>
    /// HTTPS end to end with Kestrel's configured certificate: a self-signed one, as a recovery team makes while the
    /// organisation's PKI is down, that no client trusts unless told to. The agent pins it by the fingerprint openssl
    /// prints; a task sequence reports over it; the browser-facing answers are Secure, HSTS and CSP.
    /// </summary>
    [Fact]
    public async Task OverHttps_TheAgentPinsTheServersCertificate_PhoneHomeReports_AndCookiesAreSecure()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var db = NpgsqlDataSource.Create(connectionString);
        var site = await TestFleet.AddSiteAsync(db, "TLS", imagingSlots: 10);
        await TestFleet.LaunchWaveAsync(db, "Over TLS", await TestFleet.AddMachinesAsync(db, site, 10));
        var log = new List<string>();
        var port = TestNetwork.FreePort();
        var tls = ServerCertificate();
        await using var server = await StartServerAsync(connectionString, port, log, tls);

        // Nobody trusts the certificate by default: an unpinned client is refused.
        using (var unpinned = new HttpClient { BaseAddress = new Uri($"https://127.0.0.1:{port}") })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => unpinned.GetAsync("/healthz", Ct));
            Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        }

        var cookies = new CookieContainer();
        using (var browserLike = Client(port, tls.Certificate, cookies))
        {
            using var login = await browserLike.PostAsJsonAsync("/api/account/login", new { userName = "admin", password = ReimageApp.AdminPassword }, Ct);
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            var setCookie = string.Join("\n", login.Headers.GetValues("Set-Cookie")).ToLowerInvariant();
            Assert.Contains("reimage=", setCookie, StringComparison.Ordinal);
            Assert.Contains("secure", setCookie, StringComparison.Ordinal);
            Assert.Contains("httponly", setCookie, StringComparison.Ordinal);
            Assert.Contains("samesite=strict", setCookie, StringComparison.Ordinal);
            Assert.StartsWith("max-age=31536000", login.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", login.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }

        var token = await EnrolmentTokenAsync(port, site.Id, tls.Certificate);
        await using var agent = ReimageProcess.StartAgent(AgentEnvironment(port, token, pinned: tls.Certificate), log);
        await WaitForAsync(() => CountAsync(db, $"SELECT count(*) FROM reimage.recoveries r JOIN reimage.machines m ON m.id = r.machine_id WHERE m.site_id = '{site.Id}' AND r.state = 'Restored'"),
            n => n == 10, TimeSpan.FromMinutes(3), log, agent, server);

        // A task sequence's report over the same TLS: accepted by token, answered (the serial is not in the fleet).
        var phoneHome = await EnrolmentTokenAsync(port, site.Id, tls.Certificate, "phone-home-tokens");
        using (var taskSequence = Client(port, tls.Certificate))
        {
            taskSequence.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", phoneHome);
            using var report = await taskSequence.PostAsJsonAsync("/phone-home/v1/events", new { serial = "NOT-IN-FLEET", @event = "started" }, Ct);
            Assert.Equal(HttpStatusCode.NotFound, report.StatusCode);
        }

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
        var port = TestNetwork.FreePort();
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

    [Theory]
    [InlineData("--help", "exit codes:")]
    [InlineData("--version", "reimage-agent ")]
    public async Task AgentProcess_AnswersHelpAndVersion_WithoutAnyConfiguration(string argument, string expected)
    {
        // Before: --help failed on the missing server address like any start.
        var log = new List<string>();
        var bin = AppContext.BaseDirectory;
        await using var agent = ChildProcess.Start(new System.Diagnostics.ProcessStartInfo("dotnet", $"\"{Path.Combine(bin, "Reimage.Agents.dll")}\" {argument}") { WorkingDirectory = bin }, log);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(TimeSpan.FromMinutes(1));

        await agent.WaitForExitAsync(patience.Token);

        Assert.Equal(0, agent.ExitCode);
        lock (log)
        {
            Assert.Contains(log, l => l.StartsWith(expected, StringComparison.Ordinal));
            Assert.DoesNotContain(log, l => l.Contains("Agent:Server", StringComparison.Ordinal) && l.Contains("must", StringComparison.Ordinal));
        }
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

    private Dictionary<string, string> AgentEnvironment(int port, string token, double speed = 600, X509Certificate2? pinned = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Agent__Server"] = $"{(pinned is null ? "http" : "https")}://127.0.0.1:{port}",
            ["Agent__AllowInsecureHttp"] = pinned is null ? "true" : "false",
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
        if (pinned is not null)
        {
            // As `openssl x509 -fingerprint -sha256` prints it.
            environment["Agent__ServerCertificates__0"] = string.Join(':', pinned.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
        }

        return environment;
    }

    /// <summary>The server on <paramref name="port"/> (HTTPS with <paramref name="tls"/>), once it answers /healthz; killed again if it never does.</summary>
    private static async Task<ChildProcess> StartServerAsync(string connectionString, int port, List<string> log, (string Path, X509Certificate2 Certificate)? tls = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Reimage__Agents__Lease"] = "00:00:05",
            ["Reimage__Agents__OfflineAfter"] = "00:00:15",
            ["Reimage__Security__InitialAdminPassword"] = ReimageApp.AdminPassword,
        };
        if (tls is { } configured)
        {
            // Kestrel's own configuration, as the README and the systemd unit document it.
            environment["Kestrel__Certificates__Default__Path"] = configured.Path;
            environment["Kestrel__Certificates__Default__Password"] = TlsPassword;
        }

        var server = ReimageProcess.Start(connectionString, log, $"{(tls is null ? "http" : "https")}://127.0.0.1:{port}", demo: false, environment);
        try
        {
            using var http = Client(port, tls?.Certificate);
            http.Timeout = TimeSpan.FromSeconds(2);
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

    private const string TlsPassword = "test-tls-password";

    /// <summary>A client of the server on <paramref name="port"/>; over HTTPS trusting exactly <paramref name="pinned"/>.</summary>
    private static HttpClient Client(int port, X509Certificate2? pinned, CookieContainer? cookies = null) =>
        new(new HttpClientHandler
        {
            CookieContainer = cookies ?? new CookieContainer(),
            ServerCertificateCustomValidationCallback = pinned is null ? null : (_, certificate, _, _) => certificate?.Thumbprint == pinned.Thumbprint,
        })
        { BaseAddress = new Uri($"{(pinned is null ? "http" : "https")}://127.0.0.1:{port}") };

    /// <summary>A lead's HTTP client: signed in as the admin through the real sign-in endpoint, cookie kept.</summary>
    private static async Task<HttpClient> SignedInAsync(int port, X509Certificate2? pinned = null)
    {
        var http = Client(port, pinned);
        using var login = await http.PostAsJsonAsync("/api/account/login", new { userName = "admin", password = ReimageApp.AdminPassword }, Ct);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return http;
    }

    private static async Task<string> EnrolmentTokenAsync(int port, Guid site, X509Certificate2? pinned = null, string kind = "enrolment-tokens")
    {
        using var http = await SignedInAsync(port, pinned);
        using var response = await http.PostAsJsonAsync($"/api/sites/{site}/{kind}", new { validHours = 1 }, Ct);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{kind}: {response.StatusCode}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
    }

    /// <summary>A self-signed server certificate for 127.0.0.1 (what a recovery team makes while the PKI is down), as a PKCS#12 file.</summary>
    private (string Path, X509Certificate2 Certificate) ServerCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=reimage.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "tls.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, TlsPassword));
        return (path, X509CertificateLoader.LoadCertificate(certificate.RawData));
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


    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
