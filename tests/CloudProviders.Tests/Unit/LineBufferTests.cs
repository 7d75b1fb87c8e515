using System.Diagnostics;
using System.Text;
using CloudProviders.Logging;

namespace CloudProviders.Tests.Unit;

public sealed class LineBufferTests
{
    private static byte[] Dropped(long count) => Encoding.UTF8.GetBytes($"dropped {count}\n");

    private static void Append(LineBuffer buffer, string line) => buffer.Append(Encoding.UTF8.GetBytes(line));

    [Fact]
    public void Lines_come_out_whole_and_in_order_and_none_is_lost_at_dispose()
    {
        var output = new MemoryStream();
        using (var buffer = new LineBuffer(output, Dropped))
        {
            for (var i = 0; i < 5000; i++)
            {
                Append(buffer, $"line {i}\n");
            }
        }
        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => $"line {i}"), lines);
    }

    [Fact]
    public async Task A_line_is_written_within_its_delay_without_a_flush()
    {
        var output = new ObservableStream();
        using var buffer = new LineBuffer(output, Dropped);
        var clock = Stopwatch.StartNew();
        Append(buffer, "hello\n");
        while (output.Text != "hello\n")
        {
            Assert.True(clock.Elapsed < LineBuffer.Delay + TimeSpan.FromSeconds(5), "the line was not written");
            await Task.Delay(10);
        }
    }

    [Fact]
    public void When_the_output_stalls_appending_never_waits_and_lines_beyond_capacity_are_dropped_then_counted()
    {
        var output = new ObservableStream { Stalled = true };
        using var buffer = new LineBuffer(output, Dropped);
        var line = Encoding.UTF8.GetBytes(new string('x', 1023) + "\n");
        // The first batch goes to the writer, which blocks on the stalled output.
        for (var i = 0; i < LineBuffer.BatchBytes / line.Length; i++)
        {
            buffer.Append(line);
        }
        Assert.True(SpinWait.SpinUntil(() => output.Writers == 1, TimeSpan.FromSeconds(5)), "no batch reached the output");

        var clock = Stopwatch.StartNew();
        var appended = LineBuffer.CapacityBytes / line.Length + 100;
        for (var i = 0; i < appended; i++)
        {
            buffer.Append(line);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"appending waited {clock.Elapsed}");
        Assert.Equal(100, buffer.Dropped);

        output.Release();
        buffer.Flush();
        var text = output.Text;
        Assert.EndsWith("dropped 100\n", text, StringComparison.Ordinal);
        Assert.Equal(LineBuffer.BatchBytes / line.Length + appended - 100, text.Count(c => c == 'x') / 1023);
    }

    [Fact]
    public void A_flush_after_dispose_writes_nothing_and_does_not_throw()
    {
        var output = new MemoryStream();
        var buffer = new LineBuffer(output, Dropped);
        Append(buffer, "last\n");
        buffer.Dispose();
        buffer.Flush();
        Append(buffer, "too late\n");
        buffer.Flush();
        Assert.Equal("last\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>An output that can be held still, as a pipe nobody reads is.</summary>
    private sealed class ObservableStream : Stream
    {
        private readonly MemoryStream _written = new();
        private readonly ManualResetEventSlim _moving = new(true);
        private int _writers;

        public bool Stalled
        {
            init
            {
                if (value)
                {
                    _moving.Reset();
                }
            }
        }

        public int Writers => Volatile.Read(ref _writers);

        public string Text
        {
            get
            {
                lock (_written)
                {
                    return Encoding.UTF8.GetString(_written.ToArray());
                }
            }
        }

        public void Release() => _moving.Set();

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Interlocked.Increment(ref _writers);
            _moving.Wait(TimeSpan.FromSeconds(30));
            lock (_written)
            {
                _written.Write(buffer);
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _moving.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
