using Reimage.Orchestrator.Scheduling;

namespace Reimage.Orchestrator.Tests.Scheduling;

/// <summary>
/// Properties of the scheduling policy over thousands of generated fleets and capacities. Each case is built from its
/// own seed, and a failure names it, so a counterexample can be replayed exactly.
/// </summary>
public sealed class SchedulingPolicyTests
{
    private const int Cases = 3000;
    private static readonly string[] DriveTypes = ["NVMe-256", "NVMe-512", "SATA-SSD-256"];

    [Fact]
    public void Admit_NeverExceedsAnyLimit()
    {
        ForEachCase((sites, candidates, limit, plan) =>
        {
            Assert.True(plan.Admitted.Count <= limit, "round limit");
            Assert.Equal(plan.Admitted.Count, plan.Admitted.Select(c => c.MachineId).Distinct().Count());
            foreach (var site in sites)
            {
                var admitted = plan.Admitted.Where(c => c.SiteId == site.SiteId).ToList();
                Assert.True(admitted.Count <= site.FreeSlots, "imaging slots");
                Assert.True(admitted.Count(c => c.NeedsTechnician) <= site.FreeHandsOn, "technicians on shift");
                foreach (var part in admitted.Where(c => c.Part is not null).GroupBy(c => c.Part!))
                {
                    Assert.True(part.Count() <= site.Parts.GetValueOrDefault(part.Key), $"spare {part.Key}");
                }
            }
        });
    }

    [Fact]
    public void Admit_OnlyParksMachinesWhosePartHasRunOut_AndNeverOneAlreadyParkedOrAdmitted()
    {
        ForEachCase((sites, candidates, limit, plan) =>
        {
            var admitted = plan.Admitted.Select(c => c.MachineId).ToHashSet();
            foreach (var c in plan.NowAwaitingParts)
            {
                Assert.NotNull(c.Part);
                Assert.False(c.AwaitingParts);
                Assert.DoesNotContain(c.MachineId, admitted);
                var site = sites.Single(s => s.SiteId == c.SiteId);
                var used = plan.Admitted.Count(a => a.SiteId == c.SiteId && a.Part == c.Part);
                Assert.Equal(site.Parts.GetValueOrDefault(c.Part!), used); // none left when it was passed over
            }
        });
    }

    [Fact]
    public void Admit_KeepsPolicyOrder_AmongMachinesWithTheSameNeeds()
    {
        ForEachCase((sites, candidates, limit, plan) =>
        {
            var admitted = plan.Admitted.Select(c => c.MachineId).ToHashSet();
            foreach (var group in candidates.GroupBy(c => (c.SiteId, c.NeedsTechnician, c.Part)))
            {
                var ordered = SchedulingPolicy.InPolicyOrder(group).ToList();
                var lastAdmitted = ordered.FindLastIndex(c => admitted.Contains(c.MachineId));
                Assert.All(ordered.Take(lastAdmitted + 1), c => Assert.Contains(c.MachineId, admitted));
            }
        });
    }

    [Fact]
    public void Admit_LeavesNoUsableCapacityIdle_UnlessTheRoundLimitWasReached()
    {
        ForEachCase((sites, candidates, limit, plan) =>
        {
            if (plan.Admitted.Count == limit)
            {
                return;
            }

            var admitted = plan.Admitted.Select(c => c.MachineId).ToHashSet();
            foreach (var site in sites)
            {
                var mine = plan.Admitted.Where(c => c.SiteId == site.SiteId).ToList();
                var slotsLeft = site.FreeSlots - mine.Count;
                var handsOnLeft = site.FreeHandsOn - mine.Count(c => c.NeedsTechnician);
                var waiting = candidates.Where(c => c.SiteId == site.SiteId && !admitted.Contains(c.MachineId));
                var couldGo = waiting.FirstOrDefault(c => slotsLeft > 0 && (!c.NeedsTechnician || handsOnLeft > 0)
                    && (c.Part is null || site.Parts.GetValueOrDefault(c.Part) > mine.Count(m => m.Part == c.Part)));
                Assert.Null(couldGo);
            }
        });
    }

    [Fact]
    public void Admit_StarvesNoSite_WhenTheRoundLimitBites()
    {
        ForEachCase((sites, candidates, limit, plan) =>
        {
            if (plan.Admitted.Count < limit)
            {
                return;
            }

            // What each site would admit on its own, with no round limit: the fair share is bounded by that.
            var alone = SchedulingPolicy.Admit(sites, candidates, int.MaxValue).Admitted.GroupBy(c => c.SiteId).ToDictionary(g => g.Key, g => g.Count());
            var contenders = alone.Count;
            foreach (var (site, wanted) in alone)
            {
                var got = plan.Admitted.Count(c => c.SiteId == site);
                Assert.True(got >= Math.Min(wanted, limit / contenders), $"site got {got} of {wanted} wanted with {contenders} sites and a limit of {limit}");
            }
        });
    }

    [Fact]
    public void Assign_NeverOverfillsAQueue_StaysOnSite_AndLeavesNoWorkWhileSomeoneIsFree()
    {
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var siteIds = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Guid.NewGuid()).ToArray();
            var technicians = Enumerable.Range(0, random.Next(0, 8)).Select(i => new TechnicianLoad(Guid.NewGuid(), siteIds[random.Next(siteIds.Length)],
                "B" + random.Next(3), Load: random.Next(0, 3), Capacity: random.Next(1, 5), Floors: [])).ToList();
            var work = Enumerable.Range(0, random.Next(0, 40)).Select(i => new HandsOnWork(Guid.NewGuid(), siteIds[random.Next(siteIds.Length)],
                "B" + random.Next(3), random.Next(4).ToString(), null, $"PC{i:D3}")).ToList();

            var assigned = SchedulingPolicy.Assign(work, technicians);

            var context = $"seed {seed}";
            Assert.Equal(assigned.Count, assigned.Select(a => a.MachineId).Distinct().Count());
            var byTechnician = assigned.GroupBy(a => a.TechnicianId).ToDictionary(g => g.Key, g => g.Count());
            foreach (var t in technicians)
            {
                var total = t.Load + byTechnician.GetValueOrDefault(t.TechnicianId);
                Assert.True(total <= Math.Max(t.Capacity, t.Load), $"{context}: queue overfilled");
            }

            foreach (var (machine, technician) in assigned)
            {
                Assert.Equal(work.Single(w => w.MachineId == machine).SiteId, technicians.Single(t => t.TechnicianId == technician).SiteId);
            }

            var done = assigned.Select(a => a.MachineId).ToHashSet();
            foreach (var left in work.Where(w => !done.Contains(w.MachineId)))
            {
                Assert.All(technicians.Where(t => t.SiteId == left.SiteId),
                    t => Assert.True(t.Load + byTechnician.GetValueOrDefault(t.TechnicianId) >= t.Capacity, $"{context}: work left while a technician had room"));
            }
        }
    }

    [Fact]
    public void Assign_BalancesLoad_WithinTheFloorPenalty()
    {
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var site = Guid.NewGuid();
            var technicians = Enumerable.Range(0, random.Next(2, 6)).Select(_ => new TechnicianLoad(Guid.NewGuid(), site, null, 0, Capacity: 100, Floors: [])).ToList();
            var work = Enumerable.Range(0, random.Next(1, 60)).Select(i => new HandsOnWork(Guid.NewGuid(), site, "B" + random.Next(2), random.Next(5).ToString(), null, $"PC{i:D3}")).ToList();

            var loads = SchedulingPolicy.Assign(work, technicians).GroupBy(a => a.TechnicianId).ToDictionary(g => g.Key, g => g.Count());

            var counts = technicians.Select(t => loads.GetValueOrDefault(t.TechnicianId)).ToList();
            Assert.True(counts.Max() - counts.Min() <= 4, $"seed {seed}: loads {string.Join(",", counts)}");
        }
    }

    [Fact]
    public void Assign_KeepsEachTechnicianOnTheirFloor_WhenLoadIsEven()
    {
        var site = Guid.NewGuid();
        var ana = new TechnicianLoad(Guid.NewGuid(), site, "HQ", 0, 4, []);
        var ben = new TechnicianLoad(Guid.NewGuid(), site, "HQ", 0, 4, []);
        string[] floors = ["1", "2", "1", "2", "1", "2"];
        var work = floors.Select((floor, i) => new HandsOnWork(Guid.NewGuid(), site, "HQ", floor, null, $"PC{i}")).ToList();

        var assigned = SchedulingPolicy.Assign(work, [ana, ben]);

        var floorsOf = assigned.GroupBy(a => a.TechnicianId)
            .ToDictionary(g => g.Key, g => g.Select(a => work.Single(w => w.MachineId == a.MachineId).Floor).Distinct().Single());
        Assert.Equal(2, floorsOf.Count);
        Assert.NotEqual(floorsOf[ana.TechnicianId], floorsOf[ben.TechnicianId]);
    }

    [Fact]
    public void WalkingOrder_GoesBuildingByBuildingFloorByFloor()
    {
        var site = Guid.NewGuid();
        (string, string, string)[] rooms = [("B", "2", "201"), ("A", "3", "301"), ("A", "1", "110"), ("A", "1", "102")];
        var work = rooms.Select((w, i) => new HandsOnWork(Guid.NewGuid(), site, w.Item1, w.Item2, w.Item3, $"PC{i}")).ToList();

        var order = SchedulingPolicy.WalkingOrder(work).Select(w => $"{w.Building}{w.Floor}-{w.Room}");

        Assert.Equal(["A1-102", "A1-110", "A3-301", "B2-201"], order);
    }

    private static void ForEachCase(Action<IReadOnlyList<SiteCapacity>, IReadOnlyList<Candidate>, int, AdmissionPlan> property)
    {
        for (var seed = 0; seed < Cases; seed++)
        {
            var (sites, candidates, limit) = Generate(new Random(seed));
            var plan = SchedulingPolicy.Admit(sites, candidates, limit);
            try
            {
                property(sites, candidates, limit, plan);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"Property failed for seed {seed} ({sites.Count} sites, {candidates.Count} candidates, limit {limit}): {e.Message}", e);
            }
        }
    }

    /// <summary>A fleet of 1–8 sites with random slots, technicians and stock, and up to a few hundred queued machines of mixed needs.</summary>
    private static (IReadOnlyList<SiteCapacity>, IReadOnlyList<Candidate>, int) Generate(Random random)
    {
        var sites = Enumerable.Range(0, random.Next(1, 9)).Select(_ => new SiteCapacity(Guid.NewGuid(),
            FreeSlots: random.Next(0, 40), FreeHandsOn: random.Next(0, 12),
            Parts: DriveTypes.Where(_ => random.Next(3) > 0).ToDictionary(d => d, _ => random.Next(0, 6)))).ToList();
        var candidates = new List<Candidate>();
        for (var i = random.Next(0, 400); i > 0; i--)
        {
            var site = sites[random.Next(sites.Count)];
            var replacement = random.Next(3) == 0;
            candidates.Add(new Candidate(Guid.NewGuid(), site.SiteId, WaveOrdinal: random.Next(1, 4), Criticality: random.Next(1, 5),
                Building: random.Next(4) == 0 ? null : "B" + random.Next(3), Floor: random.Next(5).ToString(), Hostname: $"PC{i:D5}",
                NeedsTechnician: replacement || random.Next(10) == 0, Part: replacement ? DriveTypes[random.Next(DriveTypes.Length)] : null,
                AwaitingParts: replacement && random.Next(4) == 0));
        }

        return (sites, candidates, random.Next(4) == 0 ? random.Next(1, 30) : 2000);
    }
}
