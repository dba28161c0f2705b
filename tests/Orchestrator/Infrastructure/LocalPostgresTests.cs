using Npgsql;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Orchestrator.Tests.Infrastructure;

/// <summary>The private cluster: created once, kept across restarts, adopted while running, stopped by its owner.</summary>
public sealed class LocalPostgresTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "reimage-localpg-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Restart_KeepsTheData_AndASecondStarterAdoptsTheRunningServerWithoutStoppingIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var first = LocalPostgres.Start(_root);
        first.EnsureDatabase("reimage");
        await ExecuteAsync(first, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)", ct);

        var adopter = LocalPostgres.Start(_root); // the server is running: adopt it, do not start another
        Assert.Equal(first.Port, adopter.Port);
        adopter.Stop(); // not its server to stop
        Assert.Equal(42, await ExecuteAsync(first, "SELECT v FROM kept", ct));

        first.Stop();
        Assert.False(File.Exists(Path.Combine(first.DataDirectory, "postmaster.pid")), "the owner stopped the server");

        var restarted = LocalPostgres.Start(_root);
        try
        {
            Assert.Equal(42, await ExecuteAsync(restarted, "SELECT v FROM kept", ct));
            Assert.Equal("127.0.0.1", new NpgsqlConnectionStringBuilder(restarted.ConnectionString()).Host);
        }
        finally
        {
            restarted.Stop();
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Cluster_PasswordFile_IsReadableByItsOwnerOnly()
    {
        var cluster = LocalPostgres.Start(_root);
        try
        {
            var mode = File.GetUnixFileMode(Path.Combine(_root, "password"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
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

    private static async Task<object?> ExecuteAsync(LocalPostgres cluster, string sql, CancellationToken ct)
    {
        // Unpooled: the server restarts on the same port, and a pooled connection would outlive it.
        await using var connection = new NpgsqlConnection(cluster.ConnectionString("reimage") + ";Pooling=false");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(ct);
    }
}
