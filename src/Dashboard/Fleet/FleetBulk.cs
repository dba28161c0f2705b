using Npgsql;
using Reimage.Orchestrator.Waves;
using Reimage.Orchestrator.Workflow;
using Reimage.Orchestrator.HandsOn;

namespace Reimage.Dashboard.Fleet;

/// <summary>What the lead chose in the grid: the ticked rows, or every machine matching the filter.</summary>
public sealed record FleetSelection(IReadOnlyCollection<Guid> MachineIds, FleetFilter? AllMatching = null);

/// <summary>One machine's answer to a bulk action, with its host name for the list the lead reads.</summary>
public sealed record BulkOutcome(Guid MachineId, string Hostname, bool Done, string Result);

/// <summary>
/// The grid's bulk actions, each machine answered on its own (a refusal for one never undoes another): retry and skip
/// through <see cref="LeadActions"/>, adding to a wave through <see cref="WavePlanner"/>.
/// </summary>
public sealed class FleetBulk(FleetQuery query, LeadActions actions, WavePlanner planner, NpgsqlDataSource db)
{
    /// <summary>The most machines one action takes, like <c>POST /api/machines/actions</c>.</summary>
    public const int Limit = 100_000;

    /// <summary>
    /// Applies <paramref name="action"/> to the selection, if it still holds the <paramref name="confirmed"/> machines the
    /// lead was shown and agreed to; null (nothing done) when the selection has grown or shrunk since: ask again.
    /// </summary>
    public async Task<IReadOnlyList<BulkOutcome>?> ApplyAsync(LeadAction action, FleetSelection selection, string? reason, Actor lead, int confirmed, CancellationToken ct)
    {
        var ids = await IdsAsync(selection, ct);
        return ids.Length != confirmed ? null : await NamedAsync(await actions.ApplyAsync(action, ids, reason, lead, ct), ct);
    }

    /// <summary>How many machines an action on the selection would take (what the lead confirms).</summary>
    public async Task<int> CountAsync(FleetSelection selection, CancellationToken ct) => (await IdsAsync(selection, ct)).Length;

    /// <summary>
    /// Adds the machines to <paramref name="waveId"/>: not-yet-planned machines are planned into it, machines that have
    /// not started move from their wave; anything already in work is refused with the reason.
    /// </summary>
    public async Task<IReadOnlyList<BulkOutcome>> AddToWaveAsync(Guid waveId, FleetSelection selection, Actor lead, CancellationToken ct)
    {
        var ids = await IdsAsync(selection, ct);
        var notPlanned = (await StatesAsync(ids, ct)).Where(s => s.Value == RecoveryState.NotPlanned).Select(s => s.Key).ToHashSet();
        await planner.AddMachinesAsync(waveId, [.. notPlanned], lead, ct);
        // Those just planned answer "already in" here; everything else is moved or refused, each on its own.
        var outcomes = await planner.MoveMachinesAsync(waveId, ids, lead, ct);
        return await NamedAsync(outcomes.Select(o => notPlanned.Contains(o.MachineId) && o.Done ? o with { Result = "planned into the wave" } : o).ToList(), ct);
    }

    /// <summary>A new Draft wave after the last one, for "add to a new wave".</summary>
    public async Task<Guid> CreateWaveAsync(string name, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT coalesce(max(ordinal), 0) + 1 FROM reimage.waves");
        var ordinal = (int)(await command.ExecuteScalarAsync(ct))!;
        return (await planner.CreateAsync(name.Trim(), ordinal, ct)).Id;
    }

    private async Task<Guid[]> IdsAsync(FleetSelection selection, CancellationToken ct) =>
        selection.AllMatching is { } filter ? await query.IdsAsync(filter, Limit, ct) : [.. selection.MachineIds.Distinct().Take(Limit)];

    private async Task<Dictionary<Guid, RecoveryState>> StatesAsync(Guid[] ids, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT machine_id, state FROM reimage.recoveries WHERE machine_id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", ids);
        var states = new Dictionary<Guid, RecoveryState>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            states[reader.GetGuid(0)] = Enum.Parse<RecoveryState>(reader.GetString(1));
        }

        return states;
    }

    private async Task<IReadOnlyList<BulkOutcome>> NamedAsync(IReadOnlyList<MachineOutcome> outcomes, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT id, hostname FROM reimage.machines WHERE id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", outcomes.Select(o => o.MachineId).ToArray());
        var names = new Dictionary<Guid, string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            names[reader.GetGuid(0)] = reader.GetString(1);
        }

        return outcomes.Select(o => new BulkOutcome(o.MachineId, names.GetValueOrDefault(o.MachineId, o.MachineId.ToString()), o.Done, o.Result))
            .OrderBy(o => o.Done).ThenBy(o => o.Hostname, StringComparer.OrdinalIgnoreCase).ToList();
    }
}
