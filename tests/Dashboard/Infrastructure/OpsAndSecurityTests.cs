using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Dashboard.Fleet;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Infrastructure;

[Collection("Hangfire")]
public sealed partial class OpsAndSecurityTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Healthz_Is200WhileTheDatabaseAnswers_And503OnceItIsGone()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var app = new ReimageApp(connectionString);
        var up = await app.SendAsync("GET", "/healthz", ReimageApp.Remote);

        await using (var admin = NpgsqlDataSource.Create(postgres.Cluster.ConnectionString()))
        await using (var drop = admin.CreateCommand($"DROP DATABASE \"{new NpgsqlConnectionStringBuilder(connectionString).Database}\" WITH (FORCE)"))
        {
            await drop.ExecuteNonQueryAsync(Ct);
        }

        var down = await app.SendAsync("GET", "/healthz", ReimageApp.Remote);

        Assert.Equal((200, "ok"), up);
        Assert.Equal(503, down.Status);
    }

    [Fact]
    public async Task Metrics_ReportMachinesByStateSummingToTheFleet_AndCountTransitions()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var site = await TestFleet.AddSiteAsync(db, "MET", imagingSlots: 0); // no slots: machines stay Queued
        var machines = await TestFleet.AddMachinesAsync(db, site, 7);
        var planner = app.Services.GetRequiredService<WavePlanner>();
        var wave = await planner.CreateAsync("metrics", 1, Ct);
        await planner.AddMachinesAsync(wave.Id, machines[..4], Actor.System("test"), Ct);
        await planner.ApproveAsync(wave.Id, Actor.System("test"), Ct);
        await planner.LaunchAsync(wave.Id, Actor.System("test"), Ct);
        await app.Services.GetRequiredService<FleetStatus>().RefreshAsync(Ct);

        var (status, body) = await app.SendAsync("GET", "/metrics", ReimageApp.Remote);

        Assert.Equal(200, status);
        var byState = MachinesGauge().Matches(body).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.Equal(7, byState.Values.Sum());
        Assert.Equal((3L, 4L, 0L), (byState["NotPlanned"], byState["Queued"], byState["Restored"]));
        var transitions = TransitionsCounter().Matches(body).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.True(transitions >= 8, $"4 planned + 4 queued transitions counted, got {transitions}:\n{body}");
    }

    [Theory]
    [InlineData("GET", "/", 302)]
    [InlineData("GET", "/import", 302)]
    [InlineData("GET", "/hangfire", 401)]
    [InlineData("POST", "/api/import", 401)]
    [InlineData("GET", "/waves", 302)]
    [InlineData("GET", "/failures", 302)]
    [InlineData("GET", "/api/waves", 401)]
    [InlineData("POST", "/api/machines/actions", 401)]
    [InlineData("POST", "/api/machines/0192f1d4-7d1e-7c3a-9b7e-1f2a3b4c5d6e/steps/RemoveDrive/complete", 401)]
    [InlineData("GET", "/api/machines/0192f1d4-7d1e-7c3a-9b7e-1f2a3b4c5d6e/custody", 401)]
    public async Task AnonymousCaller_IsTurnedAway_EvenFromThisMachineOrWithASpoofedForwardedFor(string method, string path, int expected)
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());

        var remote = await app.SendAsync(method, path, ReimageApp.Remote);
        var spoofed = await app.SendAsync(method, path, ReimageApp.Remote, c => c.Request.Headers["X-Forwarded-For"] = "127.0.0.1");
        var local = await app.SendAsync(method, path, ReimageApp.Remote, c => c.Connection.RemoteIpAddress = IPAddress.Loopback);

        Assert.Equal((expected, expected, expected), (remote.Status, spoofed.Status, local.Status));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/import")]
    [InlineData("/hangfire")]
    [InlineData("/waves")]
    [InlineData("/failures")]
    [InlineData("/sites")]
    [InlineData("/agents")]
    public async Task SignedInAdmin_GetsThePages(string path)
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());

        var (status, body) = await app.SendAsync("GET", path, IPAddress.Loopback);

        Assert.Equal(200, status);
        Assert.Contains("<html", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EveryEndpoint_NamesAnAuthorizationPolicyOrAllowsAnonymousExplicitly()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        var unguarded = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is not null || a.Roles is not null))
            .Select(e => $"{e.RoutePattern.RawText} ({e.DisplayName}) {string.Join(",", e.Metadata.Select(m => m.GetType().Name))}")
            .ToList();

        Assert.NotEmpty(endpoints);
        Assert.True(unguarded.Count == 0, string.Join("\n", unguarded));
        Assert.NotNull((await app.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetFallbackPolicyAsync())?.Requirements);
    }

    [GeneratedRegex("""^reimage_machines\{[^}]*state="(\w+)"[^}]*\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex MachinesGauge();

    [GeneratedRegex("""^reimage_transitions_total(?:\{[^}]*\})? ([0-9.e+]+)""", RegexOptions.Multiline)]
    private static partial Regex TransitionsCounter();

    /// <summary>
    /// Behind a load balancer (here 10.20.30.40) every caller's address is in X-Forwarded-For: the audit records the
    /// caller's, the proxy's own is believed only from the configured proxy, and a forged header from elsewhere changes nothing.
    /// </summary>
    [Fact]
    public async Task BehindAConfiguredProxy_TheAuditRecordsTheCaller_AndAForgedHeaderFromElsewhereChangesNothing()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync(), settings: new Dictionary<string, string> { ["Reimage:Network:TrustedProxies:0"] = "10.20.30.0/24" });
        await app.CookieAsync();
        var db = app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();

        var viaProxy = await app.SendAsync("POST", "/api/import?createSites=true", ReimageApp.Remote, c => c.Request.Headers["X-Forwarded-For"] = "198.51.100.7", "hostname,site\nPX-1,PX\n", "admin");
        var forged = await app.SendAsync("POST", "/api/import?createSites=true", System.Net.IPAddress.Parse("192.0.2.50"), c => c.Request.Headers["X-Forwarded-For"] = "203.0.113.9", "hostname,site\nPX-2,PX\n", "admin");

        Assert.Equal((200, 200), (viaProxy.Status, forged.Status));
        Assert.Equal("api 198.51.100.7", await Reimage.Tests.TestFleet.TextAsync(db, "SELECT e.origin FROM reimage.machine_events e JOIN reimage.machines m ON m.id = e.machine_id WHERE m.hostname = 'PX-1' ORDER BY e.id LIMIT 1"));
        Assert.Equal("api 192.0.2.50", await Reimage.Tests.TestFleet.TextAsync(db, "SELECT e.origin FROM reimage.machine_events e JOIN reimage.machines m ON m.id = e.machine_id WHERE m.hostname = 'PX-2' ORDER BY e.id LIMIT 1"));
    }
}
