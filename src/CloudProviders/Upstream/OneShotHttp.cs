using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace CloudProviders.Upstream;

/// <summary>
/// One HTTP/1.1 GET on a connection of its own (TLS for https, the platform's certificate
/// validation and the system's roots), closed once the answer's status line is in: at most
/// <see cref="MaxHeadBytes"/> of the answer is read, and dropped. No redirect, no proxy, no
/// cookie, no compression, no connection kept. Its whole job is a key check; the framework's HTTP client would carry
/// HTTP/2, proxies, authentication schemes and decompression into the executable for it.
/// </summary>
internal static class OneShotHttp
{
    /// <summary>The most of an answer read, to find its status line.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    /// <summary>Whether a value can be sent as a header value as it is: visible ASCII and spaces, nothing that ends a line.</summary>
    public static bool IsHeaderSafe(string value) =>
        value.Length > 0 && !value.AsSpan().ContainsAnyExceptInRange((char)0x20, (char)0x7E);

    /// <summary>Sends the GET and reads the answer's status.</summary>
    /// <returns>The status code.</returns>
    /// <exception cref="IOException">The connection failed, or the answer is not HTTP.</exception>
    /// <exception cref="SocketException">The host could not be resolved or reached.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS handshake failed.</exception>
    /// <exception cref="OperationCanceledException">The deadline passed.</exception>
    public static async Task<int> GetStatusAsync(Uri url, string headerName, string headerValue, string userAgent, CancellationToken cancellation)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(url.DnsSafeHost, url.Port, cancellation).ConfigureAwait(false);
        await using Stream network = new NetworkStream(socket, ownsSocket: false);
        await using var tls = url.Scheme == Uri.UriSchemeHttps ? new SslStream(network, leaveInnerStreamOpen: true) : null;
        if (tls is not null)
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = url.IdnHost }, cancellation).ConfigureAwait(false);
        }
        var stream = tls ?? network;

        var request = string.Create(CultureInfo.InvariantCulture,
            $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\n{headerName}: {headerValue}\r\nUser-Agent: {userAgent}\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
        var bytes = Encoding.ASCII.GetBytes(request);
        try
        {
            await stream.WriteAsync(bytes, cancellation).ConfigureAwait(false);
        }
        finally
        {
            // The request's bytes carried the header's value: cleared once sent.
            Array.Clear(bytes);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxHeadBytes);
        try
        {
            var length = 0;
            int read;
            int lineEnd;
            while ((lineEnd = buffer.AsSpan(0, length).IndexOf("\r\n"u8)) < 0)
            {
                if (length == MaxHeadBytes || (read = await stream.ReadAsync(buffer.AsMemory(length, MaxHeadBytes - length), cancellation).ConfigureAwait(false)) == 0)
                {
                    throw new IOException("The answer ended before its status line.");
                }
                length += read;
            }
            // The rest of the answer is not read: the connection is closed, and nothing more of
            // the provider's answer is ever held.
            return ParseStatusLine(buffer.AsSpan(0, lineEnd));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary><c>HTTP/1.1 200 OK</c>: the version, a space, three digits, then a space or the end.</summary>
    internal static int ParseStatusLine(ReadOnlySpan<byte> line)
    {
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[8] != (byte)' ' || (line.Length > 12 && line[12] != (byte)' ')
            || !int.TryParse(line.Slice(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status < 100)
        {
            throw new IOException("The answer is not HTTP/1.x.");
        }
        return status;
    }
}
