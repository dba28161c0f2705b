using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class CustodyAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "entered_by",
                schema: "reimage",
                table: "custody_transfers",
                type: "character varying(128)",
                maxLength: 128,
                nullable: false,
                defaultValue: "unknown (before accounts were recorded)");

            migrationBuilder.AddColumn<string>(
                name: "to_account",
                schema: "reimage",
                table: "custody_transfers",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "entered_by",
                schema: "reimage",
                table: "custody_transfers");

            migrationBuilder.DropColumn(
                name: "to_account",
                schema: "reimage",
                table: "custody_transfers");
        }
    }
}
