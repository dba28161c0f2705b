using System.Net;
using System.Net.Sockets;
using Npgsql;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Reliability;

/// <summary>
/// Three nodes started at the same moment on one empty database, as an orchestrator (systemd on three hosts, a
/// Kubernetes deployment) starts them: before, their EF migrations collided ("column … already exists") and the
/// check-then-insert of roles and the first admin raced ("Username 'admin' is already taken"), killing two of three.
/// </summary>
[Collection("Hangfire")]
public sealed class MultiNodeStartTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ThreeNodesStartedTogetherOnAnEmptyDatabase_AllComeUp_WithOneAdminAndOneSetOfRoles()
    {
        var connectionString = await postgres.CreateDatabaseAsync(migrate: false);
        var log = new List<string>();
        var ports = new[] { TestNetwork.FreePort(), TestNetwork.FreePort(), TestNetwork.FreePort() };
        var nodes = ports.Select(port => ReimageProcess.Start(connectionString, log, $"http://127.0.0.1:{port}", demo: false, new Dictionary<string, string>
        {
            ["Reimage__Security__InitialAdminPassword"] = ReimageApp.AdminPassword,
        })).ToList();
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            foreach (var port in ports)
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(3) };
                while (!await HealthyAsync(http))
                {
                    Assert.True(nodes.All(n => !n.HasExited), "a node exited:\n" + Tail(log));
                    Assert.True(DateTime.UtcNow < deadline, $"node on {port} not healthy in time:\n" + Tail(log));
                    await Task.Delay(250, Ct);
                }
            }

            await using var db = NpgsqlDataSource.Create(connectionString);
            Assert.Equal(1L, await TestFleet.ScalarAsync<long>(db, "SELECT count(*) FROM identity.\"AspNetUsers\" WHERE user_name = 'admin'"));
            Assert.Equal(4L, await TestFleet.ScalarAsync<long>(db, "SELECT count(*) FROM identity.\"AspNetRoles\""));
            Assert.All(nodes, n => Assert.False(n.HasExited));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task<bool> HealthyAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/healthz", Ct)).StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
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
