using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;

namespace Reimage.Bench.Infrastructure;

/// <summary>
/// A migrated database beside the configured one, for benchmarks and drills that must never touch the real fleet.
/// Dropped on dispose.
/// </summary>
public sealed class ThrowawayDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private ThrowawayDatabase(string name, string connectionString, string adminConnectionString)
    {
        Name = name;
        ConnectionString = connectionString;
        _adminConnectionString = adminConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<ThrowawayDatabase> CreateAsync(string connectionString, string prefix, CancellationToken ct)
    {
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..12];
        var target = new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres" }.ConnectionString;
        await using (var db = NpgsqlDataSource.Create(target))
        {
            var options = new DbContextOptionsBuilder<ReimageDbContext>();
            Storage.Configure(options, db);
            await using var context = new ReimageDbContext(options.Options);
            await context.Database.MigrateAsync(ct); // creates the database
        }

        return new ThrowawayDatabase(name, target, admin);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = NpgsqlDataSource.Create(_adminConnectionString);
        await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        await drop.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
