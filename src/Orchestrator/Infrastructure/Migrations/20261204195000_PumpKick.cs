using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <summary>The installation-wide "a pump job is pending" mark of <see cref="Reimage.Orchestrator.Workflow.WorkflowKick"/> (one row, SQL only).</summary>
    [DbContext(typeof(ReimageDbContext))]
    [Migration("20261204195000_PumpKick")]
    public partial class PumpKick : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                CREATE TABLE reimage.pump_kick (id integer PRIMARY KEY CHECK (id = 1), pending boolean NOT NULL, marked_at timestamptz);
                INSERT INTO reimage.pump_kick (id, pending) VALUES (1, false);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE reimage.pump_kick;");
        }
    }
}
