using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "reimage");

            // The audit chain's hash, computed by the writers in SQL (Audit/AuditChain.cs has its C# twin).
            migrationBuilder.Sql(Reimage.Orchestrator.Audit.AuditChain.SqlFunctions);

            migrationBuilder.CreateTable(
                name: "idempotent_requests",
                schema: "reimage",
                columns: table => new
                {
                    key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    step = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: false),
                    response = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_idempotent_requests", x => x.key);
                });

            migrationBuilder.CreateTable(
                name: "machine_events",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    time_zone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    actor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    origin = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    from_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    to_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    step = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    prev_hash = table.Column<byte[]>(type: "bytea", nullable: true),
                    hash = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_machine_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "sites",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    code = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    time_zone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    imaging_slots = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sites", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "waves",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    approved_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    approved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    launched_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_waves", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "machines",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    hostname = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    asset_tag = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    serial_number = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    mac_addresses = table.Column<List<string>>(type: "text[]", nullable: false),
                    ip_address = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    site_id = table.Column<Guid>(type: "uuid", nullable: false),
                    building = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    floor = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    room = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    department = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    owner = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    role = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    criticality = table.Column<int>(type: "integer", nullable: false),
                    model = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    disk_type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    bmc_address = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    image_profile = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    hostname_key = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: true, computedColumnSql: "lower(hostname)", stored: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_machines", x => x.id);
                    table.ForeignKey(
                        name: "fk_machines_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "technicians",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    building = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    active = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_technicians", x => x.id);
                    table.ForeignKey(
                        name: "fk_technicians_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "wave_gates",
                schema: "reimage",
                columns: table => new
                {
                    wave_id = table.Column<Guid>(type: "uuid", nullable: false),
                    depends_on_wave_id = table.Column<Guid>(type: "uuid", nullable: false),
                    restored_percent = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_wave_gates", x => new { x.wave_id, x.depends_on_wave_id });
                    table.CheckConstraint("ck_wave_gates_percent", "restored_percent BETWEEN 1 AND 100");
                    table.ForeignKey(
                        name: "fk_wave_gates_waves_depends_on_wave_id",
                        column: x => x.depends_on_wave_id,
                        principalSchema: "reimage",
                        principalTable: "waves",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_wave_gates_waves_wave_id",
                        column: x => x.wave_id,
                        principalSchema: "reimage",
                        principalTable: "waves",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "agent_commands",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    step = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    not_before = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    leased_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    lease_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    deliveries = table.Column<int>(type: "integer", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    succeeded = table.Column<bool>(type: "boolean", nullable: true),
                    detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_commands", x => x.id);
                    table.ForeignKey(
                        name: "fk_agent_commands_machines_machine_id",
                        column: x => x.machine_id,
                        principalSchema: "reimage",
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_agent_commands_sites_site_id",
                        column: x => x.site_id,
                        principalSchema: "reimage",
                        principalTable: "sites",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "evidence_items",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    drive_serial = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    drive_model = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    hostname = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    mac_addresses = table.Column<List<string>>(type: "text[]", nullable: false),
                    ip_address = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    evidence_bag_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    seal_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    collected_by = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    collected_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    time_zone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    storage_location = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_evidence_items", x => x.id);
                    table.ForeignKey(
                        name: "fk_evidence_items_machines_machine_id",
                        column: x => x.machine_id,
                        principalSchema: "reimage",
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "recoveries",
                schema: "reimage",
                columns: table => new
                {
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    path = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    step = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    wave_id = table.Column<Guid>(type: "uuid", nullable: true),
                    step_started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    state_changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    failure_reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    failures = table.Column<int>(type: "integer", nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    chain_head = table.Column<byte[]>(type: "bytea", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_recoveries", x => x.machine_id);
                    table.ForeignKey(
                        name: "fk_recoveries_machines_machine_id",
                        column: x => x.machine_id,
                        principalSchema: "reimage",
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_recoveries_waves_wave_id",
                        column: x => x.wave_id,
                        principalSchema: "reimage",
                        principalTable: "waves",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "custody_transfers",
                schema: "reimage",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    evidence_item_id = table.Column<Guid>(type: "uuid", nullable: false),
                    from = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    to = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    location = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    time_zone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    note = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_custody_transfers", x => x.id);
                    table.ForeignKey(
                        name: "fk_custody_transfers_evidence_items_evidence_item_id",
                        column: x => x.evidence_item_id,
                        principalSchema: "reimage",
                        principalTable: "evidence_items",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_agent_commands_completed",
                schema: "reimage",
                table: "agent_commands",
                column: "completed_at",
                filter: "status = 'Completed'");

            migrationBuilder.CreateIndex(
                name: "ix_agent_commands_machine_id",
                schema: "reimage",
                table: "agent_commands",
                column: "machine_id");

            migrationBuilder.CreateIndex(
                name: "ix_agent_commands_open",
                schema: "reimage",
                table: "agent_commands",
                columns: new[] { "site_id", "not_before" },
                filter: "status IN ('Pending', 'Leased')");

            migrationBuilder.CreateIndex(
                name: "ix_custody_transfers_evidence_item_id_id",
                schema: "reimage",
                table: "custody_transfers",
                columns: new[] { "evidence_item_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_evidence_items_evidence_bag_id",
                schema: "reimage",
                table: "evidence_items",
                column: "evidence_bag_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_evidence_items_machine_id",
                schema: "reimage",
                table: "evidence_items",
                column: "machine_id");

            migrationBuilder.CreateIndex(
                name: "ix_machine_events_machine_id_id",
                schema: "reimage",
                table: "machine_events",
                columns: new[] { "machine_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_machines_hostname_key",
                schema: "reimage",
                table: "machines",
                column: "hostname_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_machines_mac_addresses",
                schema: "reimage",
                table: "machines",
                column: "mac_addresses")
                .Annotation("Npgsql:IndexMethod", "gin");

            migrationBuilder.CreateIndex(
                name: "ix_machines_serial_number",
                schema: "reimage",
                table: "machines",
                column: "serial_number",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_machines_site_id",
                schema: "reimage",
                table: "machines",
                column: "site_id");

            migrationBuilder.CreateIndex(
                name: "ix_recoveries_state_step",
                schema: "reimage",
                table: "recoveries",
                columns: new[] { "state", "step" });

            migrationBuilder.CreateIndex(
                name: "ix_recoveries_wave_id",
                schema: "reimage",
                table: "recoveries",
                column: "wave_id");

            migrationBuilder.CreateIndex(
                name: "ix_sites_code",
                schema: "reimage",
                table: "sites",
                column: "code",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_technicians_site_id",
                schema: "reimage",
                table: "technicians",
                column: "site_id");

            migrationBuilder.CreateIndex(
                name: "ix_wave_gates_depends_on_wave_id",
                schema: "reimage",
                table: "wave_gates",
                column: "depends_on_wave_id");

            migrationBuilder.CreateIndex(
                name: "ix_waves_name",
                schema: "reimage",
                table: "waves",
                column: "name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS reimage.event_hash(bytea, uuid, timestamptz, text, text, text, text, text, text, text, text); DROP FUNCTION IF EXISTS reimage.hash_field(text);");

            migrationBuilder.DropTable(
                name: "agent_commands",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "custody_transfers",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "idempotent_requests",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "machine_events",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "recoveries",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "technicians",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "wave_gates",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "evidence_items",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "waves",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "machines",
                schema: "reimage");

            migrationBuilder.DropTable(
                name: "sites",
                schema: "reimage");
        }
    }
}
