using Microsoft.EntityFrameworkCore;
using Npgsql;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Tests;

namespace Reimage.Orchestrator.Tests.Infrastructure;

public sealed class MigrationsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Migrate_FromEmptyDatabase_CreatesDomainSchemaAndLeavesNothingPending()
    {
        var name = "empty_" + Guid.NewGuid().ToString("N");
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.Cluster.ConnectionString()) { Database = name }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var options = new DbContextOptionsBuilder<ReimageDbContext>();
        Storage.Configure(options, dataSource);
        await using var context = new ReimageDbContext(options.Options);

        await context.Database.MigrateAsync(TestContext.Current.CancellationToken); // creates the database too

        Assert.Empty(await context.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        await using var command = dataSource.CreateCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'reimage' ORDER BY table_name");
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            tables.Add(reader.GetString(0));
        }

        Assert.Equal(["__ef_migrations", "agent_commands", "agents", "alerts", "audit_checkpoint_heads", "audit_checkpoints", "custody_transfers", "deliveries", "evidence_items", "golden_images", "handover_notes", "idempotent_requests",
            "imaging_reports", "machine_events", "machines", "phone_home_receipts", "pump_kick", "recoveries", "shifts", "site_rules", "site_tokens", "sites", "spare_stock", "technicians", "wave_gates", "waves"], tables);
    }
}
