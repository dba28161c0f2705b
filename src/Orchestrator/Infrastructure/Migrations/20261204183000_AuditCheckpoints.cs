using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <summary>
    /// Signed audit checkpoints (written only by <see cref="Reimage.Orchestrator.Audit.Checkpoints"/> in SQL, outside the
    /// EF model): the checkpoints, and the chain heads as of the latest one.
    /// </summary>
    [DbContext(typeof(ReimageDbContext))]
    [Migration("20261204183000_AuditCheckpoints")]
    public partial class AuditCheckpoints : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                CREATE TABLE reimage.audit_checkpoints (
                    id bigint PRIMARY KEY,
                    sealed_at timestamptz NOT NULL,
                    machines integer NOT NULL,
                    root bytea NOT NULL,
                    previous bytea,
                    changed text NOT NULL,
                    key_id text NOT NULL,
                    signature bytea NOT NULL,
                    exported_at timestamptz);
                CREATE INDEX ix_audit_checkpoints_unexported ON reimage.audit_checkpoints (id) WHERE exported_at IS NULL;
                CREATE TABLE reimage.audit_checkpoint_heads (
                    machine_id uuid PRIMARY KEY,
                    head bytea NOT NULL);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                DROP TABLE reimage.audit_checkpoint_heads;
                DROP TABLE reimage.audit_checkpoints;
                """);
        }
    }
}
