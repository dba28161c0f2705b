using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Reimage.Orchestrator.Import;

/// <summary>What a site rule looks at in an export row that names no site.</summary>
public enum SiteRuleKind
{
    /// <summary>Active Directory's free-text <c>Location</c>: equal, any case; <c>*</c> matches any text.</summary>
    Location,

    /// <summary>The <c>DistinguishedName</c> contains this OU path, any case (e.g. <c>OU=Riyadh,DC=corp,DC=example</c>).</summary>
    OrganizationalUnit,

    /// <summary>The row's IP address is in this subnet (CIDR, e.g. <c>10.20.0.0/16</c>).</summary>
    Subnet,

    /// <summary>The host name starts with this text, any case (e.g. <c>RUH-</c>).</summary>
    HostnamePrefix,
}

/// <summary>
/// A lead's rule that places an imported machine at a site when its row names none (an Active Directory export has
/// no site column). Rules are tried in <see cref="Position"/> order; the first that matches wins.
/// </summary>
public sealed class SiteRule
{
    public Guid Id { get; set; }

    public SiteRuleKind Kind { get; set; }

    public required string Pattern { get; set; }

    public Guid SiteId { get; set; }

    public int Position { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public required string CreatedBy { get; set; }

    /// <summary>Why <paramref name="pattern"/> cannot be a rule of <paramref name="kind"/>; null when it can.</summary>
    public static string? Problem(SiteRuleKind kind, string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern) || pattern.Length > 256 || pattern.Contains('\0'))
        {
            return "a pattern of 1 to 256 characters is required";
        }

        if (kind == SiteRuleKind.Subnet)
        {
            var parts = pattern.Trim().Split('/');
            if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var address) || !int.TryParse(parts[1], out var bits)
                || bits < 0 || bits > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            {
                return $"\"{pattern}\" is not a subnet (CIDR, e.g. 10.20.0.0/16)";
            }

            // PostgreSQL's cidr refuses host bits beyond the prefix (10.40.0.1/16), and so does this.
            var bytes = address.GetAddressBytes();
            if (bytes.Where((b, i) => (b & (0xFF >> Math.Clamp(bits - (8 * i), 0, 8))) != 0).Any())
            {
                return $"\"{pattern}\" has bits set beyond its prefix length (write the network address, e.g. 10.20.0.0/16)";
            }
        }

        return null;
    }
}

internal sealed class SiteRuleConfiguration : IEntityTypeConfiguration<SiteRule>
{
    public void Configure(EntityTypeBuilder<SiteRule> b)
    {
        b.ToTable("site_rules");
        b.Property(r => r.Kind).HasConversion<string>().HasMaxLength(32);
        b.Property(r => r.Pattern).HasMaxLength(256);
        b.Property(r => r.CreatedBy).HasMaxLength(128);
        b.HasOne<Sites.Site>().WithMany().HasForeignKey(r => r.SiteId);
        b.HasIndex(r => r.Position);
    }
}
