using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Reimage.Dashboard.Accounts;

/// <summary>Lets <c>dotnet ef migrations add … --context AccountsDbContext</c> build the model without starting the application.</summary>
internal sealed class DesignTimeAccountsFactory : IDesignTimeDbContextFactory<AccountsDbContext>
{
    public AccountsDbContext CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<AccountsDbContext>()
        .UseNpgsql("Host=localhost;Database=reimage_design", x => x.MigrationsHistoryTable("__ef_migrations", AccountsDbContext.Schema))
        .UseSnakeCaseNamingConvention()
        .Options);
}
