using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Reimage.Orchestrator.Forecast;

namespace Reimage.Dashboard.Forecast;

/// <summary>A forecast as the pages and the API show it: dates rather than spans, names rather than ids.</summary>
public sealed record ForecastView(
    DateTimeOffset MadeAt, int Runs, int Machines, DateTimeOffset? FleetP50, DateTimeOffset? FleetP90, DateTimeOffset? LowerBound, double? Efficiency,
    IReadOnlyList<ForecastLine> Waves, IReadOnlyList<ForecastLine> Sites, double MeanFailed);

public sealed record ForecastLine(string Name, DateTimeOffset? P50, DateTimeOffset? P90, DateTimeOffset? LowerBound);

/// <summary>
/// What-if changes as a lead types them: per site, more technicians on a day shift, more slots, a drive delivery; and
/// for the fleet, the waves in a new order (by name, first to go first; waves not named keep their order after them).
/// </summary>
public sealed record WhatIfRequest(string? Site, int Technicians, int Slots, string? DeliveryItem, int DeliveryQuantity, int DeliveryInDays,
    IReadOnlyList<string>? WaveOrder = null)
{
    public bool ChangesASite => Technicians > 0 || Slots > 0 || DeliveryQuantity > 0;
}

public sealed record WhatIfView(ForecastView Plan, ForecastView Changed, string Summary);

/// <summary>A what-if naming a site or wave the plan does not have; <see cref="Field"/> is the request's field at fault.</summary>
public sealed class WhatIfRefusedException(string field, string message) : ArgumentException(message)
{
    public string Field { get; } = field;
}

/// <summary>
/// Forecasts of the live plan: built from the tables, simulated 100 times with the live scheduling policy, and kept
/// until the plan or the history changes (a fingerprint of the plan decides), so reopening the page costs nothing.
/// One forecast at a time; progress is published while it runs.
/// </summary>
public sealed class ForecastService(NpgsqlDataSource db, TimeProvider clock) : IDisposable
{
    public const int Runs = 100;
    private readonly SemaphoreSlim _one = new(1, 1);
    private (string Fingerprint, ForecastView View)? _last;

    /// <summary>Runs done of the forecast in progress (0–100), or null when none is running.</summary>
    public int? Progress { get; private set; }

    public ForecastView? Last => _last?.View;

    public async Task<ForecastView> ForecastAsync(CancellationToken ct)
    {
        await _one.WaitAsync(ct);
        try
        {
            var plan = await LivePlan.ReadAsync(db, clock.GetUtcNow(), ct);
            var fingerprint = Fingerprint(plan);
            if (_last is { } last && last.Fingerprint == fingerprint)
            {
                return last.View;
            }

            var view = await Task.Run(() => View(plan, Forecaster.Forecast(plan, Runs, new Progress<int>(p => Progress = p), ct)), ct);
            _last = (fingerprint, view);
            return view;
        }
        finally
        {
            Progress = null;
            _one.Release();
        }
    }

    public async Task<WhatIfView> WhatIfAsync(WhatIfRequest request, CancellationToken ct)
    {
        var plan = await LivePlan.ReadAsync(db, clock.GetUtcNow(), ct);
        var site = !request.ChangesASite ? null : plan.Sites.FirstOrDefault(s => string.Equals(s.Code, request.Site, StringComparison.OrdinalIgnoreCase))
            ?? throw new WhatIfRefusedException("site", $"no site '{request.Site}'");
        var changes = new List<WhatIfChange>();
        if (request.WaveOrder is { Count: > 0 } order)
        {
            changes.Add(new ReorderWaves([.. order.Select(name => WaveNamed(plan, name))]));
        }

        if (request.Technicians > 0)
        {
            changes.Add(new AddTechnicians(site!.Id, request.Technicians, new ForecastShift(Orchestrator.Sites.ShiftDays.EveryDay, new TimeOnly(7, 0), new TimeOnly(19, 0))));
        }

        if (request.Slots > 0)
        {
            changes.Add(new AddSlots(site!.Id, request.Slots));
        }

        if (request.DeliveryQuantity > 0 && !string.IsNullOrWhiteSpace(request.DeliveryItem))
        {
            changes.Add(new AddDelivery(site!.Id, request.DeliveryItem.Trim(), request.DeliveryQuantity, plan.Start.AddDays(Math.Max(0, request.DeliveryInDays))));
        }

        var comparison = await Task.Run(() => WhatIf.Compare(plan, changes, Runs, ct: ct), ct);
        var summary = string.Join("; ", changes.Select(c => c switch
        {
            AddTechnicians t => $"{t.Count} more technicians at {site!.Code} (07:00–19:00 every day)",
            AddSlots s => $"{s.Count} more imaging slots at {site!.Code}",
            AddDelivery d => $"{d.Quantity} × {d.Item} delivered to {site!.Code} on {d.ArrivesAt:yyyy-MM-dd}",
            ReorderWaves => "waves in the order " + string.Join(" → ", comparison.ChangedPlan.Waves.OrderBy(w => w.Ordinal).Select(w => w.Name)),
            _ => c.ToString(),
        }));
        return new WhatIfView(View(plan, comparison.Original), View(comparison.ChangedPlan, comparison.Changed), summary);
    }

    /// <summary>The wave a lead names; the forecast's waves are those not cancelled or completed.</summary>
    private static Guid WaveNamed(ForecastPlan plan, string name)
    {
        var waves = plan.Waves.Where(w => string.Equals(w.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase)).ToList();
        return waves.Count switch
        {
            1 => waves[0].Id,
            0 => throw new WhatIfRefusedException("waveOrder", $"no wave '{name}' in the plan (cancelled and completed waves are not)"),
            _ => throw new WhatIfRefusedException("waveOrder", $"{waves.Count} waves are called '{name}'; rename one to reorder them"),
        };
    }

    private ForecastView View(ForecastPlan plan, PlanForecast f)
    {
        DateTimeOffset? At(TimeSpan? span) => span is { } s ? f.Start + s : null;
        var waves = plan.Waves.OrderBy(w => w.Ordinal).Where(w => f.Waves.ContainsKey(w.Id))
            .Select(w => new ForecastLine(w.Name, At(f.Waves[w.Id].Median), At(f.Waves[w.Id].Percentile90), null)).ToList();
        var sites = plan.Sites.OrderBy(s => s.Code).Where(s => f.Sites.ContainsKey(s.Id))
            .Select(s => new ForecastLine(s.Code, At(f.Sites[s.Id].Median), At(f.Sites[s.Id].Percentile90), At(f.Bound.Sites.GetValueOrDefault(s.Id)?.Bound))).ToList();
        return new ForecastView(clock.GetUtcNow(), f.Runs, plan.Machines.Count, f.MedianCompletion, f.Percentile90Completion, At(f.Bound.Fleet), f.Efficiency, waves, sites, f.MeanFailed);
    }

    /// <summary>Everything the forecast depends on except the moment it is made.</summary>
    private static string Fingerprint(ForecastPlan plan) =>
        Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new
        {
            plan.Sites, plan.Waves, plan.Machines, plan.Durations.Defaults,
            BySite = plan.Durations.BySite.Select(d => $"{d.Key.SiteId}/{d.Key.Step}:{d.Value}").Order(StringComparer.Ordinal),
        })));

    public void Dispose() => _one.Dispose();
}
