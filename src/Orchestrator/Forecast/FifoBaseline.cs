using Reimage.Orchestrator.Scheduling;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// The baseline a plan is compared with: how a war room with a spreadsheet would dispatch. Machines go in import order
/// (no wave order within the open waves, no criticality, no location), each hands-on step to the first technician on
/// the roster with room, and a technician works their queue first come first served. It keeps every limit and gate
/// the live policy keeps, so the difference between the two is the policy's worth.
/// </summary>
internal static class FifoBaseline
{
    /// <summary>Site by site, candidates in import order (<paramref name="importOrder"/>), each admitted if its site still has a slot, a free hand when it needs one, and its part.</summary>
    public static AdmissionPlan Admit(IReadOnlyCollection<SiteCapacity> sites, IEnumerable<Candidate> candidates, int limit, Func<Candidate, int> importOrder)
    {
        var bySite = candidates.GroupBy(c => c.SiteId).ToDictionary(g => g.Key, g => g.OrderBy(importOrder).ToList());
        var admitted = new List<Candidate>();
        var awaiting = new List<Candidate>();
        foreach (var site in sites.OrderBy(s => s.SiteId))
        {
            var (slots, hands, parts) = (site.FreeSlots, site.FreeHandsOn, new Dictionary<string, int>(site.Parts));
            foreach (var c in bySite.GetValueOrDefault(site.SiteId) ?? [])
            {
                if (admitted.Count >= limit || slots <= 0)
                {
                    break;
                }

                if (c.NeedsTechnician && hands <= 0)
                {
                    continue;
                }

                if (c.Part is not null && parts.GetValueOrDefault(c.Part) <= 0)
                {
                    if (!c.AwaitingParts)
                    {
                        awaiting.Add(c);
                    }

                    continue;
                }

                slots--;
                hands -= c.NeedsTechnician ? 1 : 0;
                if (c.Part is not null)
                {
                    parts[c.Part]--;
                }

                admitted.Add(c);
            }
        }

        return new AdmissionPlan(admitted, awaiting);
    }

    /// <summary>Each piece of work, in the order it arrived, to the first technician of its site (roster order) whose queue has room.</summary>
    public static IReadOnlyList<(Guid MachineId, Guid TechnicianId)> Assign(IEnumerable<HandsOnWork> work, IReadOnlyList<TechnicianLoad> technicians)
    {
        var loads = technicians.Select(t => t.Load).ToArray();
        var result = new List<(Guid, Guid)>();
        foreach (var w in work)
        {
            for (var t = 0; t < technicians.Count; t++)
            {
                if (technicians[t].SiteId == w.SiteId && loads[t] < technicians[t].Capacity)
                {
                    loads[t]++;
                    result.Add((w.MachineId, technicians[t].TechnicianId));
                    break;
                }
            }
        }

        return result;
    }
}
