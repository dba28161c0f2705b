using Reimage.Orchestrator.Forecast;
using Reimage.Orchestrator.Scheduling;

namespace Reimage.Orchestrator.Tests.Forecast;

/// <summary>
/// The simulation offers the policy only the head of each (site, needs-technician, part) group, and only sites where
/// something changed; these tests show that gives the very decisions of offering everything, every round.
/// </summary>
public sealed class CutEquivalenceTests
{
    [Fact]
    public void Run_WithTheCut_DecidesAsWithEveryCandidateEveryRound()
    {
        for (var seed = 0; seed < 300; seed++)
        {
            var plan = GeneratedPlans.Create(seed);
            var options = new SimulationOptions
            {
                Policy = seed % 4 == 0 ? DispatchPolicy.FifoBaseline : DispatchPolicy.Live,
                RoundLimit = seed % 3 == 0 ? 1 + (seed % 4) : int.MaxValue,
                DispatchInterval = seed % 5 == 0 ? TimeSpan.FromSeconds(90) : TimeSpan.Zero,
            };
            var (cutTrace, fullTrace) = (new SimulationTrace(), new SimulationTrace());

            var cut = ForecastSimulation.Run(plan, seed, options with { Trace = cutTrace });
            var full = ForecastSimulation.Run(plan, seed, options with { Exhaustive = true, Trace = fullTrace });

            Assert.Equal(fullTrace.Log, cutTrace.Log);
            Assert.Equal(fullTrace.HandsOn, cutTrace.HandsOn);
            Assert.Equal(full.Completion, cut.Completion);
        }
    }

    /// <summary>The same argument on the policy alone: cutting each group to the site's free slots never changes who is admitted, nor in what order.</summary>
    [Fact]
    public void Admit_OfTheCut_EqualsAdmit_OfEverything()
    {
        string?[] parts = [null, "NVMe-512", "SATA-SSD-256"];
        for (var seed = 0; seed < 3000; seed++)
        {
            var random = new Random(seed);
            Guid Id() => new([.. Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256))]);
            var sites = Enumerable.Range(0, random.Next(1, 5)).Select(_ => new SiteCapacity(Id(), random.Next(0, 8), random.Next(0, 6),
                new Dictionary<string, int> { ["NVMe-512"] = random.Next(0, 4), ["SATA-SSD-256"] = random.Next(0, 4) })).ToList();
            var candidates = Enumerable.Range(0, random.Next(0, 80)).Select(i => new Candidate(Id(), sites[random.Next(sites.Count)].SiteId,
                random.Next(1, 4), random.Next(1, 5), $"B{random.Next(3)}", random.Next(4).ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"PC{i:D3}", random.Next(2) == 0, parts[random.Next(parts.Length)], random.Next(4) == 0)).ToList();
            var limit = random.Next(3) == 0 ? random.Next(1, 10) : int.MaxValue;
            var free = sites.ToDictionary(s => s.SiteId, s => s.FreeSlots);
            var cut = candidates.GroupBy(c => (c.SiteId, c.NeedsTechnician, c.Part))
                .SelectMany(g => SchedulingPolicy.InPolicyOrder(g).Take(free[g.Key.SiteId])).ToList();

            var everything = SchedulingPolicy.Admit(sites, candidates, limit);
            var fromCut = SchedulingPolicy.Admit(sites, cut, limit);

            Assert.Equal(everything.Admitted, fromCut.Admitted);
            Assert.Subset(everything.NowAwaitingParts.ToHashSet(), fromCut.NowAwaitingParts.ToHashSet());
        }
    }
}
