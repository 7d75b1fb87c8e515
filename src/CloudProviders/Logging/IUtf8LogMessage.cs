using System.Buffers;

namespace CloudProviders.Logging;

/// <summary>
/// A log entry's state that writes its own message, as UTF-8 and already made printable, straight
/// into the console line: a line logged on every request then needs no message string in between.
/// Other providers, and the JSON layout, still use the entry's formatter.
/// </summary>
internal interface IUtf8LogMessage
{
    void WriteMessage(IBufferWriter<byte> line);
}
