using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Reimage.Bench.Infrastructure;
using Reimage.Orchestrator.Import;
using Reimage.Orchestrator.Infrastructure;
using Reimage.Orchestrator.Workflow;

namespace Reimage.Bench.Import;

/// <summary>Measures the import end to end (bytes → committed) against the floor of a raw binary COPY of the same rows.</summary>
public static class ImportBenchmark
{
    private static readonly string[] Sites = ["RUH-HQ", "JED-01", "DMM-02", "LON-HQ", "NYC-03", "SIN-01", "FRA-02", "OSL-HQ"];
    private static readonly string[] Departments = ["Finance", "Engineering", "Operations", "HR", "Legal", "Sales", "Logistics", "IT"];
    private static readonly string[] Models = ["Latitude 7440", "OptiPlex 7010", "EliteBook 840 G10", "ThinkPad T14", "PowerEdge R750"];
    private static readonly string[] Disks = ["NVMe-512", "NVMe-1024", "SATA-SSD-256", "SAS-HDD-1200"];

    public static async Task<int> RunAsync(string connectionString, TimeProvider clock, int rows, int repetitions, TextWriter output, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        var (csv, fields) = Generate(rows, seed: 20261126);
        await using var database = await ThrowawayDatabase.CreateAsync(connectionString, "reimage_bench", ct);
        await using var bench = NpgsqlDataSource.Create(database.ConnectionString);
        await output.WriteLineAsync($"Import benchmark: {rows} rows ({csv.Length / 1024} KiB of CSV), {repetitions} runs, database {database.Name}, {Environment.ProcessorCount} cores.");
        var importer = new FleetImporter(bench, clock);
        var actor = Actor.System("benchmark");
        var imports = new List<double>();
        var copies = new List<double>();
        for (var run = 1; run <= repetitions; run++)
        {
            await ResetAsync(bench, ct);
            var watch = Stopwatch.StartNew();
            var phases = new PhaseClock(watch);
            var report = await importer.ImportAsync(new MemoryStream(csv, writable: false), new ImportOptions(CreateSites: true), actor, ct, phases);
            var import = watch.Elapsed.TotalSeconds;
            phases.End(import);
            if (!report.Imported || report.Inserted != rows)
            {
                await output.WriteAsync(report.ToText());
                return 1;
            }

            watch.Restart();
            await CopyBaselineAsync(bench, fields, ct);
            var copy = watch.Elapsed.TotalSeconds;
            imports.Add(import);
            copies.Add(copy);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"run {run}: import {import:F3} s ({rows / import:F0} rows/s), copy baseline {copy:F3} s, ratio {import / copy:F2}; phases: {phases}"));
        }

        var importMedian = Median(imports);
        var copyMedian = Median(copies);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"median: import {importMedian:F3} s, copy baseline {copyMedian:F3} s, ratio {importMedian / copyMedian:F2}; peak working set {PeakMiB()} MiB"));
        await output.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["rows"] = rows,
            ["runs"] = repetitions,
            ["import_median_s"] = Math.Round(importMedian, 4),
            ["copy_baseline_median_s"] = Math.Round(copyMedian, 4),
            ["ratio"] = Math.Round(importMedian / copyMedian, 2),
            ["rows_per_s"] = Math.Round(rows / importMedian),
        }));
        return 0;
    }

    /// <summary>A realistic template file: mostly workstations and laptops over a few sites, some servers with BMCs.</summary>
    public static (byte[] Csv, string?[][] Fields) Generate(int rows, int seed)
    {
        var random = new Random(seed);
        var header = ImportColumns.All.Select(c => c.Name).ToArray();
        var text = new StringBuilder(rows * 200);
        text.AppendJoin(',', header).Append('\n');
        var fields = new string?[rows][];
        for (var i = 0; i < rows; i++)
        {
            var site = Sites[random.Next(Sites.Length)];
            var kind = random.Next(100);
            var (role, prefix) = kind switch { < 60 => ("Workstation", "WS"), < 94 => ("Laptop", "LT"), < 99 => ("Server", "SRV"), _ => ("DomainController", "DC") };
            var server = kind >= 94;
            var mac = (0x00155D000000L + (i * 2L)).ToString("X12", CultureInfo.InvariantCulture);
            var macs = role == "Laptop" ? $"{mac};{(0x00155D000001L + (i * 2L)).ToString("x12", CultureInfo.InvariantCulture)}" : mac;
            var row = new string?[]
            {
                $"{prefix}{i:D7}", $"AT{i:D8}", $"SN{seed % 1000:D3}{i:D9}", macs,
                $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", site, $"B{random.Next(1, 6)}", random.Next(0, 12).ToString(CultureInfo.InvariantCulture),
                $"R{random.Next(100, 999)}", Departments[random.Next(Departments.Length)], $"user{random.Next(100000):D5}", role,
                server ? (role == "DomainController" ? "1" : "2") : random.Next(3, 5).ToString(CultureInfo.InvariantCulture),
                Models[server ? 4 : random.Next(4)], Disks[server ? 3 : random.Next(3)], server ? $"https://bmc-{i:D7}.oob.example" : null,
                server ? "server-2022" : "win11-23h2", random.Next(10) == 0 ? "DriveReplacement" : null,
            };
            fields[i] = row;
            text.AppendJoin(',', row.Select(v => v ?? "")).Append('\n');
        }

        return (Encoding.UTF8.GetBytes(text.ToString()), fields);
    }

    private static async Task ResetAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var truncate = db.CreateCommand(
            "TRUNCATE reimage.machine_events, reimage.agent_commands, reimage.recoveries, reimage.machines, reimage.technicians, reimage.sites CASCADE");
        await truncate.ExecuteNonQueryAsync(ct);
        await using var vacuum = db.CreateCommand("VACUUM ANALYZE reimage.machines, reimage.recoveries, reimage.machine_events, reimage.sites");
        await vacuum.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The floor: the same rows, already split into fields, binary-copied into a plain temporary table and committed.</summary>
    private static async Task CopyBaselineAsync(NpgsqlDataSource db, string?[][] rows, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var columns = ImportColumns.All.Select(c => c.Name).ToArray();
        await using (var create = new NpgsqlCommand(
            $"CREATE TEMPORARY TABLE copy_baseline ({string.Join(", ", columns.Select(c => c + " text"))}) ON COMMIT DROP", connection, transaction))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using (var copy = await connection.BeginBinaryImportAsync($"COPY copy_baseline ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var row in rows)
            {
                await copy.StartRowAsync(ct);
                foreach (var value in row)
                {
                    if (value is null)
                    {
                        await copy.WriteNullAsync(ct);
                    }
                    else
                    {
                        await copy.WriteAsync(value, NpgsqlDbType.Text, ct);
                    }
                }
            }

            await copy.CompleteAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static long PeakMiB()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / (1024 * 1024);
    }

    /// <summary>How long each phase the importer reports took, in seconds (a phase reported again continues it).</summary>
    private sealed class PhaseClock(Stopwatch watch) : IProgress<ImportProgress>
    {
        private readonly List<(string Phase, double Start)> _marks = [];
        private double _end;

        public void Report(ImportProgress value)
        {
            if (_marks.Count == 0 || _marks[^1].Phase != value.Phase)
            {
                _marks.Add((value.Phase, watch.Elapsed.TotalSeconds));
            }
        }

        public void End(double at) => _end = at;

        public override string ToString() => string.Join(", ", _marks.Select((m, i) =>
            string.Create(CultureInfo.InvariantCulture, $"{m.Phase} {(i + 1 < _marks.Count ? _marks[i + 1].Start : _end) - m.Start:F2}")));
    }
}
