namespace Reimage.Agents.Protocol.Simulation;

/// <summary>How a simulated step behaves: its typical duration, its spread and how often it fails.</summary>
public sealed record SimulatedStep(TimeSpan Median, double Spread, double FailureRate);

/// <summary>The simulated fleet's behaviour, and how much faster than real time it runs.</summary>
public sealed record SimulatedFleetOptions
{
    /// <summary>Simulated seconds per real second: 60 turns a 25-minute imaging run into 25 s.</summary>
    public double Speed { get; init; } = 60;

    public int Seed { get; init; } = 20170627; // the day NotPetya struck

    public Dictionary<string, SimulatedStep> Steps { get; init; } = new()
    {
        ["network-boot"] = new(TimeSpan.FromMinutes(3), 0.4, 0.02),
        ["bmc-boot"] = new(TimeSpan.FromMinutes(4), 0.3, 0.01),
        ["await-imaging"] = new(TimeSpan.FromMinutes(25), 0.3, 0.02),
        ["verify"] = new(TimeSpan.FromMinutes(2), 0.3, 0.01),
    };

    /// <summary>Zero-length, never-failing steps: for drills that measure the orchestrator rather than the fleet.</summary>
    public static SimulatedFleetOptions Instant { get; } = new()
    {
        Speed = 1,
        Steps = new()
        {
            ["network-boot"] = new(TimeSpan.Zero, 0, 0),
            ["bmc-boot"] = new(TimeSpan.Zero, 0, 0),
            ["await-imaging"] = new(TimeSpan.Zero, 0, 0),
            ["verify"] = new(TimeSpan.Zero, 0, 0),
        },
    };
}

/// <summary>
/// A driver that pretends to be N machines: each command takes a log-normally distributed time (on the
/// accelerated clock) and fails at the configured rate. Used by the demo, drills and tests.
/// </summary>
public sealed class SimulatedFleet(SimulatedFleetOptions options, TimeProvider clock) : IMachineDriver
{
    private readonly Random _random = new(options.Seed);
    private readonly Lock _gate = new();

    public async Task<CommandResult> ExecuteAsync(LeasedCommand command, CancellationToken ct)
    {
        if (!options.Steps.TryGetValue(command.Kind, out var step))
        {
            return new CommandResult(command.Id, false, $"the simulated fleet cannot do '{command.Kind}'");
        }

        double gaussian, roll;
        lock (_gate)
        {
            // Box–Muller: one normal sample for the log-normal duration.
            gaussian = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
            roll = _random.NextDouble();
        }

        var simulated = step.Median * Math.Exp(step.Spread * gaussian);
        var real = simulated / options.Speed;
        if (real > TimeSpan.Zero)
        {
            await Task.Delay(real, clock, ct);
        }

        return roll < step.FailureRate
            ? new CommandResult(command.Id, false, $"{command.Hostname}: simulated {command.Kind} failure")
            : new CommandResult(command.Id, true, $"{command.Hostname}: {command.Kind} ok");
    }
}
