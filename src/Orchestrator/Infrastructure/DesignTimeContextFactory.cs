using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Npgsql;

namespace Reimage.Orchestrator.Infrastructure;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class DesignTimeContextFactory : IDesignTimeDbContextFactory<ReimageDbContext>
{
    public ReimageDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<ReimageDbContext>();
        Storage.Configure(options, NpgsqlDataSource.Create("Host=localhost;Database=reimage"));
        return new ReimageDbContext(options.Options);
    }
}
