using Microsoft.EntityFrameworkCore;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Import;

public enum SiteRuleOutcome
{
    Added,

    /// <summary>The kind or pattern is not valid (<see cref="SiteRuleResult.Error"/> says why); nothing was stored.</summary>
    Invalid,

    NoSuchSite,
}

public sealed record SiteRuleResult(SiteRuleOutcome Outcome, SiteRule? Rule, string? Error);

/// <summary>A site rule as leads see it: with its site's code.</summary>
public sealed record SiteRuleView(Guid Id, string Kind, string Pattern, string Site, int Position, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>The lead's site rules for imports (<see cref="SiteRule"/>): list, add, remove.</summary>
public sealed class SiteRules(IDbContextFactory<ReimageDbContext> contexts, TimeProvider clock)
{
    public async Task<IReadOnlyList<SiteRuleView>> ListAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await (from r in db.SiteRules
                      join s in db.Sites on r.SiteId equals s.Id
                      orderby r.Position, r.CreatedAt
                      select new SiteRuleView(r.Id, r.Kind.ToString(), r.Pattern, s.Code, r.Position, r.CreatedAt, r.CreatedBy)).ToListAsync(ct);
    }

    /// <summary>Adds a rule after the existing ones (or at <paramref name="position"/>); <paramref name="site"/> is a site code, any case.</summary>
    public async Task<SiteRuleResult> AddAsync(string? kind, string? pattern, string? site, int? position, Actor actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!Enum.TryParse<SiteRuleKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(kind, out _))
        {
            return new(SiteRuleOutcome.Invalid, null, $"kind must be one of: {string.Join(", ", Enum.GetNames<SiteRuleKind>())}");
        }

        if (SiteRule.Problem(parsed, pattern) is { } problem)
        {
            return new(SiteRuleOutcome.Invalid, null, "pattern: " + problem);
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        // Sites are few; codes compare without case as the import compares them, the oldest of a case-variant pair first.
        var sites = await db.Sites.OrderBy(s => s.CreatedAt).Select(s => new { s.Id, s.Code }).ToListAsync(ct);
        var siteId = sites.FirstOrDefault(s => string.Equals(s.Code, site?.Trim(), StringComparison.OrdinalIgnoreCase))?.Id;
        if (siteId is null)
        {
            return new(SiteRuleOutcome.NoSuchSite, null, $"site \"{site}\" does not exist");
        }

        var rule = new SiteRule
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()),
            Kind = parsed,
            Pattern = pattern!.Trim(),
            SiteId = siteId.Value,
            Position = position ?? (await db.SiteRules.MaxAsync(r => (int?)r.Position, ct) ?? 0) + 10,
            CreatedAt = clock.GetUtcNow(),
            CreatedBy = actor.Name,
        };
        db.SiteRules.Add(rule);
        await db.SaveChangesAsync(ct);
        return new(SiteRuleOutcome.Added, rule, null);
    }

    /// <summary>Removes a rule; false when there is none with that id.</summary>
    public async Task<bool> RemoveAsync(Guid id, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.SiteRules.Where(r => r.Id == id).ExecuteDeleteAsync(ct) > 0;
    }
}
