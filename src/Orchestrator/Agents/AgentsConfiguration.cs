using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Sites;

namespace Reimage.Orchestrator.Agents;

internal sealed class AgentCommandConfiguration : IEntityTypeConfiguration<AgentCommand>
{
    public void Configure(EntityTypeBuilder<AgentCommand> b)
    {
        b.ToTable("agent_commands");
        b.Property(c => c.Kind).HasMaxLength(32);
        b.Property(c => c.Step).HasMaxLength(32);
        b.Property(c => c.LeasedBy).HasMaxLength(128);
        b.Property(c => c.Detail).HasMaxLength(2000);
        // The agents' fetch and the pump's claim each read one narrow slice; partial indexes keep them small.
        b.HasIndex(c => new { c.SiteId, c.NotBefore })
            .HasFilter("status IN ('Pending', 'Leased')")
            .HasDatabaseName("ix_agent_commands_open");
        b.HasIndex(c => c.CompletedAt)
            .HasFilter("status = 'Completed'")
            .HasDatabaseName("ix_agent_commands_completed");
        b.HasIndex(c => c.MachineId);
        b.HasOne<Machine>().WithMany().HasForeignKey(c => c.MachineId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Site>().WithMany().HasForeignKey(c => c.SiteId);
    }
}

internal sealed class EnrolledAgentConfiguration : IEntityTypeConfiguration<EnrolledAgent>
{
    public void Configure(EntityTypeBuilder<EnrolledAgent> b)
    {
        b.ToTable("agents");
        b.Property(a => a.Name).HasMaxLength(128);
        b.Property(a => a.Platform).HasMaxLength(64);
        b.Property(a => a.Version).HasMaxLength(64);
        b.Property(a => a.RevokedBy).HasMaxLength(128);
        b.HasIndex(a => a.SiteId);
        b.HasOne<Site>().WithMany().HasForeignKey(a => a.SiteId);
    }
}

internal sealed class SiteTokenConfiguration : IEntityTypeConfiguration<SiteToken>
{
    public void Configure(EntityTypeBuilder<SiteToken> b)
    {
        b.ToTable("site_tokens");
        b.Property(t => t.CreatedBy).HasMaxLength(128);
        b.HasIndex(t => t.SiteId);
        b.HasOne<Site>().WithMany().HasForeignKey(t => t.SiteId);
    }
}
