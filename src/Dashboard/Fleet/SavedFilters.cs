using Microsoft.EntityFrameworkCore;
using Reimage.Dashboard.Accounts;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Dashboard.Fleet;

/// <summary>A grid filter a person named so they can pick it again; kept with their account.</summary>
public sealed class SavedFilter
{
    public Guid Id { get; set; }

    public required string UserName { get; set; }

    public required string Name { get; set; }

    public Guid? SiteId { get; set; }

    public RecoveryState? State { get; set; }

    public string? Text { get; set; }

    public DateTimeOffset SavedAt { get; set; }

    public FleetFilter ToFilter() => new(SiteId, State, Text);

    internal static void Configure(ModelBuilder builder) => builder.Entity<SavedFilter>(b =>
    {
        b.ToTable("saved_filters");
        b.Property(f => f.UserName).HasMaxLength(256);
        b.Property(f => f.Name).HasMaxLength(64);
        b.Property(f => f.Text).HasMaxLength(200);
        b.Property(f => f.State).HasConversion<string>().HasMaxLength(32);
        b.HasIndex(f => new { f.UserName, f.Name }).IsUnique();
    });
}

/// <summary>
/// Each person's saved grid filters. A singleton that opens a scope per call, because a Blazor circuit lives for
/// minutes and a DbContext should not.
/// </summary>
public sealed class SavedFilters(IServiceScopeFactory scopes, TimeProvider clock)
{
    public const int MaxPerUser = 50;

    public async Task<IReadOnlyList<SavedFilter>> ListAsync(string userName, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        return await db.SavedFilters.AsNoTracking().Where(f => f.UserName == userName).OrderBy(f => f.Name).ToListAsync(ct);
    }

    /// <summary>Saves <paramref name="filter"/> under <paramref name="name"/>, replacing the user's filter of that name; null, or why not.</summary>
    public async Task<string?> SaveAsync(string userName, string name, FleetFilter filter, CancellationToken ct)
    {
        name = name.Trim();
        if (name.Length is 0 or > 64)
        {
            return "A saved filter needs a name of at most 64 characters.";
        }

        if (filter.Text is { Length: > 200 })
        {
            return "The search text is too long to save (at most 200 characters).";
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        var existing = await db.SavedFilters.SingleOrDefaultAsync(f => f.UserName == userName && f.Name == name, ct);
        if (existing is null)
        {
            if (await db.SavedFilters.CountAsync(f => f.UserName == userName, ct) >= MaxPerUser)
            {
                return $"At most {MaxPerUser} saved filters each; delete one first.";
            }

            existing = new SavedFilter { Id = Guid.CreateVersion7(), UserName = userName, Name = name };
            db.SavedFilters.Add(existing);
        }

        (existing.SiteId, existing.State, existing.Text, existing.SavedAt) = (filter.SiteId, filter.State, string.IsNullOrWhiteSpace(filter.Text) ? null : filter.Text.Trim(), clock.GetUtcNow());
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return $"\"{name}\" was saved by another tab meanwhile; try again.";
        }

        return null;
    }

    public async Task DeleteAsync(string userName, Guid id, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        await db.SavedFilters.Where(f => f.UserName == userName && f.Id == id).ExecuteDeleteAsync(ct);
    }
}
