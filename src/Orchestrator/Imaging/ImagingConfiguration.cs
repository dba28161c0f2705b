using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reimage.Orchestrator.Machines;

namespace Reimage.Orchestrator.Imaging;

internal sealed class GoldenImageConfiguration : IEntityTypeConfiguration<GoldenImage>
{
    public void Configure(EntityTypeBuilder<GoldenImage> b)
    {
        b.ToTable("golden_images", t => t.HasCheckConstraint("ck_golden_images_sha256", "sha256 ~ '^[0-9a-f]{64}$'"));
        b.Property(i => i.Name).HasMaxLength(64);
        b.Property(i => i.Version).HasMaxLength(64);
        b.Property(i => i.Sha256).HasMaxLength(64);
        b.Property(i => i.CreatedBy).HasMaxLength(128);
        b.Property(i => i.ApprovedBy).HasMaxLength(128);
        b.HasIndex(i => new { i.Name, i.Version }).IsUnique();
    }
}

internal sealed class ImagingReportConfiguration : IEntityTypeConfiguration<ImagingReport>
{
    public void Configure(EntityTypeBuilder<ImagingReport> b)
    {
        b.ToTable("imaging_reports");
        b.HasKey(r => r.MachineId);
        b.Property(r => r.Detail).HasMaxLength(500);
        b.Property(r => r.OsBuild).HasMaxLength(64);
        b.Property(r => r.ImageId).HasMaxLength(64);
        b.Property(r => r.ImageVersion).HasMaxLength(64);
        b.Property(r => r.ImageSha256).HasMaxLength(64);
        b.Property(r => r.AttestedHostname).HasMaxLength(63);
        b.Property(r => r.AttestedDomain).HasMaxLength(255);
        b.Property(r => r.SecurityAgent).HasMaxLength(128);
        b.HasOne<Machine>().WithOne().HasForeignKey<ImagingReport>(r => r.MachineId).OnDelete(DeleteBehavior.Cascade);
    }
}
