using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Infrastructure;

/// <summary>
/// Malformed requests against every surface, as a scanner, a broken client or a bad copy-paste sends them: a NUL
/// (PostgreSQL cannot store one: before, 720 of 5,664 such requests answered 500), half a surrogate pair, truncated
/// or nested-too-deep JSON, wrong types, invalid UTF-8, random bytes, the wrong content type (multipart without a
/// boundary answered 500), a NUL in the URL. Seeded, so a failure repeats. Each request is invalid by construction,
/// so nothing may be written: every table's row count is the same afterwards, and <c>/healthz</c> stays healthy.
/// </summary>
[Collection("Hangfire")]
public sealed class BadInputFuzzTests(PostgresFixture postgres)
{
    private const int Requests = 1000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("import")]
    [InlineData("agent")]
    [InlineData("phone-home")]
    [InlineData("sign-in")]
    [InlineData("check-off")]
    [InlineData("lead")]
    public async Task MalformedRequests_NeverAnswer5xx_NeverWrite_AndTheServiceStaysHealthy(string surface)
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync(), settings: new Dictionary<string, string>
        {
            // The limits are tested elsewhere; here every request must reach the handler.
            ["Reimage:Agents:PhoneHomePerMinute"] = "1000000",
            ["Reimage:Agents:EnrolPerMinute"] = "1000000",
        });
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var targets = await TargetsAsync(app, db, surface);
        await app.CookieAsync();
        var before = await RowCountsAsync(db);
        var random = new Random(HashCode(surface));
        var failures = new List<string>();

        for (var i = 0; i < Requests; i++)
        {
            var target = targets[random.Next(targets.Length)];
            var (path, body, contentType, what) = Mutate(target, random);
            var from = target.Cookie ? IPAddress.Loopback : new IPAddress([10, (byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(1, 255)]);
            var (status, answer) = await app.SendRawAsync(target.Method, path, from, body, contentType, target.Bearer);
            if (status >= 500)
            {
                failures.Add($"#{i} {target.Method} {path} ({what}): {status} {answer[..Math.Min(answer.Length, 300)]}");
            }

            if (i % 100 == 99)
            {
                var health = await app.SendAsync("GET", "/healthz", ReimageApp.Remote);
                Assert.True(health.Status == 200, $"/healthz answered {health.Status} after {i + 1} requests");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {Requests} answered 5xx:\n" + string.Join("\n", failures.Take(20)));
        Assert.Equal(before, await RowCountsAsync(db));
    }

    /// <summary>A well-formed request of the surface, which <see cref="Mutate"/> breaks.</summary>
    private sealed record Target(string Method, string Path, string Body, string ContentType = "application/json", bool Cookie = false, string? Bearer = null);

    private static async Task<Target[]> TargetsAsync(ReimageApp app, NpgsqlDataSource db, string surface)
    {
        switch (surface)
        {
            case "import":
                // No createSites and an unknown site: even an intact file would write nothing.
                return [new("POST", "/api/import", "hostname,site,serial_number,mac_addresses,owner\nPC01,NOWHERE,SN1,00:11:22:33:44:55,Jane Doe\nPC02,NOWHERE,SN2,,Ali\n", "text/csv", Cookie: true)];
            case "agent":
            {
                var site = await TestFleet.AddSiteAsync(db, "FUZZ");
                var credential = await Agents.AgentApiTests.EnrolAsync(app, site.Id, "fuzz-1");
                return
                [
                    new("POST", "/agent/v1/results", $$"""[{"commandId":"{{Guid.NewGuid()}}","succeeded":true,"detail":"woken"}]""", Bearer: credential),
                    new("POST", "/agent/v1/commands/lease", """{"max":10,"waitSeconds":0}""", Bearer: credential),
                    new("POST", "/agent/v1/enrol", """{"token":"not-a-token","name":"rogue","platform":"Unix"}"""),
                ];
            }
            case "phone-home":
            {
                var site = await TestFleet.AddSiteAsync(db, "FUZZ");
                var token = await Agents.AgentApiTests.TokenAsync(app, site.Id, "phone-home-tokens");
                return [new("POST", "/phone-home/v1/events", """{"serial":"NO-SUCH-SERIAL","mac":"00:11:22:33:44:55","event":"progress","percent":10,"detail":"x"}""", Bearer: token)];
            }
            case "sign-in":
                return [new("POST", "/api/account/login", """{"userName":"nobody","password":"not the password"}""")];
            case "check-off":
                return
                [
                    new("POST", $"/api/machines/{Guid.NewGuid()}/steps/RemoveDrive/complete",
                        """{"technician":"Noura Al-Harbi","removedDriveSerial":"WD-123","evidenceBagId":"BAG-1","sealId":"SEAL-1","storageLocation":"Cage 2"}""", Cookie: true),
                    new("POST", $"/api/machines/{Guid.NewGuid()}/claim", """{"technicianId":"00000000-0000-0000-0000-000000000001"}""", Cookie: true),
                ];
            default:
                return
                [
                    new("POST", $"/api/waves/{Guid.NewGuid()}/machines", """{"machineIds":["00000000-0000-0000-0000-000000000001"],"site":"HQ"}""", Cookie: true),
                    new("POST", "/api/machines/actions", """{"action":"retry","machineIds":["00000000-0000-0000-0000-000000000001"],"reason":"fuzz"}""", Cookie: true),
                    new("PUT", $"/api/sites/{Guid.NewGuid()}/capacity", """{"imagingSlots":5}""", Cookie: true),
                    new("POST", "/api/waves", """{"name":"Fuzz wave","ordinal":1}""", Cookie: true),
                ];
        }
    }

    /// <summary>One way of breaking the request, chosen by <paramref name="random"/>; every way leaves it invalid.</summary>
    private static (string Path, byte[] Body, string? ContentType, string What) Mutate(Target target, Random random)
    {
        var text = target.Body;
        var json = target.ContentType == "application/json";
        var kind = random.Next(json ? 10 : 7);
        return (json, kind) switch
        {
            (_, 0) => (target.Path, Utf8(Inject(text, json ? "\\u0000" : "\0", random)), target.ContentType, "NUL in a value"),
            (_, 1) => (target.Path, Utf8(json ? text[..random.Next(1, text.Length - 1)] : text + "PC09,NOWHERE,\"open quote\n"), target.ContentType, "truncated"),
            (_, 2) => (target.Path, RandomBytes(random), target.ContentType, "random bytes"),
            (_, 3) => (target.Path, Utf8(text), "multipart/form-data", "multipart without a boundary"),
            (_, 4) => (target.Path + (target.Path.Contains('?') ? "&" : "?") + "site=%00", Utf8(Inject(text, json ? "\\u0000" : "\0", random)), target.ContentType, "NUL in the query"),
            (_, 5) => (target.Path, [.. Utf8(text[..(text.Length / 2)]), 0xFF, 0xFE, 0x00, .. Utf8(text[(text.Length / 2)..])], target.ContentType, "invalid UTF-8 and a NUL byte"),
            (false, 6) => (target.Path, Utf8(text.Replace("Jane Doe", new string('x', 200_000), StringComparison.Ordinal) + "PC03,NOWHERE,\"never closed\n"), target.ContentType, "oversized cell and an unclosed quote"),
            (_, 6) => (target.Path, Utf8(Inject(text, "\\uD800", random)), target.ContentType, "unpaired surrogate"),
            (_, 7) => (target.Path, Utf8(new string('[', 200) + new string(']', 200)), target.ContentType, "nested too deep"),
            (_, 8) => (target.Path, Utf8(WrongType(text, random)), target.ContentType, "a value of the wrong type"),
            _ => (target.Path, Utf8(Inject(text, "\\u0000", random)), "application/json; charset=utf-8", "NUL with a charset"),
        };
    }

    /// <summary>Puts <paramref name="poison"/> inside a random string value (between two quotes).</summary>
    private static string Inject(string text, string poison, Random random)
    {
        var quotes = Enumerable.Range(0, text.Length).Where(i => text[i] == '"').ToList();
        if (quotes.Count < 2)
        {
            var at = text.IndexOf(',', StringComparison.Ordinal) + 1;
            return text[..at] + poison + text[at..];
        }

        // An opening quote of a value: the one after a colon, or any, then the first character inside it.
        var opening = quotes.Where(i => i > 0 && text[i - 1] == ':').ToList() is { Count: > 0 } values ? values : quotes;
        var position = opening[random.Next(opening.Count)] + 1;
        return text[..position] + poison + text[position..];
    }

    private static string WrongType(string text, Random random)
    {
        var colon = Enumerable.Range(0, text.Length).Where(i => text[i] == ':' && i + 1 < text.Length && text[i + 1] == '"').ToList();
        if (colon.Count == 0)
        {
            return "{\"unexpected\":" + text;
        }

        var at = colon[random.Next(colon.Count)] + 1;
        var end = text.IndexOf('"', at + 1);
        return text[..at] + (random.Next(2) == 0 ? "{\"nested\":[1,2]}" : "[true,null]") + text[(end + 1)..];
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 512)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static int HashCode(string text) => text.Aggregate(17, (h, c) => unchecked((h * 31) + c));

    /// <summary>Every table of the product's own schemas with its row count (Hangfire's bookkeeping aside).</summary>
    private static async Task<string> RowCountsAsync(NpgsqlDataSource db) => await TestFleet.ScalarAsync<string>(db,
        """
        SELECT string_agg(table_schema || '.' || table_name || '=' ||
            (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text,
            ' ' ORDER BY table_schema, table_name)
        FROM information_schema.tables
        WHERE table_schema IN ('reimage', 'identity') AND table_type = 'BASE TABLE'
        """);
}
