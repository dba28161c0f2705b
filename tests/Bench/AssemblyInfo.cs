[assembly: AssemblyFixture(typeof(Reimage.Tests.PostgresFixture))]
