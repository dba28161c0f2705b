using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Npgsql;
using Reimage.Dashboard.Live;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Fleet;

/// <summary>How many machines are in each recovery state, read in one statement so the counts add up.</summary>
public sealed record FleetCounts(FrozenDictionary<RecoveryState, long> ByState, DateTimeOffset ReadAt)
{
    public static FleetCounts Empty { get; } = new(Enum.GetValues<RecoveryState>().ToFrozenDictionary(s => s, _ => 0L), DateTimeOffset.MinValue);

    public long Total => ByState.Values.Sum();

    public long this[RecoveryState state] => ByState.GetValueOrDefault(state);
}

/// <summary>
/// The fleet's live counts by state: re-read from the database when <see cref="LiveUpdates"/> says machines moved
/// (on any node; at most once a second), and every 30 s as a safety net; published to open dashboards through
/// <see cref="Changed"/> and to Prometheus as the <c>reimage_machines</c> gauge.
/// </summary>
public sealed class FleetStatus : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _reading = new(1, 1);
    private readonly LiveUpdates _live;
    private readonly NpgsqlDataSource _db;
    private readonly TimeProvider _clock;
    private readonly ILogger<FleetStatus> _logger;

    // A meter of its own (same name as the orchestrator's) so that the gauge goes away with this instance.
    private readonly Meter _meter = new(ReimageMetrics.MeterName);

    public FleetStatus(NpgsqlDataSource db, TimeProvider clock, LiveUpdates live, ILogger<FleetStatus> logger)
    {
        _db = db;
        _live = live;
        _clock = clock;
        _logger = logger;
        _meter.CreateObservableGauge("reimage_machines", Observe, description: "Machines by recovery state.");
    }

    public FleetCounts Current { get; private set; } = FleetCounts.Empty;

    /// <summary>Raised after each read whose counts differ from the previous one.</summary>
    public event Action<FleetCounts>? Changed;

    public async Task<FleetCounts> RefreshAsync(CancellationToken ct)
    {
        await _reading.WaitAsync(ct);
        try
        {
            return await ReadAsync(ct);
        }
        finally
        {
            _reading.Release();
        }
    }

    private async Task<FleetCounts> ReadAsync(CancellationToken ct)
    {
        var counts = Enum.GetValues<RecoveryState>().ToDictionary(s => s, _ => 0L);
        await using (var command = _db.CreateCommand("SELECT state, count(*) FROM reimage.recoveries GROUP BY state"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                counts[Enum.Parse<RecoveryState>(reader.GetString(0))] = reader.GetInt64(1);
            }
        }

        var previous = Current;
        Current = new FleetCounts(counts.ToFrozenDictionary(), _clock.GetUtcNow());
        if (!previous.ByState.OrderBy(p => p.Key).SequenceEqual(Current.ByState.OrderBy(p => p.Key)))
        {
            Changed?.Invoke(Current);
        }

        return Current;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watch = _live.Watch(() => ReadQuietlyAsync(stoppingToken), "recoveries", "machines");
        using var timer = new PeriodicTimer(Interval, _clock);
        do
        {
            await ReadQuietlyAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>A refresh whose database trouble is logged, not thrown: the next notification or tick tries again.</summary>
    private async Task ReadQuietlyAsync(CancellationToken ct)
    {
        try
        {
            await RefreshAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            _logger.LogWarning("Could not read fleet counts: {Reason}", e.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    private IEnumerable<Measurement<long>> Observe() =>
        Current.ByState.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("state", p.Key.ToString())));
}
