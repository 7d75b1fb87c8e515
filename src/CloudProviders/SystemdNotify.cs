using System.Net.Sockets;
using System.Text;

namespace CloudProviders;

/// <summary>
/// Tells systemd how the service is doing, where it runs as a <c>Type=notify</c> unit: the
/// <c>sd_notify</c> protocol, one datagram to the socket named by <c>NOTIFY_SOCKET</c>. Anywhere
/// else (no such variable) it does nothing.
/// </summary>
internal static class SystemdNotify
{
    public const string Ready = "READY=1";
    public const string Stopping = "STOPPING=1";

    /// <summary>Sends the state; a supervisor that is gone is no failure of the service's.</summary>
    public static void Send(string state)
    {
        var path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path) || (path[0] != '/' && path[0] != '@'))
        {
            return;
        }
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            // A leading '@' names a socket in the abstract namespace, which begins with a zero byte.
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path));
        }
        catch (SocketException)
        {
        }
    }
}
