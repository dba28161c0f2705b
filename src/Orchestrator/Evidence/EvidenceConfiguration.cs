using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reimage.Orchestrator.Machines;

namespace Reimage.Orchestrator.Evidence;

internal sealed class EvidenceItemConfiguration : IEntityTypeConfiguration<EvidenceItem>
{
    public void Configure(EntityTypeBuilder<EvidenceItem> b)
    {
        b.ToTable("evidence_items");
        b.Property(e => e.DriveSerial).HasMaxLength(64);
        b.Property(e => e.DriveModel).HasMaxLength(64);
        b.Property(e => e.Hostname).HasMaxLength(63);
        b.Property(e => e.IpAddress).HasMaxLength(45);
        b.Property(e => e.EvidenceBagId).HasMaxLength(64);
        b.Property(e => e.SealId).HasMaxLength(64);
        b.Property(e => e.CollectedBy).HasMaxLength(128);
        b.Property(e => e.TimeZone).HasMaxLength(64);
        b.Property(e => e.StorageLocation).HasMaxLength(128);
        b.Property(e => e.CaseNumber).HasMaxLength(64).HasDefaultValue(EvidenceItem.UnassignedCase);
        b.HasIndex(e => e.CaseNumber);
        b.HasIndex(e => e.MachineId);
        b.HasIndex(e => e.EvidenceBagId).IsUnique();
        b.HasOne<Machine>().WithMany().HasForeignKey(e => e.MachineId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class CustodyTransferConfiguration : IEntityTypeConfiguration<CustodyTransfer>
{
    public void Configure(EntityTypeBuilder<CustodyTransfer> b)
    {
        b.ToTable("custody_transfers");
        b.Property(t => t.From).HasMaxLength(128);
        b.Property(t => t.To).HasMaxLength(128);
        b.Property(t => t.ToAccount).HasMaxLength(128);
        b.Property(t => t.EnteredBy).HasMaxLength(128).HasDefaultValue("unknown (before accounts were recorded)");
        b.Property(t => t.Location).HasMaxLength(128);
        b.Property(t => t.TimeZone).HasMaxLength(64);
        b.Property(t => t.Note).HasMaxLength(500);
        b.HasIndex(t => new { t.EvidenceItemId, t.Id });
        b.HasOne<EvidenceItem>().WithMany().HasForeignKey(t => t.EvidenceItemId).OnDelete(DeleteBehavior.Restrict);
    }
}
