using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Tests;

/// <summary>
/// One throwaway PostgreSQL cluster per test run, started with the same mechanism as the product
/// (<see cref="LocalPostgres"/>). A template database is migrated once; every test gets its own copy
/// (<see cref="CreateDatabaseAsync"/>), so no test sees another's rows.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private const string Template = "reimage_template";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "reimage-tests-" + Guid.NewGuid().ToString("N")[..12]);
    private LocalPostgres? _cluster;

    public LocalPostgres Cluster => _cluster ?? throw new InvalidOperationException("The fixture has not started.");

    public async ValueTask InitializeAsync()
    {
        _cluster = LocalPostgres.Start(Path.Combine(_root, "pg"));
        try
        {
            await using var admin = NpgsqlDataSource.Create(Cluster.ConnectionString());
            await using (var create = admin.CreateCommand($"CREATE DATABASE {Template}"))
            {
                await create.ExecuteNonQueryAsync();
            }

            await using (var template = NpgsqlDataSource.Create(Cluster.ConnectionString(Template)))
            {
                var options = new DbContextOptionsBuilder<ReimageDbContext>();
                Storage.Configure(options, template);
                await using var context = new ReimageDbContext(options.Options);
                await context.Database.MigrateAsync();
            }

            NpgsqlConnection.ClearAllPools();
        }
        catch
        {
            // A fixture that fails to start may never be disposed: its server must not outlive the test run.
            _cluster.Stop();
            throw;
        }
    }

    /// <summary>A fresh, migrated database owned by the calling test; returns its connection string.</summary>
    /// <summary>A database of its own for one test: migrated (from the template), or empty (<paramref name="migrate"/> false), as a first start finds it.</summary>
    public async Task<string> CreateDatabaseAsync(bool migrate = true)
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using var admin = NpgsqlDataSource.Create(Cluster.ConnectionString());
        await using var create = admin.CreateCommand($"CREATE DATABASE {name} TEMPLATE {(migrate ? Template : "template0")}");
        await create.ExecuteNonQueryAsync();
        // Tests leave many small pools behind (Hangfire's among them): let idle connections go quickly.
        return new NpgsqlConnectionStringBuilder(Cluster.ConnectionString(name)) { ConnectionIdleLifetime = 2, ConnectionPruningInterval = 1 }.ConnectionString;
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        _cluster?.Stop();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the folder is in the temp directory.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
