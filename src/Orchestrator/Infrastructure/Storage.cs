using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Reimage.Orchestrator.Infrastructure;

public static class Storage
{
    public const string ConnectionStringName = "Reimage";

    /// <summary>
    /// Registers the database: the configured <c>ConnectionStrings:Reimage</c>, or else a private local cluster
    /// in <c>&lt;Reimage:DataDirectory&gt;/pg</c> that is started now and stopped when the application stops.
    /// </summary>
    public static IHostApplicationBuilder AddReimageStorage(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var dataDirectory = builder.Configuration["Reimage:DataDirectory"] ?? ".reimage";
            var cluster = LocalPostgres.Start(Path.Combine(dataDirectory, "pg"));
            cluster.EnsureDatabase("reimage");
            connectionString = cluster.ConnectionString("reimage");
            builder.Configuration[$"ConnectionStrings:{ConnectionStringName}"] = connectionString;
            builder.Services.AddSingleton(cluster);
            builder.Services.AddHostedService<LocalPostgresLifetime>();
        }

        // Built by the container so that it is disposed (its connections closed) with the host.
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        builder.Services.AddDbContextFactory<ReimageDbContext>((services, options) => Configure(options, services.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    public static void Configure(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations", ReimageDbContext.Schema))
            .UseSnakeCaseNamingConvention();

    /// <summary>
    /// Applies EF Core migrations (creating the database when it does not exist). PostgreSQL may still be
    /// starting, or briefly away: retried for up to <paramref name="patience"/> before giving up.
    /// </summary>
    public static async Task MigrateReimageDatabaseAsync(this IServiceProvider services, TimeSpan patience, CancellationToken ct)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(Storage));
        var deadline = DateTime.UtcNow + patience;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await services.GetRequiredService<IDbContextFactory<ReimageDbContext>>().CreateDbContextAsync(ct);
                await db.Database.MigrateAsync(ct);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException && DateTime.UtcNow < deadline)
            {
                logger.LogWarning("Database not reachable yet (attempt {Attempt}): {Reason}", attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), ct);
            }
        }
    }
}

/// <summary>Stops the private cluster after everything else has stopped.</summary>
internal sealed class LocalPostgresLifetime(LocalPostgres cluster, IHostApplicationLifetime lifetime, ILogger<LocalPostgresLifetime> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Using the private PostgreSQL cluster in {Directory} on 127.0.0.1:{Port}", cluster.Root, cluster.Port);
        lifetime.ApplicationStopped.Register(() =>
        {
            try
            {
                cluster.Stop();
            }
            catch (InvalidOperationException e)
            {
                logger.LogError(e, "The private PostgreSQL cluster did not stop cleanly");
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
