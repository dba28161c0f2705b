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
    /// in <c>&lt;Reimage:DataDirectory&gt;/pg</c> that is started now, restarted if it dies, and stopped when the application stops.
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
            builder.Services.AddSingleton<PrivatePostgresStatus>();
            builder.Services.AddHostedService<LocalPostgresSupervisor>();
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
    /// Holds an installation-wide lock (a PostgreSQL advisory lock named <paramref name="purpose"/>) until disposed: what
    /// every node must do one at a time at start (migrate, seed the first accounts).
    /// </summary>
    public static async Task<IAsyncDisposable> InstallationLockAsync(this NpgsqlDataSource db, string purpose, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await using var take = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext(@purpose))", connection);
            take.Parameters.AddWithValue("purpose", purpose);
            await take.ExecuteNonQueryAsync(ct);
            return new AdvisoryLock(connection, purpose);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed class AdvisoryLock(NpgsqlConnection connection, string purpose) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext(@purpose))", connection);
                release.Parameters.AddWithValue("purpose", purpose);
                await release.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException)
            {
                // the session is gone, and its lock with it
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }

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
                // Nodes started together on an empty database take turns: concurrent migrations collide ("column … already exists").
                await using var turn = await services.GetRequiredService<NpgsqlDataSource>().InstallationLockAsync("reimage migrations", ct);
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

/// <summary>What the supervisor knows about the private cluster, for <c>/healthz</c> and the log.</summary>
public sealed class PrivatePostgresStatus
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _downSince;
    private int _attempts;
    private string? _lastError;

    public int Restarts { get; private set; }

    public DateTimeOffset? LastRestartAt { get; private set; }

    /// <summary>Whether the cluster is known to be down (and being restarted) right now.</summary>
    public bool IsDown
    {
        get
        {
            lock (_gate)
            {
                return _downSince is not null;
            }
        }
    }

    /// <summary>A line for people: null while it runs and never had to be restarted.</summary>
    public string? Describe()
    {
        lock (_gate)
        {
            if (_downSince is { } since)
            {
                return $"private PostgreSQL down since {since:u}, restarting (attempt {_attempts}{(_lastError is null ? "" : $": {_lastError}")})";
            }

            return Restarts == 0 ? null : $"private PostgreSQL restarted {Restarts} time(s), last at {LastRestartAt:u}";
        }
    }

    internal void Down(DateTimeOffset at, string? error)
    {
        lock (_gate)
        {
            _downSince ??= at;
            _attempts++;
            _lastError = error;
        }
    }

    internal void Restarted(DateTimeOffset at)
    {
        lock (_gate)
        {
            _downSince = null;
            _attempts = 0;
            _lastError = null;
            Restarts++;
            LastRestartAt = at;
        }
    }
}

/// <summary>
/// Keeps the private cluster running: every two seconds it checks that the postmaster is alive, and when it is not
/// (killed, crashed, stopped by someone) starts it again on the same port, with a backoff from 1 s to 30 s between
/// failed attempts, saying so in the log, in <c>/healthz</c> and in <c>reimage_private_postgres_restarts_total</c>. The
/// application's connections come back by themselves. Stops the cluster after everything else has stopped, and does
/// not wait for one that is already dead.
/// </summary>
internal sealed class LocalPostgresSupervisor(
    LocalPostgres cluster, PrivatePostgresStatus status, IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<LocalPostgresSupervisor> logger)
    : BackgroundService
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public override Task StartAsync(CancellationToken cancellationToken)
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
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckEvery, clock, stoppingToken);
                if (cluster.IsRunning())
                {
                    backoff = TimeSpan.FromSeconds(1);
                    continue;
                }

                status.Down(clock.GetUtcNow(), null);
                logger.LogError("The private PostgreSQL cluster in {Directory} is not running: starting it again on port {Port}", cluster.Root, cluster.Port);
                await Task.Run(cluster.Restart, stoppingToken);
                status.Restarted(clock.GetUtcNow());
                ReimageMetrics.PrivatePostgresRestarts.Add(1);
                logger.LogWarning("The private PostgreSQL cluster is running again on port {Port} (restart {Count})", cluster.Port, status.Restarts);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (InvalidOperationException e)
            {
                status.Down(clock.GetUtcNow(), e.Message.Length > 200 ? e.Message[..200] : e.Message);
                logger.LogError("The private PostgreSQL cluster did not start again ({Reason}); next attempt in {Seconds} s", e.Message, backoff.TotalSeconds);
                try
                {
                    await Task.Delay(backoff, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
