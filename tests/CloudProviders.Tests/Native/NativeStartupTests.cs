using System.Buffers.Binary;
using System.Diagnostics;
using CloudProviders.Tests.Support;

namespace CloudProviders.Tests.Native;

/// <summary>
/// NativeStartup.c, linked into the Linux executable: before the runtime starts, the executable's
/// zero-filled data (into which the runtime writes its type and method data at every start) is
/// populated in one system call rather than faulted in a page at a time.
/// </summary>
public sealed class NativeStartupTests
{
    private const int PageSize = 4096;

    [Fact]
    public void A_start_takes_fewer_page_faults_than_the_runtime_data_has_pages()
    {
        var zeroFilled = ZeroFilledPages(NativeBinary.DefaultPath);
        // Several MB of runtime data: a range this test can tell from the process's other faults.
        Assert.True(zeroFilled > 256, $"{zeroFilled} zero-filled pages");

        // Each of those pages is written at start; faulted one by one, they alone would be more.
        var faults = PageFaults(NativeBinary.DefaultPath, "--version");
        Assert.True(faults < zeroFilled, $"--version took {faults} page faults; the zero-filled data has {zeroFilled} pages");
    }

    /// <summary>The pages of the executable's writable segments that the file does not hold (its .bss and .hydrated data), from its ELF program headers.</summary>
    private static long ZeroFilledPages(string path)
    {
        var image = File.ReadAllBytes(path);
        Assert.Equal("\u007fELF"u8.ToArray(), image[..4]);
        var headers = (long)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(0x20));
        var size = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x36));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x38));
        long pages = 0;
        for (var i = 0; i < count; i++)
        {
            var header = image.AsSpan((int)(headers + (i * size)), size);
            const uint Load = 1, Writable = 2;
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Load || (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) & Writable) == 0)
            {
                continue;
            }
            var address = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
            var inFile = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
            var inMemory = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[40..]);
            var start = (address + inFile + PageSize - 1) / PageSize;
            var end = (address + inMemory + PageSize - 1) / PageSize;
            pages += Math.Max(0, end - start);
        }
        return pages;
    }

    /// <summary>
    /// The page faults one run takes, as <c>perf stat</c> counts them: the faults the processor
    /// raised. (The kernel's own per-process count, in /proc and getrusage, also counts the pages
    /// a populate call fills, so it cannot tell the two apart.)
    /// </summary>
    private static long PageFaults(string path, string argument)
    {
        using var perf = Process.Start(new ProcessStartInfo("perf", ["stat", "-x", ",", "-e", "page-faults", "--", path, argument])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _ = perf.StandardOutput.ReadToEnd();
        var counts = perf.StandardError.ReadToEnd();
        perf.WaitForExit();
        Assert.Equal(0, perf.ExitCode);
        var line = counts.Split('\n').Single(l => l.Contains(",page-faults", StringComparison.Ordinal));
        return long.Parse(line[..line.IndexOf(',', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }
}
