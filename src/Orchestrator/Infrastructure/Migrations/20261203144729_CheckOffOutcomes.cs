using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class CheckOffOutcomes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Check-off answers were stored as HTTP (status code and body); they are now the engine's outcome and its
            // record. Answers already stored are carried over, so a resend after the upgrade still gets the first answer.
            migrationBuilder.AddColumn<string>(
                name: "outcome",
                schema: "reimage",
                table: "idempotent_requests",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "");
            migrationBuilder.Sql(
                """
                UPDATE reimage.idempotent_requests SET outcome = CASE
                    WHEN status_code = 200 AND response::jsonb ->> 'result' = 'reported' THEN 'Reported'
                    WHEN status_code = 200 THEN 'Completed'
                    WHEN status_code = 404 THEN 'NoSuchMachine'
                    WHEN status_code = 422 THEN 'KeyReused'
                    ELSE 'NotAtStep' END
                WHERE response <> '';
                UPDATE reimage.idempotent_requests SET response = jsonb_strip_nulls(jsonb_build_object(
                    'outcome', outcome, 'machineId', machine_id, 'step', step, 'refusal', response::jsonb -> 'error',
                    'nextStep', response::jsonb -> 'nextStep', 'evidenceItemId', response::jsonb -> 'evidenceItemId',
                    'failureReason', response::jsonb -> 'failureReason'))::text
                WHERE response <> '';
                """);
            migrationBuilder.DropColumn(
                name: "status_code",
                schema: "reimage",
                table: "idempotent_requests");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "outcome",
                schema: "reimage",
                table: "idempotent_requests");

            migrationBuilder.AddColumn<int>(
                name: "status_code",
                schema: "reimage",
                table: "idempotent_requests",
                type: "integer",
                nullable: false,
                defaultValue: 0);
        }
    }
}
