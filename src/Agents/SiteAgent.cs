using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Reimage.Agents.Protocol;

namespace Reimage.Agents;

/// <summary>Limits of one agent loop.</summary>
public sealed record SiteAgentOptions
{
    /// <summary>Commands in flight at once (machines being booted, watched or verified).</summary>
    public int MaxInFlight { get; init; } = 500;

    /// <summary>Pause after a fetch that returned nothing.</summary>
    public TimeSpan IdleDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Results are sent in batches at most this often.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// The agent's work loop: fetch commands, run each on the driver, report results in batches.
/// A result that cannot be reported (server unreachable) is kept and sent again; the server
/// keeps the first copy, so a resend never counts twice.
/// </summary>
public sealed class SiteAgent(IAgentTransport transport, IMachineDriver driver, SiteAgentOptions options, TimeProvider clock, ILogger<SiteAgent> logger)
{
    private readonly Channel<CommandResult> _results = Channel.CreateUnbounded<CommandResult>();
    private int _inFlight;

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
            IReadOnlyList<AgentCommand> commands = [];
            if (room > 0)
            {
                try
                {
                    commands = await transport.FetchAsync(room, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Fetching commands failed: {Reason}", e.Message);
                }
            }

            foreach (var command in commands)
            {
                Interlocked.Increment(ref _inFlight);
                _ = RunOneAsync(command, ct);
            }

            if (commands.Count == 0)
            {
                await Task.Delay(options.IdleDelay, clock, ct);
            }
        }
    }

    private async Task RunOneAsync(AgentCommand command, CancellationToken ct)
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

            _results.Writer.TryWrite(result);
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
                    await transport.ReportAsync(pending, ct.IsCancellationRequested ? CancellationToken.None : ct);
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
