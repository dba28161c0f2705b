namespace Reimage.Orchestrator.Scheduling;

/// <summary>What one site can take on right now.</summary>
/// <param name="FreeSlots">Imaging slots (bench positions) not held by a machine in work; for a USB-imaged site also bounded by its USB media.</param>
/// <param name="FreeHandsOn">Hands-on steps the technicians on shift can still take (technicians × per-technician queue − hands-on work in hand).</param>
/// <param name="Parts">Spare parts on the shelf and not reserved, by item.</param>
public sealed record SiteCapacity(Guid SiteId, int FreeSlots, int FreeHandsOn, IReadOnlyDictionary<string, int> Parts);

/// <summary>A machine waiting for admission, with what its first steps will need.</summary>
/// <param name="NeedsTechnician">Its first step is hands-on (drive removal, or a manual boot).</param>
/// <param name="Part">The spare part it consumes (its drive type), or null.</param>
/// <param name="AwaitingParts">It already waits, visibly, for <paramref name="Part"/>.</param>
public sealed record Candidate(
    Guid MachineId, Guid SiteId, int WaveOrdinal, int Criticality, string? Building, string? Floor, string Hostname,
    bool NeedsTechnician, string? Part, bool AwaitingParts);

/// <summary>The dispatcher's decision for one round: who starts (with the part reserved for them) and who now waits for parts.</summary>
public sealed record AdmissionPlan(IReadOnlyList<Candidate> Admitted, IReadOnlyList<Candidate> NowAwaitingParts);

/// <summary>A hands-on step without a technician (or whose technician went off shift).</summary>
public sealed record HandsOnWork(Guid MachineId, Guid SiteId, string? Building, string? Floor, string? Room, string Hostname);

/// <summary>A technician on shift, with the hands-on steps already in their queue (at most <paramref name="Capacity"/>) and the floors those are on.</summary>
public sealed record TechnicianLoad(Guid TechnicianId, Guid SiteId, string? HomeBuilding, int Load, int Capacity, IReadOnlyCollection<(string? Building, string? Floor)> Floors);

/// <summary>
/// The scheduling policy, free of storage and clocks so that the live dispatcher and the forecast run the very same
/// rules (one policy, two clocks), and so that property tests can throw thousands of fleets at it.
/// </summary>
public static class SchedulingPolicy
{
    /// <summary>Policy order within a site: wave order (gates are applied before), then criticality, then location, then name.</summary>
    public static IOrderedEnumerable<Candidate> InPolicyOrder(IEnumerable<Candidate> candidates) => candidates
        .OrderBy(c => c.WaveOrdinal).ThenBy(c => c.Criticality)
        .ThenBy(c => c.Building, StringComparer.Ordinal).ThenBy(c => c.Floor, StringComparer.Ordinal)
        .ThenBy(c => c.Hostname, StringComparer.Ordinal);

    /// <summary>
    /// Admits candidates within each site's limits, in policy order, never more than <paramref name="limit"/> in all.
    /// A candidate that needs a technician when none is free waits in the queue; one whose part is out of stock is
    /// set aside as awaiting parts; either way the next one in order may go. Sites take turns, one admission each per
    /// round, so a large site never starves a small one when the round limit bites.
    /// </summary>
    public static AdmissionPlan Admit(IReadOnlyCollection<SiteCapacity> sites, IEnumerable<Candidate> candidates, int limit)
    {
        var bySite = candidates.GroupBy(c => c.SiteId).ToDictionary(g => g.Key, g => InPolicyOrder(g).ToList());
        var state = sites.Where(s => bySite.ContainsKey(s.SiteId))
            .OrderBy(s => s.SiteId)
            .Select(s => new SiteTurn(s, bySite[s.SiteId]))
            .ToList();
        var admitted = new List<Candidate>();
        var awaiting = new List<Candidate>();
        while (admitted.Count < limit && state.Count > 0)
        {
            foreach (var site in state.ToList())
            {
                if (admitted.Count >= limit)
                {
                    break;
                }

                var next = site.Next(awaiting);
                if (next is null)
                {
                    state.Remove(site);
                }
                else
                {
                    admitted.Add(next);
                }
            }
        }

        return new AdmissionPlan(admitted, awaiting);
    }

    private sealed class SiteTurn(SiteCapacity capacity, List<Candidate> queue)
    {
        private readonly Dictionary<string, int> _parts = new(capacity.Parts);
        private int _slots = capacity.FreeSlots;
        private int _handsOn = capacity.FreeHandsOn;
        private int _position;

        /// <summary>The next candidate this site admits, or null when it can admit no more this round.</summary>
        public Candidate? Next(List<Candidate> awaiting)
        {
            while (_slots > 0 && _position < queue.Count)
            {
                var c = queue[_position++];
                if (c.NeedsTechnician && _handsOn <= 0)
                {
                    continue;
                }

                if (c.Part is not null && _parts.GetValueOrDefault(c.Part) <= 0)
                {
                    if (!c.AwaitingParts)
                    {
                        awaiting.Add(c);
                    }

                    continue;
                }

                _slots--;
                if (c.NeedsTechnician)
                {
                    _handsOn--;
                }

                if (c.Part is not null)
                {
                    _parts[c.Part]--;
                }

                return c;
            }

            return null;
        }
    }

    /// <summary>
    /// Gives each unassigned hands-on step to a technician on shift at its site whose queue is not full, in walking
    /// order (building, floor, room), choosing the technician with the lowest load plus a walking penalty (0 on a floor
    /// they already work, 2 elsewhere in the same building, 3 in another building; ties go to the nearer one). Loads
    /// stay within four of each other, and a technician is not sent across the site for a machine a colleague on that
    /// floor can take. Returns (machine, technician) pairs; work nobody can take stays unassigned.
    /// </summary>
    public static IReadOnlyList<(Guid MachineId, Guid TechnicianId)> Assign(
        IEnumerable<HandsOnWork> work, IEnumerable<TechnicianLoad> technicians)
    {
        var crews = technicians.GroupBy(t => t.SiteId).ToDictionary(
            g => g.Key, g => g.Select(t => new Crew(t.TechnicianId, t.HomeBuilding, t.Load, t.Capacity, [.. t.Floors])).OrderBy(c => c.Id).ToList());
        var result = new List<(Guid, Guid)>();
        foreach (var w in WalkingOrder(work))
        {
            if (!crews.TryGetValue(w.SiteId, out var crew))
            {
                continue;
            }

            Crew? best = null;
            (int Score, int Distance) bestScore = (int.MaxValue, int.MaxValue);
            foreach (var c in crew.Where(c => c.Load < c.Capacity))
            {
                var distance = c.Floors.Contains((w.Building, w.Floor)) ? 0
                    : c.Floors.Any(f => f.Building == w.Building) || (c.Floors.Count == 0 && c.HomeBuilding == w.Building) ? 2 : 3;
                var score = (c.Load + distance, distance);
                if (score.CompareTo(bestScore) < 0)
                {
                    (best, bestScore) = (c, score);
                }
            }

            if (best is not null)
            {
                best.Load++;
                best.Floors.Add((w.Building, w.Floor));
                result.Add((w.MachineId, best.Id));
            }
        }

        return result;
    }

    /// <summary>A technician's queue order: building, floor, room, then host name.</summary>
    public static IOrderedEnumerable<HandsOnWork> WalkingOrder(IEnumerable<HandsOnWork> work) => work
        .OrderBy(w => w.Building, StringComparer.Ordinal).ThenBy(w => w.Floor, StringComparer.Ordinal)
        .ThenBy(w => w.Room, StringComparer.Ordinal).ThenBy(w => w.Hostname, StringComparer.Ordinal);

    private sealed class Crew(Guid id, string? homeBuilding, int load, int capacity, HashSet<(string?, string?)> floors)
    {
        public int Capacity { get; } = capacity;

        public Guid Id { get; } = id;

        public string? HomeBuilding { get; } = homeBuilding;

        public int Load { get; set; } = load;

        public HashSet<(string? Building, string? Floor)> Floors { get; } = floors;
    }
}
