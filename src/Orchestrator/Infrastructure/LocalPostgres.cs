using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Reimage.Orchestrator.Infrastructure;

/// <summary>
/// A private PostgreSQL cluster in a folder Reimage owns, started from the machine's PostgreSQL binaries
/// when no connection string is configured. It listens on loopback only (no Unix socket), uses password
/// authentication with a generated password kept beside the cluster, survives restarts of Reimage and is
/// stopped cleanly on shutdown. When Reimage runs as root the server runs as the unprivileged
/// <c>postgres</c> user (PostgreSQL refuses to run as root).
/// </summary>
public sealed class LocalPostgres : IDisposable
{
    private const string Superuser = "reimage";

    private readonly string _binDirectory;
    private readonly string? _runAs;
    private bool _startedByUs;

    private LocalPostgres(string root, string binDirectory, string? runAs)
    {
        Root = root;
        _binDirectory = binDirectory;
        _runAs = runAs;
    }

    /// <summary>The folder holding the cluster (<c>data/</c>), its password and its log.</summary>
    public string Root { get; }

    public int Port { get; private set; }

    public string DataDirectory => Path.Combine(Root, "data");

    private string PasswordFile => Path.Combine(Root, "password");

    private string LogFile => Path.Combine(Root, "postgres.log");

    private string PortFile => Path.Combine(Root, "port");

    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Password = File.ReadAllText(PasswordFile).Trim(),
        Database = database,
    }.ConnectionString;

    /// <summary>Initialises the cluster if needed, then starts it (or adopts it when it is already running).</summary>
    public static LocalPostgres Start(string root)
    {
        var bin = PostgresBinaries.Find() ?? throw new PostgresNotFoundException();
        Directory.CreateDirectory(root);
        var runAs = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || IsRoot() ? "postgres" : null;
        var pg = new LocalPostgres(Path.GetFullPath(root), bin, runAs);
        pg.InitialiseIfNeeded();
        pg.StartOrAdopt();
        return pg;
    }

    private static bool IsRoot() => OperatingSystem.IsLinux() && File.Exists("/proc/self/status")
        && File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0");

    private void InitialiseIfNeeded()
    {
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return;
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true); // a half-made cluster from an interrupted first start
        }

        File.WriteAllText(PasswordFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // initdb reads the password from a file the server's user can read; it is removed straight after.
        var pwfile = Path.Combine(Root, "initdb-password");
        File.Copy(PasswordFile, pwfile, overwrite: true);
        GiveToServerUser(Root, pwfile);
        try
        {
            Run("initdb", $"-D \"{DataDirectory}\" -U {Superuser} --pwfile=\"{pwfile}\" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8", TimeSpan.FromMinutes(2));
        }
        finally
        {
            File.Delete(pwfile);
        }

        File.AppendAllText(Path.Combine(DataDirectory, "postgresql.conf"),
            """

            # Reimage: a private cluster on loopback, sized for a recovery war room on one machine.
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''
            max_connections = 300
            shared_buffers = 256MB
            synchronous_commit = on
            fsync = on
            """);
    }

    private void StartOrAdopt()
    {
        var running = RunningPort();
        if (running is { } port && CanConnect(port))
        {
            Port = port;
            return;
        }

        // The same port as last time when it is free, so that clients holding the old connection string reconnect.
        Port = int.TryParse(File.Exists(PortFile) ? File.ReadAllText(PortFile) : null, out var previous) && IsFree(previous) ? previous : FreeLoopbackPort();
        File.WriteAllText(PortFile, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        StartOnPort();
    }

    private void StartOnPort()
    {
        Run("pg_ctl", $"-D \"{DataDirectory}\" -l \"{LogFile}\" -o \"-p {Port}\" -w -t 60 start", TimeSpan.FromSeconds(90));
        _startedByUs = true;
    }

    /// <summary>Whether the cluster's postmaster (the process named in <c>postmaster.pid</c>) is alive.</summary>
    public bool IsRunning()
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(DataDirectory, "postmaster.pid"));
            if (lines.Length == 0 || !int.TryParse(lines[0], out var pid))
            {
                return false;
            }

            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return false; // no pid file, or no such process: it is not running
        }
    }

    /// <summary>
    /// Starts the cluster again after it died, on the same port (the running application's connection string names it);
    /// adopts it when someone else started it meanwhile. Throws when it cannot start (the port taken, shared memory of
    /// the killed server still held by its children): the caller retries.
    /// </summary>
    public void Restart()
    {
        if (RunningPort() == Port && CanConnect(Port))
        {
            return;
        }

        StartOnPort();
    }

    /// <summary>Creates <paramref name="database"/> when the cluster does not have it yet.</summary>
    public void EnsureDatabase(string database)
    {
        using var connection = new NpgsqlConnection(ConnectionString());
        connection.Open();
        using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (exists.ExecuteScalar() is null)
        {
            using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            create.ExecuteNonQuery();
        }
    }

    /// <summary>Stops the cluster if this process started it (fast shutdown: sessions are closed, data is flushed).</summary>
    public void Stop()
    {
        if (!_startedByUs)
        {
            return;
        }

        _startedByUs = false;

        if (!IsRunning())
        {
            return; // it died: nothing to wait for
        }

        Run("pg_ctl", $"-D \"{DataDirectory}\" -m fast -w -t 60 stop", TimeSpan.FromSeconds(90));
    }

    public void Dispose() => Stop();

    /// <summary>The port of a postmaster already serving this cluster (line 4 of postmaster.pid), if any.</summary>
    private int? RunningPort()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        try
        {
            var lines = File.ReadAllLines(pidFile);
            return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private bool CanConnect(int port)
    {
        Port = port;
        try
        {
            using var connection = new NpgsqlConnection(ConnectionString() + ";Timeout=3");
            connection.Open();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void GiveToServerUser(params string[] paths)
    {
        if (_runAs is null)
        {
            return;
        }

        foreach (var path in paths)
        {
            RunProcess("chown", $"-R {_runAs} \"{path}\"", TimeSpan.FromSeconds(30));
        }
    }

    private void Run(string tool, string arguments, TimeSpan timeout)
    {
        var exe = Path.Combine(_binDirectory, tool);
        if (_runAs is null)
        {
            RunProcess(exe, arguments, timeout);
        }
        else
        {
            RunProcess("runuser", $"-u {_runAs} -- \"{exe}\" {arguments}", timeout);
        }
    }

    private static void RunProcess(string fileName, string arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(fileName)} did not finish within {timeout}.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} {arguments} failed with exit code {process.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
        }
    }
}

/// <summary>Thrown when no PostgreSQL server binaries can be found; its message tells the operator what to do.</summary>
public sealed class PostgresNotFoundException() : Exception(
    """
    Reimage needs PostgreSQL and found no server binaries (initdb, pg_ctl) on PATH, through `pg_config --bindir`,
    or under /usr/lib/postgresql/<version>/bin.
    Either install them (Debian/Ubuntu: `sudo apt-get install postgresql`; RHEL: `sudo dnf install postgresql-server`),
    or point Reimage at an existing server with the connection string ConnectionStrings:Reimage
    (environment variable ConnectionStrings__Reimage="Host=...;Database=reimage;Username=...;Password=...").
    """);

/// <summary>Finds PostgreSQL's server binaries the way an operator would look for them.</summary>
public static class PostgresBinaries
{
    public static string? Find()
    {
        var candidates = new List<string>();
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        if (PgConfigBinDir() is { } fromPgConfig)
        {
            candidates.Add(fromPgConfig);
        }

        // Debian and Ubuntu install server binaries outside PATH, one folder per major version; newest first.
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .OrderByDescending(d => d.Version)
                .Select(d => Path.Combine(d.Dir, "bin")));
        }

        candidates.Add("/usr/pgsql/bin");
        return candidates.FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }

    private static string? PgConfigBinDir()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit(5000);
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // pg_config is not installed
        }
    }
}
