using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Reimage.Dashboard.Accounts;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Sites;

/// <summary>Shift hand-over notes through the API: leads write, technicians read their own sites' and the general ones.</summary>
[Collection("Hangfire")]
public sealed class HandoverTests(PostgresFixture postgres)
{
    [Fact]
    public async Task ALeadsNotes_ReachTheTechniciansOfTheirSite_AndBadNotesAre400WithNothingSaved()
    {
        await using var app = new ReimageApp(await postgres.CreateDatabaseAsync());
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        await TestFleet.AddSiteAsync(db, "DHA");
        await TestFleet.AddSiteAsync(db, "JED");
        await app.AddUserAsync("tess", Roles.Technician, ["DHA"], "handover-password-2026");

        var forDha = await app.SendJsonAsync("POST", "/api/handover", """{"site":"dha","text":"Stockroom B keys are with security; 40 NVMe drives arrive 06:00."}""");
        var forJed = await app.SendJsonAsync("POST", "/api/handover", """{"site":"JED","text":"Floor 3 closed for cleaning until noon."}""");
        var general = await app.SendJsonAsync("POST", "/api/handover", """{"text":"Wave 2 launches at 08:00 if wave 1 is 95 % done."}""");
        var noSite = await app.SendJsonAsync("POST", "/api/handover", """{"site":"XYZ","text":"lost"}""");
        var empty = await app.SendJsonAsync("POST", "/api/handover", """{"site":"DHA","text":"   "}""");
        await app.CookieAsync("tess", "handover-password-2026");
        var technicianReads = await app.SendJsonAsync("GET", "/api/handover", "", asUser: "tess");
        var technicianWrites = await app.SendJsonAsync("POST", "/api/handover", """{"text":"x"}""", asUser: "tess");
        var leadReads = await app.SendJsonAsync("GET", "/api/handover", "");

        Assert.Equal((201, 201, 201, 400, 400), (forDha.Status, forJed.Status, general.Status, noSite.Status, empty.Status));
        Assert.Contains("no site XYZ", noSite.Body, StringComparison.Ordinal);
        Assert.Contains("\"text\"", empty.Body, StringComparison.Ordinal);
        Assert.Equal(403, technicianWrites.Status);
        var seen = JsonDocument.Parse(technicianReads.Body).RootElement.EnumerateArray().Select(n => n.GetProperty("text").GetString()).ToList();
        Assert.Equal(["Wave 2 launches at 08:00 if wave 1 is 95 % done.", "Stockroom B keys are with security; 40 NVMe drives arrive 06:00."], seen); // newest first, not JED's
        Assert.Equal(3, JsonDocument.Parse(leadReads.Body).RootElement.GetArrayLength());
        Assert.Equal("DHA|admin", await TestFleet.TextAsync(db,
            "SELECT s.code || '|' || n.author FROM reimage.handover_notes n JOIN reimage.sites s ON s.id = n.site_id WHERE n.text LIKE 'Stockroom%'"));
        Assert.Equal(3, await TestFleet.CountAsync(db, "SELECT count(*) FROM reimage.handover_notes"));
    }
}
