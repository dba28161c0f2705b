using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <summary>
    /// Who revoked a site token, and which phone-home token sent each recorded event (columns written only in SQL by
    /// <see cref="Reimage.Orchestrator.Agents.AgentRegistry"/> and <see cref="Reimage.Orchestrator.Imaging.PhoneHome"/>).
    /// </summary>
    [DbContext(typeof(ReimageDbContext))]
    [Migration("20261204194000_TokenLifecycle")]
    public partial class TokenLifecycle : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                ALTER TABLE reimage.site_tokens ADD COLUMN revoked_by character varying(128);
                ALTER TABLE reimage.phone_home_receipts ADD COLUMN token_id uuid;
                ALTER TABLE reimage.imaging_reports ADD COLUMN token_id uuid;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                ALTER TABLE reimage.imaging_reports DROP COLUMN token_id;
                ALTER TABLE reimage.phone_home_receipts DROP COLUMN token_id;
                ALTER TABLE reimage.site_tokens DROP COLUMN revoked_by;
                """);
        }
    }
}
