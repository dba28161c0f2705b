using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class SiteRules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "site_rules",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    pattern = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    site_id = table.Column<Guid>(type: "uuid", nullable: false),
                    position = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_site_rules", x => x.id);
                    table.ForeignKey(
                        name: "fk_site_rules_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_site_rules_position",
                schema: "reimage",
                table: "site_rules",
                column: "position");

            migrationBuilder.CreateIndex(
                name: "ix_site_rules_site_id",
                schema: "reimage",
                table: "site_rules",
                column: "site_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "site_rules",
                schema: "reimage");
        }
    }
}
