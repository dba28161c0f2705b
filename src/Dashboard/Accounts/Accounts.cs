using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Reimage.Dashboard.Accounts;

/// <summary>The four kinds of people who use Reimage.</summary>
public static class Roles
{
    public const string Admin = "Admin";
    public const string Lead = "Lead";
    public const string Technician = "Technician";
    public const string Executive = "Executive";

    public static readonly string[] All = [Admin, Lead, Technician, Executive];

    /// <summary>Where someone with these roles lands after signing in: technicians on their queue (the fleet page is not theirs), everyone else on the fleet.</summary>
    public static string Home(IEnumerable<string> roles) => roles.ToList() is { Count: > 0 } list && list.All(r => r == Technician) ? "/tech" : "/";
}

/// <summary>A person signing in to the dashboard.</summary>
public sealed class ReimageUser : IdentityUser
{
    public string? DisplayName { get; set; }

    /// <summary>For technicians: the site codes whose machines they may see and check off.</summary>
    public List<string> SiteCodes { get; set; } = [];

    /// <summary>Set for a generated one-time password: the user must choose their own before doing anything else.</summary>
    public bool MustChangePassword { get; set; }
}

/// <summary>
/// Identity's tables, in their own schema of the Reimage database, and the Data Protection key ring that signs the
/// sign-in cookies: shared by every node on this database, and by no other installation.
/// </summary>
public sealed class AccountsDbContext(DbContextOptions<AccountsDbContext> options)
    : IdentityDbContext<ReimageUser>(options), Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.IDataProtectionKeyContext
{
    public const string Schema = "identity";

    public DbSet<Fleet.SavedFilter> SavedFilters => Set<Fleet.SavedFilter>();

    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys => Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.HasDefaultSchema(Schema);
        builder.Entity<ReimageUser>().Property(u => u.DisplayName).HasMaxLength(128);
        Fleet.SavedFilter.Configure(builder);
    }
}

/// <summary>Site claims on the signed-in principal, so site scoping needs no database round trip.</summary>
internal sealed class ReimageClaimsFactory(UserManager<ReimageUser> users, RoleManager<IdentityRole> roles, Microsoft.Extensions.Options.IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<ReimageUser, IdentityRole>(users, roles, options)
{
    public const string SiteClaim = "reimage:site-code";
    public const string MustChangeClaim = "reimage:must-change-password";

    /// <summary>A technician account's roster entry (a user claim, set by an admin): whose queue the tablet shows.</summary>
    public const string TechnicianClaim = "reimage:technician";

    protected override async Task<System.Security.Claims.ClaimsIdentity> GenerateClaimsAsync(ReimageUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        foreach (var site in user.SiteCodes)
        {
            identity.AddClaim(new(SiteClaim, site.ToUpperInvariant()));
        }

        if (user.MustChangePassword)
        {
            identity.AddClaim(new(MustChangeClaim, "true"));
        }

        return identity;
    }
}
