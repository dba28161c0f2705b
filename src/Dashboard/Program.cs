using Reimage.Dashboard.Accounts;
using Reimage.Dashboard.Components;
using Reimage.Dashboard.Demo;
using Reimage.Dashboard.Executive;
using Reimage.Dashboard.Agents;
using Reimage.Dashboard.Audit;
using Reimage.Dashboard.Fleet;
using Reimage.Dashboard.Forecast;
using Reimage.Dashboard.Imaging;
using Reimage.Dashboard.Import;
using Reimage.Dashboard.Infrastructure;
using Reimage.Dashboard.Evidence;
using Reimage.Dashboard.HandsOn;
using Reimage.Dashboard.Live;
using Reimage.Dashboard.Sites;
using Reimage.Dashboard.Waves;
using Reimage.Orchestrator.Infrastructure;

if (await CommandLine.RunVerbAsync(args) is { } exitCode)
{
    return exitCode;
}

var demo = args.Contains("--demo");
var builder = WebApplication.CreateBuilder(args.Where(a => a != "--demo").ToArray());
// The run command is Production; run from build output, Blazor's script and the static assets come from the build's
// manifest (a no-op when there is none, as in publish output).
builder.WebHost.UseStaticWebAssets();
try
{
    builder.AddReimageStorage();
}
catch (PostgresNotFoundException e)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}

// The private cluster this start brought up, if any: stopped again should the start fail.
var privateCluster = builder.Services.Select(d => d.ImplementationInstance).OfType<LocalPostgres>().FirstOrDefault();
try
{
    builder.AddReimageWorkflow();
    builder.AddBadInputGuards();
    builder.Services.AddExceptionHandler<ServerErrors>();
    builder.AddDashboardSecurity();
    builder.AddBrowserProtection();
    builder.AddTrustedProxies();
    builder.AddKeyRing();
    builder.AddSingleSignOn();
    builder.AddAccountLimits();
    builder.AddTelemetry();
    builder.AddLiveUpdates();
    builder.AddFleet();
    builder.AddImportLimits();
    builder.AddWaves();
    builder.AddHandsOn();
    builder.AddSites();
    builder.AddAgentApi();
    builder.AddForecast();
    builder.AddExecutive();
    if (demo)
    {
        builder.AddDemo();
    }

    builder.Services.AddRazorComponents().AddInteractiveServerComponents();

    var app = builder.Build();
    await app.Services.MigrateReimageDatabaseAsync(TimeSpan.FromMinutes(2), app.Lifetime.ApplicationStopping);
    await app.Services.EnsureAccountsAsync(demo, app.Lifetime.ApplicationStopping);

    // First: every later step (audit, rate limits, HTTPS redirection) sees the caller, not the proxy in front.
    app.UseTrustedProxies();
    if (!app.Environment.IsDevelopment())
    {
        // No stack trace, exception text or request data ever reaches a client: pages get the error page, APIs a problem
        // document with the correlation id that the server's log line carries.
        app.UseExceptionHandler("/Error", createScopeForErrors: true);
        // With an HTTPS endpoint configured, pages asked for over plain HTTP are sent there (agents and task sequences
        // are configured with the https:// address; without an HTTPS endpoint this does nothing).
        app.UseHttpsRedirection();
    }

    app.UseBrowserProtection();

    app.UseBadInputGuards();

    app.UseAuthentication();
    app.UsePasswordChangeGate();
    app.UseAuthorization();
    app.UseRateLimiter();
    app.UseAntiforgery();

    // Static assets are public. Grouped so that the development-time fallback MapStaticAssets adds is covered too.
    app.MapGroup("").AllowAnonymous().MapStaticAssets();
    // Every page names its own policy on top of this one (which also covers the circuit's hub); the sign-in page and
    // the error pages are the anonymous ones.
    app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequireAuthorization(Policies.SignedIn);
    app.MapOps();
    app.MapAccountApi();
    app.MapSingleSignOn();
    app.MapImportApi();
    app.MapWaveApi();
    app.MapFleetApi();
    app.MapHandsOnApi();
    app.MapEvidenceApi();
    app.MapAuditApi();
    app.MapSiteApi();
    app.MapAgentApi();
    app.MapImagingApi();
    app.MapForecastApi();
    app.MapProgressApi();
    app.MapJobsDashboard();

    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is not HostAbortedException)
{
    // A start that failed (bad configuration, a migration that cannot run) must not leave the private cluster running.
    // (HostAbortedException is the test host taking over the built application, which then still needs its database.)
    privateCluster?.Stop();
    throw;
}


/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
