using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Reimage.Tests;

namespace Reimage.Dashboard.Tests.Infrastructure;

/// <summary>
/// An unexpected failure in Production, as an anonymous caller meets it: before, errors answered with a stack trace
/// (one echoed the session cookie). The forced failure here stands for any bug: its message carries a secret.
/// </summary>
[Collection("Hangfire")]
public sealed class ServerErrorTests(PostgresFixture postgres)
{
    [Fact]
    public async Task InProduction_AnUnhandledError_AnswersAProblemWithACorrelationId_AndNothingElse()
    {
        await using var app = new FailingApp(await postgres.CreateDatabaseAsync());

        var api = await app.SendAsync("GET", "/api/fail-for-test", IPAddress.Loopback);

        Assert.Equal(500, api.Status);
        using var problem = System.Text.Json.JsonDocument.Parse(api.Body);
        Assert.Matches("^[0-9a-f]{32}$|^[0-9A-Z:]+$", problem.RootElement.GetProperty("correlationId").GetString()!);
        Assert.DoesNotContain("reimage=secret-session", api.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", api.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", api.Body, StringComparison.Ordinal);
    }

    private sealed class FailingApp(string connectionString) : ReimageApp(connectionString, environment: "Production")
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(s => s.AddTransient<IStartupFilter, Failing>());
        }
    }

    /// <summary>Appends, after the whole pipeline, a path that fails with a message holding a secret.</summary>
    private sealed class Failing : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((context, inner) => context.Request.Path == "/api/fail-for-test"
                ? throw new InvalidOperationException("boom: cookie reimage=secret-session")
                : inner(context));
        };
    }
}
