using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <summary>
    /// Phone-home events recorded once by their id (written only by <see cref="Reimage.Orchestrator.Imaging.PhoneHome"/> in
    /// SQL, outside the EF model): a replay gets the first answer.
    /// </summary>
    [DbContext(typeof(ReimageDbContext))]
    [Migration("20261204193000_PhoneHomeReceipts")]
    public partial class PhoneHomeReceipts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                CREATE TABLE reimage.phone_home_receipts (
                    site_id uuid NOT NULL,
                    event_id character varying(64) NOT NULL,
                    outcome text NOT NULL,
                    message text NOT NULL,
                    received_at timestamptz NOT NULL,
                    PRIMARY KEY (site_id, event_id));
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE reimage.phone_home_receipts;");
        }
    }
}
