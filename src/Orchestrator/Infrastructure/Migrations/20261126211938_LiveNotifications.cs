using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reimage.Orchestrator.Infrastructure.Migrations
{
    /// <summary>
    /// Every change to the tables the dashboard shows is announced on the <c>reimage_changes</c> channel, with the
    /// table's name as payload, by a statement-level trigger: one notification per statement whatever its row count,
    /// and PostgreSQL folds identical notifications of one transaction into one. Whichever node (or psql session)
    /// made the change, every dashboard node listening hears it. Also the index for looking a machine up by its asset tag.
    /// </summary>
    public partial class LiveNotifications : Migration
    {
        private static readonly string[] Tables =
            ["recoveries", "machines", "waves", "wave_gates", "alerts", "spare_stock", "deliveries", "evidence_items", "custody_transfers", "technicians", "shifts", "agents"];

        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                CREATE FUNCTION reimage.notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('reimage_changes', TG_TABLE_NAME);
                    RETURN NULL;
                END $$;
                """);
            // Technicians open a machine by scanning its asset tag: an exact, case-insensitive lookup.
            migrationBuilder.Sql("CREATE INDEX ix_machines_asset_tag_key ON reimage.machines (upper(asset_tag));");
            foreach (var table in Tables)
            {
                migrationBuilder.Sql($"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reimage.{table} FOR EACH STATEMENT EXECUTE FUNCTION reimage.notify_change();");
            }
        }

        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in Tables)
            {
                migrationBuilder.Sql($"DROP TRIGGER {table}_changed ON reimage.{table};");
            }

            migrationBuilder.Sql("DROP FUNCTION reimage.notify_change();");
            migrationBuilder.Sql("DROP INDEX reimage.ix_machines_asset_tag_key;");
        }
    }
}
