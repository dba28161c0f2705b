namespace Reimage.Orchestrator.Forecast;

/// <summary>One change to try on a copy of the plan ("two more technicians at site X on the night shift").</summary>
public abstract record WhatIfChange
{
    internal abstract ForecastPlan ApplyTo(ForecastPlan plan);

    private protected static ForecastPlan WithSite(ForecastPlan plan, Guid siteId, Func<ForecastSite, ForecastSite> change) =>
        plan.Sites.Any(s => s.Id == siteId)
            ? plan with { Sites = [.. plan.Sites.Select(s => s.Id == siteId ? change(s) : s)] }
            : throw new ArgumentException($"Site {siteId} is not in the plan.", nameof(siteId));
}

/// <summary><paramref name="Count"/> technicians more at the site, on <paramref name="Shift"/>, based in <paramref name="Building"/>.</summary>
public sealed record AddTechnicians(Guid SiteId, int Count, ForecastShift Shift, string? Building = null) : WhatIfChange
{
    internal override ForecastPlan ApplyTo(ForecastPlan plan) => WithSite(plan, SiteId, site =>
    {
        var taken = plan.Sites.SelectMany(s => s.Technicians).Select(t => t.Id).ToHashSet();
        var added = new List<ForecastTechnician>();
        for (var k = 0L; added.Count < Count; k++)
        {
            // Ids derived from the site, so that the same what-if gives the same plan (and the same forecast) every time.
            var bytes = SiteId.ToByteArray();
            BitConverter.TryWriteBytes(bytes.AsSpan(8), BitConverter.ToInt64(bytes, 8) ^ (k + 1) ^ 0x5748_4154_4946_0000L);
            var id = new Guid(bytes);
            if (taken.Add(id))
            {
                added.Add(new ForecastTechnician(id, $"what-if {site.Code} #{added.Count + 1}", Building, [Shift]));
            }
        }

        return site with { Technicians = [.. site.Technicians, .. added] };
    });
}

/// <summary><paramref name="Count"/> technicians fewer at the site: the last on the roster working <paramref name="Shift"/> (any, if null).</summary>
public sealed record RemoveTechnicians(Guid SiteId, int Count, ForecastShift? Shift = null) : WhatIfChange
{
    internal override ForecastPlan ApplyTo(ForecastPlan plan) => WithSite(plan, SiteId, site =>
    {
        var gone = site.Technicians.Where(t => Shift is null || t.Shifts.Contains(Shift)).TakeLast(Count).Select(t => t.Id).ToHashSet();
        return site with { Technicians = [.. site.Technicians.Where(t => !gone.Contains(t.Id))] };
    });
}

/// <summary>Imaging slots added at the site (negative removes them, never below zero).</summary>
public sealed record AddSlots(Guid SiteId, int Count) : WhatIfChange
{
    internal override ForecastPlan ApplyTo(ForecastPlan plan) =>
        WithSite(plan, SiteId, site => site with { ImagingSlots = Math.Max(0, site.ImagingSlots + Count) });
}

/// <summary>A delivery of drives (or of <see cref="Sites.SpareStock.UsbMedia"/>) to the site.</summary>
public sealed record AddDelivery(Guid SiteId, string Item, int Quantity, DateTimeOffset ArrivesAt) : WhatIfChange
{
    internal override ForecastPlan ApplyTo(ForecastPlan plan) =>
        WithSite(plan, SiteId, site => site with { Deliveries = [.. site.Deliveries, new ForecastDelivery(Item, Quantity, ArrivesAt)] });
}

/// <summary>
/// Waves run in a new order: those listed take ordinals 1, 2, … in the order given; the others follow in their old
/// order. Gates are dependencies, not order, and stay as they are.
/// </summary>
public sealed record ReorderWaves(IReadOnlyList<Guid> Order) : WhatIfChange
{
    internal override ForecastPlan ApplyTo(ForecastPlan plan)
    {
        if (Order.Any(id => plan.Waves.All(w => w.Id != id)))
        {
            throw new ArgumentException("Every wave to reorder must be in the plan.");
        }

        var order = Order.Distinct().Concat(plan.Waves.OrderBy(w => w.Ordinal).Select(w => w.Id).Except(Order)).ToList();
        return plan with { Waves = [.. plan.Waves.Select(w => w with { Ordinal = order.IndexOf(w.Id) + 1 })] };
    }
}

/// <summary>A plan's forecast beside the forecast of the plan with the changes made, over the same runs and dice.</summary>
public sealed record WhatIfComparison(PlanForecast Original, PlanForecast Changed, ForecastPlan ChangedPlan)
{
    /// <summary>How much sooner (negative) or later the fleet's median completion comes; null when either never completes.</summary>
    public TimeSpan? MedianShift => Changed.Fleet.Median - Original.Fleet.Median;

    public TimeSpan? Percentile90Shift => Changed.Fleet.Percentile90 - Original.Fleet.Percentile90;
}

public static class WhatIf
{
    /// <summary>A copy of the plan with the changes made in order; the plan itself is not touched.</summary>
    public static ForecastPlan Apply(ForecastPlan plan, IEnumerable<WhatIfChange> changes) =>
        changes.Aggregate(plan, (current, change) => change.ApplyTo(current));

    /// <summary>Forecasts the plan and its changed copy with the same seeds, side by side. Progress counts runs of both.</summary>
    public static WhatIfComparison Compare(ForecastPlan plan, IReadOnlyList<WhatIfChange> changes, int runs = 100, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        var changed = Apply(plan, changes);
        var original = Forecaster.Forecast(plan, runs, progress, ct);
        var offset = progress is null ? null : new Offset(progress, runs);
        return new WhatIfComparison(original, Forecaster.Forecast(changed, runs, offset, ct), changed);
    }

    /// <summary>Passes reports on at once, shifted (a <see cref="Progress{T}"/> would post them later, possibly out of order).</summary>
    private sealed class Offset(IProgress<int> inner, int by) : IProgress<int>
    {
        public void Report(int value) => inner.Report(by + value);
    }
}
