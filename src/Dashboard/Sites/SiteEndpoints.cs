using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Reimage.Dashboard.Accounts;
using Reimage.Dashboard.Infrastructure;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Sites;

public sealed record NewHandoverNote(string? Site, string? Text);

public sealed record SiteCapacityChange(int? ImagingSlots, bool? ImagesFromUsb, int? HandsOnPerTechnician);

public sealed record NewTechnician(string? Name, string? Building);

/// <summary>A weekly shift: <c>days</c> like "Mon,Wed,Fri", "Weekdays" or "EveryDay"; <c>starts</c>/<c>ends</c> as HH:mm in the site's zone.</summary>
public sealed record NewShift(string? Days, string? Starts, string? Ends);

public sealed record StockCount(int OnHand);

public sealed record NewDelivery(string? Item, int Quantity, string? Reference, DateTimeOffset? ExpectedAt);

/// <summary>
/// Sites and capacity for leads (roster, shifts, slots, stock, deliveries, alerts) and the shift hand-over notes.
/// The assignment of hands-on work is in <c>HandsOn/</c>, moving machines between waves in <c>Waves/</c>.
/// </summary>
public static class SiteEndpoints
{
    public static WebApplicationBuilder AddSites(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SiteQuery>();
        builder.Services.AddSingleton<SiteScope>();
        builder.Services.AddSingleton<Handover>();
        return builder;
    }

    public static WebApplication MapSiteApi(this WebApplication app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(Policies.Lead);
        app.MapGet("/api/sites", (SiteQuery query, CancellationToken ct) => query.ListAsync(ct)).RequireAuthorization(Policies.Executive);

        // Shift hand-over notes: leads write; technicians read their sites' (and the general) notes.
        api.MapPost("/handover", async (NewHandoverNote body, Handover handover, ClaimsPrincipal user, CancellationToken ct) =>
        {
            var errors = Handover.Errors(body.Text);
            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            var site = string.IsNullOrWhiteSpace(body.Site) ? null : body.Site;
            return await handover.AddAsync(site, user.Identity!.Name!, body.Text!, ct) is { } note
                ? Results.Created($"/api/handover/{note.Id}", note)
                : Results.ValidationProblem(new Dictionary<string, string[]> { ["site"] = [$"no site {body.Site}"] });
        });
        app.MapGet("/api/handover", (Handover handover, ClaimsPrincipal user, int? hours, CancellationToken ct) =>
            handover.ListAsync(SiteScope.SitesOf(user),
                TimeSpan.FromHours(Math.Clamp(hours ?? 72, 1, 24 * 30)), 200, ct)).RequireAuthorization(Policies.Technician);

        api.MapPut("/sites/{id:guid}/capacity", async (Guid id, SiteCapacityChange body, IDbContextFactory<ReimageDbContext> contexts, WorkflowKick kick, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (body.ImagingSlots is < 0 or > 10_000)
            {
                errors["imagingSlots"] = ["between 0 and 10,000"];
            }

            if (body.HandsOnPerTechnician is < 1 or > 50)
            {
                errors["handsOnPerTechnician"] = ["between 1 and 50"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            await using var context = await contexts.CreateDbContextAsync(ct);
            var site = await context.Sites.FindAsync([id], ct);
            if (site is null)
            {
                return Results.NotFound(new { error = $"site {id} does not exist" });
            }

            site.ImagingSlots = body.ImagingSlots ?? site.ImagingSlots;
            site.ImagesFromUsb = body.ImagesFromUsb ?? site.ImagesFromUsb;
            site.HandsOnPerTechnician = body.HandsOnPerTechnician ?? site.HandsOnPerTechnician;
            await context.SaveChangesAsync(ct);
            kick.Kick();
            return Results.Ok(new { site.Id, site.ImagingSlots, site.ImagesFromUsb, site.HandsOnPerTechnician });
        });

        api.MapPost("/sites/{id:guid}/technicians", async (Guid id, NewTechnician body, IDbContextFactory<ReimageDbContext> contexts, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Trim().Length > 128 || body.Building?.Trim().Length > 64)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["a name of 1 to 128 characters (building at most 64)"] });
            }

            await using var context = await contexts.CreateDbContextAsync(ct);
            if (await context.Sites.FindAsync([id], ct) is null)
            {
                return Results.NotFound(new { error = $"site {id} does not exist" });
            }

            var technician = new Technician { Id = Guid.CreateVersion7(), SiteId = id, Name = body.Name.Trim(), Building = string.IsNullOrWhiteSpace(body.Building) ? null : body.Building.Trim() };
            context.Technicians.Add(technician);
            await context.SaveChangesAsync(ct);
            return Results.Created($"/api/technicians/{technician.Id}", new { technician.Id, technician.Name, technician.Building });
        });

        api.MapPost("/technicians/{id:guid}/shifts", async (Guid id, NewShift body, IDbContextFactory<ReimageDbContext> contexts, WorkflowKick kick, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            var days = ParseDays(body.Days);
            if (days is null)
            {
                errors["days"] = ["day names separated by commas (Mon,Tue,…), Weekdays or EveryDay"];
            }

            if (!TimeOnly.TryParseExact(body.Starts ?? "", "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var starts))
            {
                errors["starts"] = ["a time of day as HH:mm, in the site's time zone"];
            }

            if (!TimeOnly.TryParseExact(body.Ends ?? "", "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var ends))
            {
                errors["ends"] = ["a time of day as HH:mm, in the site's time zone (at or before the start: the shift runs past midnight)"];
            }

            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors);
            }

            await using var context = await contexts.CreateDbContextAsync(ct);
            if (await context.Technicians.FindAsync([id], ct) is null)
            {
                return Results.NotFound(new { error = $"technician {id} does not exist" });
            }

            var shift = new Shift { Id = Guid.CreateVersion7(), TechnicianId = id, Days = days!.Value, Starts = starts, Ends = ends };
            context.Shifts.Add(shift);
            await context.SaveChangesAsync(ct);
            kick.Kick();
            return Results.Created($"/api/shifts/{shift.Id}", new { shift.Id, Days = shift.Days.ToString(), Starts = starts.ToString("HH:mm"), Ends = ends.ToString("HH:mm") });
        });

        api.MapDelete("/shifts/{id:guid}", async (Guid id, IDbContextFactory<ReimageDbContext> contexts, CancellationToken ct) =>
        {
            await using var context = await contexts.CreateDbContextAsync(ct);
            return await context.Shifts.Where(s => s.Id == id).ExecuteDeleteAsync(ct) == 1 ? Results.NoContent() : Results.NotFound(new { error = $"shift {id} does not exist" });
        });

        api.MapPut("/sites/{id:guid}/stock/{item}", (Guid id, string item, StockCount body, Stockroom stockroom, CancellationToken ct) =>
            Guarded(Stockroom.Errors(item, body.OnHand, allowZero: true), async () =>
            {
                await stockroom.SetOnHandAsync(id, item, body.OnHand, ct);
                return Results.Ok(new { site = id, item = item.Trim(), body.OnHand });
            }));

        api.MapPost("/sites/{id:guid}/deliveries", (Guid id, NewDelivery body, Stockroom stockroom, CancellationToken ct) =>
            Guarded(Stockroom.Errors(body.Item, body.Quantity, allowZero: false), async () =>
            {
                var delivery = await stockroom.ExpectAsync(id, body.Item!, body.Quantity, body.Reference, body.ExpectedAt, ct);
                return Results.Created($"/api/deliveries/{delivery.Id}", new { delivery.Id, delivery.Item, delivery.Quantity, delivery.ExpectedAt });
            }));

        api.MapPost("/deliveries/{id:guid}/receive", (Guid id, Stockroom stockroom, ClaimsPrincipal user, CancellationToken ct) =>
            Guarded([], async () =>
            {
                var received = await stockroom.ReceiveAsync(id, user.Identity?.Name ?? "unknown", ct);
                return Results.Ok(new { delivery = id, result = received ? "received" : "already received" });
            }));

        return app;
    }

    /// <summary>Parses "Mon,Tue", "Monday, Friday", "Weekdays" or "EveryDay"; null when any part is not a day.</summary>
    public static ShiftDays? ParseDays(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var days = ShiftDays.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = Enum.GetValues<ShiftDays>().Where(d => d != ShiftDays.None)
                .FirstOrDefault(d => d.ToString().Equals(part, StringComparison.OrdinalIgnoreCase)
                    || (part.Length >= 3 && BitCount(d) == 1 && d.ToString().StartsWith(part, StringComparison.OrdinalIgnoreCase)));
            if (match == ShiftDays.None)
            {
                return null;
            }

            days |= match;
        }

        return days;
    }

    private static int BitCount(ShiftDays d) => System.Numerics.BitOperations.PopCount((uint)d);

    private static async Task<IResult> Guarded(Dictionary<string, string[]> errors, Func<Task<IResult>> action)
    {
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        try
        {
            return await action();
        }
        catch (StockRuleException e)
        {
            return e.NotFound ? Results.NotFound(new { error = e.Message }) : Results.Conflict(new { error = e.Message });
        }
    }

}
