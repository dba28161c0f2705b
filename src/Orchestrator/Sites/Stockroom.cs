using Npgsql;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Sites;

/// <summary>A stock or delivery action the rules do not allow; the message says why.</summary>
public sealed class StockRuleException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}

/// <summary>
/// A site's spare parts: counted stock (a lead's correction after a shelf count), deliveries announced and received.
/// Receiving a delivery puts its parts on the shelf once, however often it is submitted, and wakes the dispatcher so
/// that machines awaiting those parts start.
/// </summary>
public sealed class Stockroom(NpgsqlDataSource db, WorkflowKick kick, TimeProvider clock)
{
    public const int MaxItemLength = 32;

    /// <summary>Sets the count on the shelf; refuses a count below what is already promised to admitted machines.</summary>
    public async Task SetOnHandAsync(Guid siteId, string item, int onHand, CancellationToken ct)
    {
        Check(item, onHand, allowZero: true);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await EnsureSiteAsync(connection, transaction, siteId, ct);
        await using var upsert = new NpgsqlCommand(
            """
            INSERT INTO reimage.spare_stock (site_id, item, on_hand, reserved) VALUES (@site, @item, @n, 0)
            ON CONFLICT (site_id, item) DO UPDATE SET on_hand = excluded.on_hand
            RETURNING reserved
            """, connection, transaction);
        upsert.Parameters.AddWithValue("site", siteId);
        upsert.Parameters.AddWithValue("item", item.Trim());
        upsert.Parameters.AddWithValue("n", onHand);
        var reserved = (int)(await upsert.ExecuteScalarAsync(ct))!;
        if (reserved > onHand)
        {
            throw new StockRuleException($"{reserved} {item.Trim()} are reserved for machines already in work; the count cannot be lower than that.");
        }

        await transaction.CommitAsync(ct);
        kick.Kick();
    }

    public async Task<Delivery> ExpectAsync(Guid siteId, string item, int quantity, string? reference, DateTimeOffset? expectedAt, CancellationToken ct)
    {
        Check(item, quantity, allowZero: false);
        await using var connection = await db.OpenConnectionAsync(ct);
        await EnsureSiteAsync(connection, null, siteId, ct);
        var delivery = new Delivery
        {
            Id = Guid.CreateVersion7(), SiteId = siteId, Item = item.Trim(), Quantity = quantity, Reference = reference?.Trim(),
            ExpectedAt = expectedAt, CreatedAt = clock.GetUtcNow(),
        };
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO reimage.deliveries (id, site_id, item, quantity, reference, expected_at, created_at)
            VALUES (@id, @site, @item, @n, @ref, @expected, @now)
            """, connection);
        insert.Parameters.AddWithValue("id", delivery.Id);
        insert.Parameters.AddWithValue("site", siteId);
        insert.Parameters.AddWithValue("item", delivery.Item);
        insert.Parameters.AddWithValue("n", quantity);
        insert.Parameters.AddWithValue("ref", (object?)delivery.Reference ?? DBNull.Value);
        insert.Parameters.AddWithValue("expected", (object?)expectedAt ?? DBNull.Value);
        insert.Parameters.AddWithValue("now", delivery.CreatedAt);
        await insert.ExecuteNonQueryAsync(ct);
        return delivery;
    }

    /// <summary>Records the delivery as received and adds its parts to the shelf; false when it had been received already (nothing changes).</summary>
    public async Task<bool> ReceiveAsync(Guid deliveryId, string receivedBy, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var receive = new NpgsqlCommand(
            """
            WITH received AS (
                UPDATE reimage.deliveries SET received_at = @now, received_by = @by
                WHERE id = @id AND received_at IS NULL
                RETURNING site_id, item, quantity)
            INSERT INTO reimage.spare_stock (site_id, item, on_hand, reserved)
            SELECT site_id, item, quantity, 0 FROM received
            ON CONFLICT (site_id, item) DO UPDATE SET on_hand = spare_stock.on_hand + excluded.on_hand
            """, connection, transaction);
        receive.Parameters.AddWithValue("id", deliveryId);
        receive.Parameters.AddWithValue("now", clock.GetUtcNow());
        receive.Parameters.AddWithValue("by", receivedBy);
        if (await receive.ExecuteNonQueryAsync(ct) == 1)
        {
            await transaction.CommitAsync(ct);
            kick.Kick();
            return true;
        }

        await using var exists = new NpgsqlCommand("SELECT 1 FROM reimage.deliveries WHERE id = @id", connection, transaction);
        exists.Parameters.AddWithValue("id", deliveryId);
        return await exists.ExecuteScalarAsync(ct) is null
            ? throw new StockRuleException($"Delivery {deliveryId} does not exist.", notFound: true)
            : false;
    }

    /// <summary>Field errors of a stock count or a delivery, by field name; empty when it may be recorded.</summary>
    public static Dictionary<string, string[]> Errors(string? item, int quantity, bool allowZero)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(item) || item.Trim().Length > MaxItemLength)
        {
            errors["item"] = [$"a drive type (as in the machines' disk type) or {SpareStock.UsbMedia}, 1 to {MaxItemLength} characters"];
        }

        if (quantity < (allowZero ? 0 : 1) || quantity > 100_000)
        {
            errors[allowZero ? "onHand" : "quantity"] = [$"between {(allowZero ? 0 : 1)} and 100,000"];
        }

        return errors;
    }

    private static void Check(string item, int quantity, bool allowZero)
    {
        if (Errors(item, quantity, allowZero) is { Count: > 0 } errors)
        {
            throw new StockRuleException(string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
        }
    }

    private static async Task EnsureSiteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid siteId, CancellationToken ct)
    {
        await using var site = new NpgsqlCommand("SELECT 1 FROM reimage.sites WHERE id = @id", connection, transaction);
        site.Parameters.AddWithValue("id", siteId);
        if (await site.ExecuteScalarAsync(ct) is null)
        {
            throw new StockRuleException($"Site {siteId} does not exist.", notFound: true);
        }
    }
}
