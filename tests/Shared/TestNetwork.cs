using System.Net;
using System.Net.Sockets;

namespace Reimage.Tests;

public static class TestNetwork
{
    /// <summary>A loopback TCP port free right now (for a server a test starts as a separate process).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
