using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reimage.Orchestrator.Sites;

namespace Reimage.Orchestrator.Machines;

internal sealed class MachineConfiguration : IEntityTypeConfiguration<Machine>
{
    public void Configure(EntityTypeBuilder<Machine> b)
    {
        b.ToTable("machines");
        b.Property(m => m.Hostname).HasMaxLength(63);
        b.Property<string>("HostnameKey").HasMaxLength(63)
            .HasComputedColumnSql("lower(hostname)", stored: true);
        b.HasIndex("HostnameKey").IsUnique();
        b.Property(m => m.AssetTag).HasMaxLength(64);
        b.Property(m => m.SerialNumber).HasMaxLength(64);
        b.HasIndex(m => m.SerialNumber).IsUnique();
        b.Property(m => m.IpAddress).HasMaxLength(45);
        b.Property(m => m.Building).HasMaxLength(64);
        b.Property(m => m.Floor).HasMaxLength(16);
        b.Property(m => m.Room).HasMaxLength(32);
        b.Property(m => m.Department).HasMaxLength(64);
        b.Property(m => m.Owner).HasMaxLength(128);
        b.Property(m => m.Model).HasMaxLength(64);
        b.Property(m => m.DiskType).HasMaxLength(32);
        b.Property(m => m.BmcAddress).HasMaxLength(255);
        b.Property(m => m.ImageProfile).HasMaxLength(64);
        b.HasIndex(m => m.MacAddresses).HasMethod("gin");
        b.Property(m => m.SharedMacAddresses).HasDefaultValueSql("'{}'");
        b.HasOne<Site>().WithMany().HasForeignKey(m => m.SiteId);
    }
}

internal sealed class MachineEventConfiguration : IEntityTypeConfiguration<MachineEvent>
{
    public void Configure(EntityTypeBuilder<MachineEvent> b)
    {
        b.ToTable("machine_events");
        b.Property(e => e.TimeZone).HasMaxLength(64);
        b.Property(e => e.Actor).HasMaxLength(128);
        b.Property(e => e.Origin).HasMaxLength(128);
        b.Property(e => e.Kind).HasMaxLength(32);
        b.Property(e => e.FromState).HasMaxLength(32);
        b.Property(e => e.ToState).HasMaxLength(32);
        b.Property(e => e.Step).HasMaxLength(32);
        b.Property(e => e.Detail).HasMaxLength(2000);
        b.HasIndex(e => new { e.MachineId, e.Id });
        // No foreign key to machines, on purpose: the history is an append-only log written at the rate of every
        // transition and import, machines are never deleted (Decommissioned is a state), and a per-row key check
        // would be a third of the cost of a bulk import.
    }
}
