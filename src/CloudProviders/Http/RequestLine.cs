using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using CloudProviders.Logging;

namespace CloudProviders.Http;

/// <summary>
/// One request's log entry: its message, and its values by name for the JSON formatter. What a
/// <c>[LoggerMessage]</c> method would give, without boxing each value, and written to the
/// console as UTF-8 with no message string in between.
/// </summary>
internal sealed class RequestLine(string method, string path, int statusCode, TimeSpan elapsed, string callerKind, string requestId)
    : IReadOnlyList<KeyValuePair<string, object?>>, IUtf8LogMessage
{
    public static readonly EventId EventId = new(1, "Request");

    public static readonly Func<RequestLine, Exception?, string> Format = static (line, _) => line.ToString();

    private const string Template = "{Method} {Path} {StatusCode} {DurationMs:0.000} ms caller={CallerKind} request_id={RequestId}";

    /// <summary>The duration in whole microseconds, rounded: the message gives milliseconds to three places.</summary>
    private readonly long _micros = (elapsed.Ticks + TimeSpan.TicksPerMicrosecond / 2) / TimeSpan.TicksPerMicrosecond;

    public int Count => 7;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Method", method),
        1 => new("Path", path),
        2 => new("StatusCode", statusCode),
        3 => new("DurationMs", elapsed.TotalMilliseconds),
        4 => new("CallerKind", callerKind),
        5 => new("RequestId", requestId),
        6 => new("{OriginalFormat}", Template),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{method} {path} {statusCode} {_micros / 1000}.{_micros % 1000:D3} ms caller={callerKind} request_id={requestId}");

    public void WriteMessage(IBufferWriter<byte> line)
    {
        // The method and path come from the request: escaped as every message is (the same
        // strings when there is nothing to escape, as almost always). The rest is the
        // service's own: digits, a kind, a request id checked or made here. Each part is
        // copied or formatted into the line's buffer in place.
        var safeMethod = Printable.Escape(method);
        var safePath = Printable.Escape(path);
        var span = line.GetSpan(Encoding.UTF8.GetMaxByteCount(safeMethod.Length + safePath.Length + callerKind.Length + requestId.Length) + 64);
        var at = WriteText(span, 0, safeMethod);
        span[at++] = (byte)' ';
        at = WriteText(span, at, safePath);
        span[at++] = (byte)' ';
        at = WriteDigits(span, at, statusCode);
        span[at++] = (byte)' ';
        at = WriteDigits(span, at, _micros / 1000);
        span[at++] = (byte)'.';
        var fraction = (int)(_micros % 1000);
        span[at++] = (byte)('0' + fraction / 100);
        span[at++] = (byte)('0' + fraction / 10 % 10);
        span[at++] = (byte)('0' + fraction % 10);
        " ms caller="u8.CopyTo(span[at..]);
        at = WriteText(span, at + " ms caller=".Length, callerKind);
        " request_id="u8.CopyTo(span[at..]);
        at = WriteText(span, at + " request_id=".Length, requestId);
        line.Advance(at);
    }

    /// <summary>The text as UTF-8: narrowed at once when it is ASCII, as almost every part is; transcoded otherwise.</summary>
    private static int WriteText(Span<byte> span, int at, string text) =>
        at + (System.Text.Ascii.FromUtf16(text, span[at..], out var written) == OperationStatus.Done ? written : Encoding.UTF8.GetBytes(text, span[at..]));

    private static int WriteDigits(Span<byte> span, int at, long value)
    {
        var formatted = value.TryFormat(span[at..], out var written, default, CultureInfo.InvariantCulture);
        Debug.Assert(formatted, "The room is an upper bound.");
        return at + written;
    }
}
