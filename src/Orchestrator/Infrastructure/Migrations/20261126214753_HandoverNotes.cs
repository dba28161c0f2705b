using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class HandoverNotes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "handover_notes",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<Guid>(type: "uuid", nullable: true),
                    author = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    text = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_handover_notes", x => x.id);
                    table.ForeignKey(
                        name: "fk_handover_notes_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id");
                });

            migrationBuilder.CreateIndex(
                name: "ix_handover_notes_site_id_created_at",
                schema: "reimage",
                table: "handover_notes",
                columns: new[] { "site_id", "created_at" });

            // Open pages hear about new notes like any other change (see LiveNotifications).
            migrationBuilder.Sql("CREATE TRIGGER handover_notes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reimage.handover_notes FOR EACH STATEMENT EXECUTE FUNCTION reimage.notify_change();");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "handover_notes",
                schema: "reimage");
        }
    }
}
