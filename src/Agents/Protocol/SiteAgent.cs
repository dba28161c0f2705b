using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Reimage.Agents.Protocol;

/// <summary>Limits of one agent loop.</summary>
public sealed record SiteAgentOptions
{
    /// <summary>Commands in flight at once (machines being booted, watched or verified).</summary>
    public int MaxInFlight { get; init; } = 500;

    /// <summary>Pause after a fetch that returned nothing.</summary>
    public TimeSpan IdleDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Results are sent in batches at most this often.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Command kinds this agent acknowledges but does not carry out: their completion comes from elsewhere (a real
    /// site's imaging runs report through phone-home, so "await-imaging" is only watched, never executed).
    /// </summary>
    public IReadOnlySet<string> DeferredKinds { get; init; } = new HashSet<string>();
}

/// <summary>
/// The agent's work loop: fetch commands, run each on the driver, report results in batches.
/// A result that cannot be reported (server unreachable) is kept and sent again; the server
/// keeps the first copy, so a resend never counts twice. A command offered again (its lease lapsed while the server
/// could not be reached) is never carried out twice by this agent: it remembers what it has started.
/// </summary>
public sealed class SiteAgent(IAgentTransport transport, IMachineDriver driver, SiteAgentOptions options, TimeProvider clock, ILogger<SiteAgent> logger)
{
    private const int Remembered = 200_000;
    private readonly Channel<CommandResult> _results = Channel.CreateUnbounded<CommandResult>();
    private readonly HashSet<Guid> _started = [];
    private readonly Queue<Guid> _startedOrder = new();
    private int _inFlight;

    /// <summary>Commands being carried out right now (for heartbeats).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public async Task RunAsync(CancellationToken ct)
    {
        var reporter = ReportLoopAsync(ct);
        try
        {
            await FetchLoopAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        await reporter;
    }

    private async Task FetchLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var room = options.MaxInFlight - Volatile.Read(ref _inFlight);
            IReadOnlyList<LeasedCommand> commands = [];
            if (room > 0)
            {
                try
                {
                    commands = await transport.FetchAsync(room, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException and not CredentialRejectedException)
                {
                    logger.LogWarning("Fetching commands failed: {Reason}", e.Message);
                    await Task.Delay(options.IdleDelay, clock, ct); // the server is unreachable: do not spin
                }
            }

            var fresh = 0;
            foreach (var command in commands)
            {
                if (options.DeferredKinds.Contains(command.Kind) || !FirstTime(command.Id))
                {
                    continue;
                }

                fresh++;
                Interlocked.Increment(ref _inFlight);
                _ = RunOneAsync(command, ct);
            }

            if (fresh == 0)
            {
                await Task.Delay(options.IdleDelay, clock, ct);
            }
        }
    }

    /// <summary>Remembers a command as started; false when it was started before (a re-offer after a lapsed lease).</summary>
    private bool FirstTime(Guid commandId)
    {
        if (!_started.Add(commandId))
        {
            return false;
        }

        _startedOrder.Enqueue(commandId);
        if (_startedOrder.Count > Remembered)
        {
            _started.Remove(_startedOrder.Dequeue());
        }

        return true;
    }

    private async Task RunOneAsync(LeasedCommand command, CancellationToken ct)
    {
        try
        {
            CommandResult result;
            try
            {
                result = await driver.ExecuteAsync(command, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return; // shutting down: the lease expires and the command is offered again
            }
            catch (Exception e)
            {
                result = new CommandResult(command.Id, false, $"driver error: {e.Message}");
            }

            // What a driver or a machine says may hold a NUL or half a surrogate pair; the server would refuse it.
            _results.Writer.TryWrite(result with { Detail = WireText.Clean(result.Detail, CommandResult.MaxDetailLength) });
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ReportLoopAsync(CancellationToken ct)
    {
        var pending = new List<CommandResult>();
        while (true)
        {
            try
            {
                await Task.Delay(options.ReportInterval, clock, ct);
            }
            catch (OperationCanceledException)
            {
                // Last flush on shutdown, so finished work is not redone.
            }

            while (_results.Reader.TryRead(out var result))
            {
                pending.Add(result);
            }

            if (pending.Count > 0)
            {
                try
                {
                    var receipt = await transport.ReportAsync(pending, ct.IsCancellationRequested ? CancellationToken.None : ct);
                    foreach (var refused in receipt.Refused ?? [])
                    {
                        logger.LogError("The server refused the result of command {CommandId} and will never record it: {Reason}", refused.CommandId, refused.Reason);
                    }

                    pending.Clear();
                }
                catch (BatchRefusedException e)
                {
                    // Resending a batch the server refuses for good would stall every later result behind it.
                    logger.LogError("The server refused a batch of {Count} results for good; dropping it (the commands will be offered again when their leases lapse): {Reason}",
                        pending.Count, e.Message);
                    pending.Clear();
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    logger.LogWarning("Reporting {Count} results failed; keeping them for the next try: {Reason}", pending.Count, e.Message);
                }
                catch (OperationCanceledException)
                {
                }
            }

            if (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
