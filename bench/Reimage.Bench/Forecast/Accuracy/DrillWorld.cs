using Npgsql;
using Reimage.Agents.Protocol;
using Reimage.Orchestrator.Agents;
using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Scheduling;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Bench.Forecast.Accuracy;

/// <summary>
/// Everything outside the engine during a drill: site agents that take the engine's commands from the real command
/// queue and report after a drawn time, technicians who work the queue the engine gives them (walking order, as their
/// tablet shows it) and check machines off through <see cref="HandsOnSteps"/>, and a stockroom that receives
/// deliveries when they come. Durations and failures are drawn from <paramref name="durations"/> with the forecast's
/// dice (<see cref="Dice"/>), addressed as the simulation addresses them (a machine by its place in
/// <paramref name="plan"/>), under <paramref name="diceSeed"/>. The world follows the same physical rules the forecast
/// assumes (<see cref="SimulationRun"/>): a technician is at one machine at a time, walks between floors and buildings,
/// works only on shift and leaves the work in hand for the next shift.
/// </summary>
internal sealed class DrillWorld(
    NpgsqlDataSource db, DrillClock clock, ForecastPlan plan, StepDurations durations, int diceSeed,
    AgentCommandQueue commands, HandsOnSteps checkOffs, TechnicianWork work, Stockroom stockroom)
{
    private enum Kind
    {
        AgentDone,
        TechnicianDone,
        ShiftBoundary,
        Delivery,
    }

    private sealed record Happening(Kind Kind, Guid Subject, Guid Site, bool Succeeded, int Technician, int Token);

    private sealed class Hand(Guid id, Guid site, string? building, ShiftCalendar calendar)
    {
        public Guid Id { get; } = id;

        public Guid Site { get; } = site;

        public string? Building { get; } = building;

        public ShiftCalendar Calendar { get; } = calendar;

        public bool On { get; set; }

        public (Guid Machine, Step Step, bool Fails)? Current { get; set; }

        public Guid? Last { get; set; }

        public (string? Building, string? Floor) Place { get; set; }

        public DateTimeOffset WorkStart { get; set; }

        public int Token { get; set; }
    }

    private readonly PriorityQueue<Happening, (DateTimeOffset At, long Sequence)> _events = new();
    private readonly Dictionary<Guid, (int Index, Guid Site)> _machines = [];
    private readonly Dictionary<(Guid Machine, Step Step), (double Seconds, bool Fails)> _handsOnLeft = [];
    private readonly HashSet<(Guid Machine, Step Step)> _abandoned = [];
    private readonly List<Guid> _sites = [];
    private List<Hand> _hands = [];
    private DateTimeOffset _start;
    private long _sequence;

    /// <summary>Hands-on steps the dice failed: with no way to report that, the technician leaves the machine to the engine's timeout.</summary>
    public int AbandonedHandsOn => _abandoned.Count;

    /// <summary>Check-offs the engine refused because the machine had moved on (its step timed out while the technician was at it).</summary>
    public int RefusedCheckOffs { get; private set; }

    public async Task StartAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var start = _start = clock.Now;
        _sites.AddRange(await Rows.ReadAsync(connection, "SELECT id FROM reimage.sites ORDER BY code", r => r.GetGuid(0), ct));
        // A machine's dice are addressed by its place in the forecast's plan, as the simulation addresses them.
        for (var i = 0; i < plan.Machines.Count; i++)
        {
            _machines[plan.Machines[i].Id] = (i, plan.Machines[i].SiteId);
        }

        var shifts = (await Rows.ReadAsync(connection, "SELECT technician_id, days, starts, ends FROM reimage.shifts",
            r => (Technician: r.GetGuid(0), Shift: new ForecastShift((ShiftDays)r.GetInt32(1), r.GetFieldValue<TimeOnly>(2), r.GetFieldValue<TimeOnly>(3))), ct))
            .ToLookup(s => s.Technician, s => s.Shift);
        _hands = await Rows.ReadAsync(connection,
            "SELECT t.id, t.site_id, t.building, s.time_zone FROM reimage.technicians t JOIN reimage.sites s ON s.id = t.site_id WHERE t.active ORDER BY t.id",
            r => new Hand(r.GetGuid(0), r.GetGuid(1), r.IsDBNull(2) ? null : r.GetString(2),
                new ShiftCalendar([.. shifts[r.GetGuid(0)]], CapacitySnapshot.Zone(r.GetString(3)), start)), ct);
        for (var t = 0; t < _hands.Count; t++)
        {
            _hands[t].On = _hands[t].Calendar.Covers(0);
            _hands[t].Place = (_hands[t].Building, null);
            ScheduleBoundary(t);
        }

        foreach (var (id, at) in await Rows.ReadAsync(connection, "SELECT id, coalesce(expected_at, @now) FROM reimage.deliveries WHERE received_at IS NULL",
            r => (r.GetGuid(0), r.GetFieldValue<DateTimeOffset>(1)), ct, ("now", start)))
        {
            Schedule(at > start ? at : start, new Happening(Kind.Delivery, id, Guid.Empty, true, -1, 0));
        }
    }

    /// <summary>When the next thing happens in the world; null when nothing will.</summary>
    public DateTimeOffset? Next => _events.TryPeek(out _, out var when) ? when.At : null;

    /// <summary>Does everything that happens at the clock's time (the clock is there already).</summary>
    public async Task HappenAsync(CancellationToken ct)
    {
        var outcomes = new Dictionary<Guid, List<CommandResult>>();
        while (_events.TryPeek(out var e, out var when) && when.At <= clock.Now)
        {
            _events.Dequeue();
            switch (e.Kind)
            {
                case Kind.AgentDone:
                    if (!outcomes.TryGetValue(e.Site, out var list))
                    {
                        outcomes[e.Site] = list = [];
                    }

                    list.Add(new CommandResult(e.Subject, e.Succeeded, e.Succeeded ? "done" : "the drill's dice failed this attempt"));
                    break;
                case Kind.TechnicianDone when e.Token == _hands[e.Technician].Token:
                    await FinishHandsOnAsync(e.Technician, ct);
                    break;
                case Kind.ShiftBoundary:
                    ShiftBoundary(e.Technician);
                    break;
                case Kind.Delivery:
                    await stockroom.ReceiveAsync(e.Subject, "drill stockroom", ct);
                    break;
                default:
                    break; // a technician's work cut short by the end of their shift
            }
        }

        foreach (var (site, list) in outcomes)
        {
            await commands.CompleteAsync(site, list, ct);
        }
    }

    /// <summary>After an engine round: agents take the commands now due, idle technicians on shift go to their next machine.</summary>
    public async Task ReactAsync(CancellationToken ct)
    {
        foreach (var site in _sites)
        {
            foreach (var command in await commands.LeaseAsync(site, "drill-agent", 10_000, TimeSpan.FromDays(60), ct))
            {
                var step = Enum.Parse<Step>(command.Step);
                var (seconds, fails) = Roll(command.MachineId, step, command.Attempt);
                Schedule(clock.Now.AddSeconds(seconds), new Happening(Kind.AgentDone, command.Id, site, !fails, -1, 0));
            }
        }

        for (var t = 0; t < _hands.Count; t++)
        {
            await StartNextAsync(t, ct);
        }
    }

    private (double Seconds, bool Fails) Roll(Guid machine, Step step, int attempt)
    {
        var (index, site) = _machines[machine];
        var duration = durations.For(site, step);
        var (z, u) = Dice.Roll(diceSeed, index, (int)step, attempt);
        return (duration.Seconds(z), u < duration.FailureRate);
    }

    /// <summary>As the forecast's technician: back to the machine just finished if it still needs hands (the case is open), else the first in walking order.</summary>
    private async Task StartNextAsync(int t, CancellationToken ct)
    {
        var hand = _hands[t];
        if (!hand.On || hand.Current is not null)
        {
            return;
        }

        var queue = (await work.QueueAsync(hand.Id, ct)).Where(q => !_abandoned.Contains((q.MachineId, q.Step))).ToList();
        if (queue.Count == 0)
        {
            return;
        }

        var next = queue.FirstOrDefault(q => q.MachineId == hand.Last) ?? queue[0];
        // Hands-on steps have one attempt (only a lead's retry would make another, which the drill never does).
        var key = (next.MachineId, next.Step);
        if (!_handsOnLeft.TryGetValue(key, out var left))
        {
            _handsOnLeft[key] = left = Roll(next.MachineId, next.Step, attempt: 1);
        }

        var walk = hand.Place == (next.Building, next.Floor) ? TimeSpan.Zero
            : string.Equals(hand.Place.Building, next.Building, StringComparison.Ordinal) ? plan.Walking.FloorChange : plan.Walking.BuildingChange;
        hand.Place = (next.Building, next.Floor);
        hand.Current = (next.MachineId, next.Step, left.Fails);
        hand.Last = next.MachineId;
        hand.WorkStart = clock.Now + walk;
        Schedule(hand.WorkStart.AddSeconds(left.Seconds), new Happening(Kind.TechnicianDone, next.MachineId, hand.Site, true, t, ++hand.Token));
    }

    private async Task FinishHandsOnAsync(int t, CancellationToken ct)
    {
        var hand = _hands[t];
        var (machine, step, fails) = hand.Current!.Value;
        hand.Current = null;
        _handsOnLeft.Remove((machine, step));
        if (fails)
        {
            // The check-off has no "could not do it": the machine stays at its step until the engine's timeout fails it.
            _abandoned.Add((machine, step));
        }
        else
        {
            var serial = $"DRILL-{_machines[machine].Index:D6}";
            var result = await checkOffs.CompleteAsync(machine, step,
                new HandsOnCompletion(RemovedDriveSerial: serial, EvidenceBagId: $"BAG-{serial}", SealId: $"SEAL-{serial}", NewDriveSerial: $"NEW-{serial}"),
                $"drill-{machine:N}-{step}", new Actor("drill", "accuracy drill", hand.Id.ToString()), ct);
            if (result.Outcome == HandsOnOutcome.NotAtStep)
            {
                RefusedCheckOffs++;
            }
            else if (!result.Succeeded)
            {
                throw new InvalidOperationException($"The engine refused a drill technician's check-off of {step}: {result.Outcome} {result.Refusal}");
            }
        }

        await StartNextAsync(t, ct);
    }

    /// <summary>On and off shift by the live rule; going off, the technician leaves the work in hand with what is left of it, as the forecast assumes.</summary>
    private void ShiftBoundary(int t)
    {
        var hand = _hands[t];
        var at = (clock.Now - _start).TotalSeconds;
        var on = hand.Calendar.Covers(at);
        if (on != hand.On)
        {
            hand.On = on;
            if (on)
            {
                (hand.Place, hand.Last) = ((hand.Building, null), null);
            }
            else if (hand.Current is { } current)
            {
                var key = (current.Machine, current.Step);
                var worked = Math.Max(0, (clock.Now - hand.WorkStart).TotalSeconds);
                _handsOnLeft[key] = (Math.Max(0, _handsOnLeft[key].Seconds - worked), current.Fails);
                hand.Current = null;
                hand.Token++;
            }
        }

        ScheduleBoundary(t);
    }

    private void ScheduleBoundary(int t)
    {
        var next = _hands[t].Calendar.NextBoundary((clock.Now - _start).TotalSeconds);
        if (double.IsFinite(next))
        {
            Schedule(_start.AddSeconds(next), new Happening(Kind.ShiftBoundary, _hands[t].Id, _hands[t].Site, true, t, 0));
        }
    }

    private void Schedule(DateTimeOffset at, Happening happening) => _events.Enqueue(happening, (at, _sequence++));
}
