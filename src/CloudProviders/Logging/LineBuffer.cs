using System.Buffers;

namespace CloudProviders.Logging;

/// <summary>
/// Whole log lines, gathered in memory and written to the output in batches by a thread-pool
/// thread: a request appends its line and goes on, instead of making a write call of its own.
/// A batch goes out once <see cref="BatchBytes"/> have gathered, <see cref="Delay"/> after its
/// first line, at once after an urgent line, and at <see cref="Dispose"/>, so a process that stops
/// (SIGTERM included) loses no line. When the output is not read and <see cref="CapacityBytes"/> are waiting, further lines
/// are dropped and counted rather than making requests wait; the count is told in a line of its
/// own once the output moves again.
/// </summary>
internal sealed class LineBuffer : IDisposable
{
    /// <summary>How much gathers before a batch goes out at once.</summary>
    public const int BatchBytes = 32 * 1024;

    /// <summary>How much may wait for a stalled output before lines are dropped.</summary>
    public const int CapacityBytes = 1024 * 1024;

    /// <summary>How long a line may wait for its batch.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);

    private readonly Stream _output;
    private readonly Func<long, byte[]> _droppedLine;
    private readonly Lock _appending = new();
    private readonly Lock _writing = new();
    private readonly Timer _timer;
    // Both start small and grow to the batches the load makes, once: a start writes a few lines,
    // and buffers sized for a full batch would be most of what it allocates for its log.
    private ArrayBufferWriter<byte> _gathering = new();
    private ArrayBufferWriter<byte> _spare = new();
    private bool _flushQueued;
    private long _dropped;
    private bool _disposed;
    private bool _closed;

    /// <param name="output">Where the lines go; disposed with this.</param>
    /// <param name="droppedLine">The line that tells how many lines were dropped, in the output's format.</param>
    public LineBuffer(Stream output, Func<long, byte[]> droppedLine)
    {
        _output = output;
        _droppedLine = droppedLine;
        _timer = new Timer(static buffer => ((LineBuffer)buffer!).Flush(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Lines dropped since the last batch, because the output was not read.</summary>
    public long Dropped
    {
        get
        {
            lock (_appending)
            {
                return _dropped;
            }
        }
    }

    /// <summary>Takes one whole line; never waits for the output.</summary>
    /// <param name="urgent">Write it out now, on another thread, rather than with its batch (a warning or worse).</param>
    public void Append(ReadOnlySpan<byte> line, bool urgent = false)
    {
        bool full;
        lock (_appending)
        {
            if (_disposed)
            {
                return;
            }
            if (_gathering.WrittenCount + line.Length > CapacityBytes)
            {
                _dropped++;
                return;
            }
            var first = _gathering.WrittenCount == 0;
            _gathering.Write(line);
            full = !_flushQueued && (urgent || _gathering.WrittenCount >= BatchBytes);
            _flushQueued |= full;
            if (first && !full)
            {
                // Under the lock, so that it never races the timer's disposal.
                _timer.Change(Delay, Timeout.InfiniteTimeSpan);
            }
        }
        if (full)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static buffer => buffer.Flush(), this, preferLocal: false);
        }
    }

    /// <summary>Writes what has gathered, then the count of dropped lines if there are any.</summary>
    public void Flush()
    {
        lock (_writing)
        {
            if (_closed)
            {
                return;
            }
            ArrayBufferWriter<byte> batch;
            long dropped;
            lock (_appending)
            {
                batch = _gathering;
                _gathering = _spare;
                _spare = batch;
                _flushQueued = false;
                dropped = _dropped;
                _dropped = 0;
            }
            try
            {
                if (batch.WrittenCount > 0)
                {
                    _output.Write(batch.WrittenSpan);
                }
                if (dropped > 0)
                {
                    _output.Write(_droppedLine(dropped));
                }
                _output.Flush();
            }
            catch (IOException)
            {
                // The reader went away (a closed pipe): nothing can be told to it any more.
            }
            finally
            {
                batch.ResetWrittenCount();
            }
        }
    }

    public void Dispose()
    {
        lock (_appending)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _timer.Dispose();
        }
        Flush();
        lock (_writing)
        {
            _closed = true;
            _output.Dispose();
        }
    }
}
