using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <summary>
    /// The fleet grid's search and sort, in raw SQL only (the EF model does not know these objects, so the model
    /// snapshot is unchanged): a stored, lower-cased search column over host name, serial, asset tag, department,
    /// owner and MACs with a trigram index (pg_trgm, in PostgreSQL's contrib and a trusted extension), and indexes that
    /// let the grid page without visiting the table (host names with ids: an index-only walk to a deep offset) and sort
    /// by state and by "since" without sorting the whole fleet.
    /// </summary>
    /// <remarks>
    /// <c>concat_ws</c> and <c>array_to_string</c> are only STABLE because of arbitrary element types; over text they are
    /// deterministic, which is why the wrapper may say IMMUTABLE (a generated column requires it). The column is computed
    /// once per write, so a search compares one string per row instead of calling six functions on it.
    /// </remarks>
    public partial class FleetSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                CREATE EXTENSION IF NOT EXISTS pg_trgm;
                CREATE FUNCTION reimage.machine_search_text(hostname text, serial_number text, asset_tag text, department text, owner text, mac_addresses text[])
                    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
                    RETURN lower(concat_ws(' ', hostname, serial_number, asset_tag, department, owner, array_to_string(mac_addresses, ' ')));
                ALTER TABLE reimage.machines ADD COLUMN search_text text
                    GENERATED ALWAYS AS (reimage.machine_search_text(hostname, serial_number, asset_tag, department, owner, mac_addresses)) STORED;
                CREATE INDEX ix_machines_search_text ON reimage.machines USING gin (search_text gin_trgm_ops);
                CREATE INDEX ix_machines_hostname_key_id ON reimage.machines (hostname_key) INCLUDE (id);
                CREATE INDEX ix_recoveries_since ON reimage.recoveries (state_changed_at, machine_id);
                CREATE INDEX ix_recoveries_state_since ON reimage.recoveries (state, state_changed_at, machine_id);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                DROP INDEX reimage.ix_recoveries_state_since;
                DROP INDEX reimage.ix_recoveries_since;
                DROP INDEX reimage.ix_machines_hostname_key_id;
                ALTER TABLE reimage.machines DROP COLUMN search_text;
                DROP FUNCTION reimage.machine_search_text(text, text, text, text, text, text[]);
                """);
        }
    }
}
