using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class SharedMacAddresses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<List<string>>(
                name: "shared_mac_addresses",
                schema: "reimage",
                table: "machines",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'");

            // Machines imported before this column existed: a MAC on more than one of them is shared.
            migrationBuilder.Sql(Import.FleetWriter.MarkSharedMacs);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "shared_mac_addresses",
                schema: "reimage",
                table: "machines");
        }
    }
}
