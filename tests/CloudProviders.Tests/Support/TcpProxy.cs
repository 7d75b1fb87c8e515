using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A loopback port in front of the real PostgreSQL server that a test can take away and give back:
/// <see cref="Stop"/> drops every connection and refuses new ones, as a server that went down does;
/// <see cref="Start"/> is the server back. What passes through is not touched, unless the proxy
/// is given a rewrite of the queries that clients send: then it stands for a server that answers
/// some statements differently (one that lacks LISTEN, or whose advisory locks do nothing), with
/// the real server answering the rewritten text. Clients must connect with SSL Mode=Disable.
/// </summary>
internal sealed class TcpProxy(string upstreamHost, int upstreamPort, Func<string, string>? rewriteQuery = null) : IDisposable
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
            _ = rewriteQuery is null ? PipeAsync(client, upstream) : RewriteAsync(client, upstream, rewriteQuery);
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

    /// <summary>The client's side of PostgreSQL's protocol, message by message, with the text of every query (simple or parsed) rewritten.</summary>
    private static async Task RewriteAsync(TcpClient from, TcpClient to, Func<string, string> rewrite)
    {
        const int SslRequest = 80877103, GssEncryptionRequest = 80877104;
        try
        {
            var client = from.GetStream();
            var server = to.GetStream();
            // The start-up messages have no type byte; encryption is refused, so the client goes on in plain text.
            while (true)
            {
                var length = await ReadInt32Async(client);
                var body = new byte[length - 4];
                await client.ReadExactlyAsync(body);
                if (length == 8 && BinaryPrimitives.ReadInt32BigEndian(body) is SslRequest or GssEncryptionRequest)
                {
                    await client.WriteAsync("N"u8.ToArray());
                    continue;
                }
                await server.WriteAsync(Frame(null, body));
                break;
            }
            var type = new byte[1];
            while (true)
            {
                await client.ReadExactlyAsync(type);
                var body = new byte[await ReadInt32Async(client) - 4];
                await client.ReadExactlyAsync(body);
                body = type[0] switch
                {
                    (byte)'Q' => CString(rewrite(ReadCString(body, 0, out _))),
                    (byte)'P' => RewriteParse(body, rewrite),
                    _ => body,
                };
                await server.WriteAsync(Frame(type[0], body));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException or EndOfStreamException)
        {
        }
        from.Dispose();
        to.Dispose();
    }

    /// <summary>Parse: the statement's name, its text, then the parameters' types, untouched.</summary>
    private static byte[] RewriteParse(byte[] body, Func<string, string> rewrite)
    {
        var name = ReadCString(body, 0, out var afterName);
        var query = ReadCString(body, afterName, out var afterQuery);
        return [.. CString(name), .. CString(rewrite(query)), .. body.AsSpan(afterQuery)];
    }

    private static string ReadCString(byte[] body, int start, out int next)
    {
        var end = Array.IndexOf(body, (byte)0, start);
        next = end + 1;
        return Encoding.UTF8.GetString(body, start, end - start);
    }

    private static byte[] CString(string text) => [.. Encoding.UTF8.GetBytes(text), 0];

    private static byte[] Frame(byte? type, byte[] body)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, body.Length + 4);
        return type is { } t ? [t, .. length, .. body] : [.. length, .. body];
    }

    private static async Task<int> ReadInt32Async(NetworkStream stream)
    {
        var bytes = new byte[4];
        await stream.ReadExactlyAsync(bytes);
        return BinaryPrimitives.ReadInt32BigEndian(bytes);
    }

    public void Dispose() => Stop();
}
