using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class Capacity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "hands_on_per_technician",
                schema: "reimage",
                table: "sites",
                type: "integer",
                nullable: false,
                defaultValue: 3);

            migrationBuilder.AddColumn<bool>(
                name: "images_from_usb",
                schema: "reimage",
                table: "sites",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "reserved_part",
                schema: "reimage",
                table: "recoveries",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "technician_id",
                schema: "reimage",
                table: "recoveries",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "alerts",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    site_id = table.Column<Guid>(type: "uuid", nullable: true),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    subject = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    message = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    raised_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_alerts", x => x.id);
                    table.ForeignKey(
                        name: "fk_alerts_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id");
                });

            migrationBuilder.CreateTable(
                name: "deliveries",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<Guid>(type: "uuid", nullable: false),
                    item = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    quantity = table.Column<int>(type: "integer", nullable: false),
                    reference = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    expected_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    received_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_deliveries", x => x.id);
                    table.CheckConstraint("ck_deliveries_quantity", "quantity > 0");
                    table.ForeignKey(
                        name: "fk_deliveries_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "shifts",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    technician_id = table.Column<Guid>(type: "uuid", nullable: false),
                    days = table.Column<int>(type: "integer", maxLength: 32, nullable: false),
                    starts = table.Column<TimeOnly>(type: "time without time zone", nullable: false),
                    ends = table.Column<TimeOnly>(type: "time without time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_shifts", x => x.id);
                    table.CheckConstraint("ck_shifts_days", "days BETWEEN 1 AND 127");
                    table.ForeignKey(
                        name: "fk_shifts_technicians_technician_id",
                        column: x => x.technician_id,
                        principalSchema: "reimage",
                        principalTable: "technicians",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "spare_stock",
                schema: "reimage",
                columns: table => new
                {
                    site_id = table.Column<Guid>(type: "uuid", nullable: false),
                    item = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    on_hand = table.Column<int>(type: "integer", nullable: false),
                    reserved = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_spare_stock", x => new { x.site_id, x.item });
                    table.CheckConstraint("ck_spare_stock_counts", "on_hand >= 0 AND reserved >= 0");
                    table.ForeignKey(
                        name: "fk_spare_stock_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.AddCheckConstraint(
                name: "ck_sites_capacity",
                schema: "reimage",
                table: "sites",
                sql: "imaging_slots >= 0 AND hands_on_per_technician >= 1");

            migrationBuilder.CreateIndex(
                name: "ix_recoveries_technician_id",
                schema: "reimage",
                table: "recoveries",
                column: "technician_id",
                filter: "technician_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_alerts_open",
                schema: "reimage",
                table: "alerts",
                columns: new[] { "site_id", "kind", "subject" },
                unique: true,
                filter: "resolved_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_deliveries_site_id",
                schema: "reimage",
                table: "deliveries",
                column: "site_id");

            migrationBuilder.CreateIndex(
                name: "ix_shifts_technician_id",
                schema: "reimage",
                table: "shifts",
                column: "technician_id");

            migrationBuilder.AddForeignKey(
                name: "fk_recoveries_technicians_technician_id",
                schema: "reimage",
                table: "recoveries",
                column: "technician_id",
                principalSchema: "reimage",
                principalTable: "technicians",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_recoveries_technicians_technician_id",
                schema: "reimage",
                table: "recoveries");

            migrationBuilder.DropTable(
                name: "alerts",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "deliveries",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "shifts",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "spare_stock",
                schema: "reimage");

            migrationBuilder.DropCheckConstraint(
                name: "ck_sites_capacity",
                schema: "reimage",
                table: "sites");

            migrationBuilder.DropIndex(
                name: "ix_recoveries_technician_id",
                schema: "reimage",
                table: "recoveries");

            migrationBuilder.DropColumn(
                name: "hands_on_per_technician",
                schema: "reimage",
                table: "sites");

            migrationBuilder.DropColumn(
                name: "images_from_usb",
                schema: "reimage",
                table: "sites");

            migrationBuilder.DropColumn(
                name: "reserved_part",
                schema: "reimage",
                table: "recoveries");

            migrationBuilder.DropColumn(
                name: "technician_id",
                schema: "reimage",
                table: "recoveries");
        }
    }
}
