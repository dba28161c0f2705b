using Npgsql;

namespace Reimage.Dashboard.Live;

/// <summary>
/// What changed in the database, from any node: listens on PostgreSQL's <c>reimage_changes</c> channel (raised by the
/// tables' statement triggers) and tells open pages at most once per <see cref="Coalesce"/>, with the names of the
/// tables that changed since the last time. A burst of thousands of transitions is one render per page, not thousands;
/// a lone change is passed on at once. After a lost connection it reconnects and reports everything as changed,
/// since notifications sent meanwhile are gone.
/// </summary>
public sealed class LiveUpdates(NpgsqlDataSource db, TimeProvider clock, ILogger<LiveUpdates> logger) : BackgroundService
{
    public const string Channel = "reimage_changes";
    public const string Everything = "*";

    public static readonly TimeSpan Coalesce = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private HashSet<string> _pending = [];
    private long _lastPublished;
    private bool _flushScheduled;
    private long _generation;
    private TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raised on a thread-pool thread with the tables changed (or <see cref="Everything"/>).</summary>
    public event Action<IReadOnlySet<string>>? Changed;

    /// <summary>
    /// Calls <paramref name="onChange"/> whenever one of <paramref name="tables"/> changed (at most once a second);
    /// disposing the answer stops it. Pages pass <c>() =&gt; InvokeAsync(reload)</c>.
    /// </summary>
    public IDisposable Watch(Func<Task> onChange, params string[] tables)
    {
        void Handler(IReadOnlySet<string> changed)
        {
            if (changed.Touches(tables))
            {
                _ = onChange();
            }
        }

        Changed += Handler;
        return new Unwatch(() => Changed -= Handler);
    }

    private sealed class Unwatch(Action stop) : IDisposable
    {
        public void Dispose() => stop();
    }

    /// <summary>
    /// Goes up before each <see cref="Changed"/> is raised: a reader that took the generation before reading knows its
    /// result is current while the generation is unchanged (read models cache on it).
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>True while this node is listening.</summary>
    public bool Listening => WhenListening.IsCompleted;

    /// <summary>Completes once this node is listening: at once if it is, else when it (re)connects. Tests wait on it before changing things.</summary>
    public Task WhenListening => Volatile.Read(ref _listening).Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Note(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                _listening.TrySetResult();
                backoff = TimeSpan.FromSeconds(1);
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                if (_listening.Task.IsCompleted)
                {
                    Volatile.Write(ref _listening, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                }

                logger.LogWarning("Live updates lost their database connection ({Reason}); reconnecting in {Delay}", e.Message, backoff);
                await Task.Delay(backoff, clock, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                Note(Everything);
            }
        }
    }

    /// <summary>Records a change and passes it on now, or at the end of the current coalescing window.</summary>
    public void Note(string table)
    {
        TimeSpan wait;
        lock (_gate)
        {
            _pending.Add(table);
            if (_flushScheduled)
            {
                return;
            }

            _flushScheduled = true;
            var since = clock.GetElapsedTime(_lastPublished);
            wait = _lastPublished == 0 || since >= Coalesce ? TimeSpan.Zero : Coalesce - since;
        }

        if (wait == TimeSpan.Zero)
        {
            ThreadPool.QueueUserWorkItem(_ => Flush());
        }
        else
        {
            _ = Task.Delay(wait, clock).ContinueWith(_ => Flush(), TaskScheduler.Default);
        }
    }

    private void Flush()
    {
        HashSet<string> changed;
        lock (_gate)
        {
            (changed, _pending) = (_pending, []);
            _flushScheduled = false;
            _lastPublished = clock.GetTimestamp();
        }

        Interlocked.Increment(ref _generation);

        try
        {
            Changed?.Invoke(changed);
        }
        catch (Exception e)
        {
            logger.LogError(e, "A live-update subscriber failed");
        }
    }
}

/// <summary>Whether a set of changed tables touches any of <paramref name="tables"/>.</summary>
public static class LiveChanges
{
    public static bool Touches(this IReadOnlySet<string> changed, params string[] tables) =>
        changed.Contains(LiveUpdates.Everything) || tables.Any(changed.Contains);
}

public static class LiveUpdatesRegistration
{
    /// <summary>One listener per node, shared by every page and read model that follows database changes.</summary>
    public static WebApplicationBuilder AddLiveUpdates(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LiveUpdates>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LiveUpdates>());
        return builder;
    }
}
