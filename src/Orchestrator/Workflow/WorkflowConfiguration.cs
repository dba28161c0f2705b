using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reimage.Orchestrator.Machines;
using Reimage.Orchestrator.Sites;
using Reimage.Orchestrator.Waves;

namespace Reimage.Orchestrator.Workflow;

internal sealed class RecoveryConfiguration : IEntityTypeConfiguration<Recovery>
{
    public void Configure(EntityTypeBuilder<Recovery> b)
    {
        b.ToTable("recoveries");
        b.HasKey(r => r.MachineId);
        b.Property(r => r.FailureReason).HasMaxLength(500);
        b.HasIndex(r => new { r.State, r.Step });
        b.HasIndex(r => r.WaveId);
        b.HasOne<Machine>().WithOne().HasForeignKey<Recovery>(r => r.MachineId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Wave>().WithMany().HasForeignKey(r => r.WaveId).OnDelete(DeleteBehavior.SetNull);
        b.Property(r => r.ReservedPart).HasMaxLength(32);
        b.Ignore(r => r.RemoteBoot); // read from the machine (Recovery.Columns), never stored
        b.HasIndex(r => r.TechnicianId).HasFilter("technician_id IS NOT NULL");
        b.HasOne<Technician>().WithMany().HasForeignKey(r => r.TechnicianId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class IdempotentRequestConfiguration : IEntityTypeConfiguration<IdempotentRequest>
{
    public void Configure(EntityTypeBuilder<IdempotentRequest> b)
    {
        b.ToTable("idempotent_requests");
        b.HasKey(r => r.Key);
        b.Property(r => r.Key).HasMaxLength(128);
        b.Property(r => r.Step).HasMaxLength(32);
        b.Property(r => r.Outcome).HasMaxLength(32);
        // Text, not jsonb: a replay must return the first answer byte for byte.
        b.Property(r => r.Response).HasMaxLength(4000);
    }
}
