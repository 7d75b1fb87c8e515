using System.Net;
using System.Net.Sockets;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A loopback port in front of the real PostgreSQL server that a test can take away and give back:
/// <see cref="Stop"/> drops every connection and refuses new ones, as a server that went down does;
/// <see cref="Start"/> is the server back. What passes through is not touched.
/// </summary>
internal sealed class TcpProxy(string upstreamHost, int upstreamPort) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;

    public int Port { get; } = NativeBinary.FreePort();

    public void Start()
    {
        lock (_lock)
        {
            _listener = new TcpListener(IPAddress.Loopback, Port);
            _listener.Start();
            _ = AcceptAsync(_listener);
        }
    }

    public void Stop()
    {
        lock (_lock)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var connection in _connections)
            {
                if (connection.Client is { Connected: true } socket)
                {
                    // A reset, as a server that went away leaves behind.
                    socket.LingerState = new LingerOption(true, 0);
                }
                connection.Dispose();
            }
            _connections.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(upstreamHost, upstreamPort);
            }
            catch (SocketException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            lock (_lock)
            {
                if (!ReferenceEquals(listener, _listener))
                {
                    client.Dispose();
                    upstream.Dispose();
                    return;
                }
                _connections.Add(client);
                _connections.Add(upstream);
            }
            _ = PipeAsync(client, upstream);
            _ = PipeAsync(upstream, client);
        }
    }

    private static async Task PipeAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose() => Stop();
}
