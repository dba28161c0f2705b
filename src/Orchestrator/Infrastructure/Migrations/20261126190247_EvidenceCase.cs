using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class EvidenceCase : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "case_number",
                schema: "reimage",
                table: "evidence_items",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                defaultValue: "unassigned");

            migrationBuilder.CreateIndex(
                name: "ix_evidence_items_case_number",
                schema: "reimage",
                table: "evidence_items",
                column: "case_number");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_evidence_items_case_number",
                schema: "reimage",
                table: "evidence_items");

            migrationBuilder.DropColumn(
                name: "case_number",
                schema: "reimage",
                table: "evidence_items");
        }
    }
}
