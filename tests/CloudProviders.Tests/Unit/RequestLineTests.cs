using System.Buffers;
using System.Text;
using CloudProviders.Http;
using CsCheck;

namespace CloudProviders.Tests.Unit;

/// <summary>
/// The request line as the console writes it, bytes straight into the buffer, says what its text
/// says, with the method and path escaped: plain ASCII or not, any status, any duration.
/// </summary>
public sealed class RequestLineTests
{
    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.String[Gen.Char['!', '~'], 0, 40],
        Gen.String[Gen.Char, 0, 40],
        OneOf("GET", "/api/v1/cloud-providers/comfy-cloud", "/x\nforged", "/a\\b", "/\u202eevil", "/caf\u00e9", "/\u0085", "/\ud83d\ude00"));

    private static Gen<string> OneOf(params string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    [Fact]
    public void The_bytes_written_are_the_escaped_text()
    {
        Gen.Select(Text, Text, Gen.Int[100, 599], Gen.Long[0, TimeSpan.TicksPerHour * 30], OneOf("sk", "dk", "jwt", "anonymous"), Gen.String[Gen.Char["0123456789abcdef-_.:"], 1, 128])
            .Sample((method, path, status, ticks, kind, id) =>
            {
                var elapsed = TimeSpan.FromTicks(ticks);
                var line = new ArrayBufferWriter<byte>();
                new RequestLine(method, path, status, elapsed, kind, id).WriteMessage(line);
                var expected = new RequestLine(CloudProviders.Printable.Escape(method), CloudProviders.Printable.Escape(path), status, elapsed, kind, id).ToString();
                return Encoding.UTF8.GetString(line.WrittenSpan) == expected;
            }, iter: 5_000);
    }

    [Fact]
    public void A_duration_is_milliseconds_to_three_places_rounded_to_the_microsecond()
    {
        static string Written(TimeSpan elapsed)
        {
            var line = new ArrayBufferWriter<byte>();
            new RequestLine("GET", "/healthz", 200, elapsed, "anonymous", "id").WriteMessage(line);
            return Encoding.UTF8.GetString(line.WrittenSpan);
        }

        Assert.Equal("GET /healthz 200 0.000 ms caller=anonymous request_id=id", Written(TimeSpan.Zero));
        Assert.Equal("GET /healthz 200 0.001 ms caller=anonymous request_id=id", Written(TimeSpan.FromTicks(5)));
        Assert.Equal("GET /healthz 200 0.042 ms caller=anonymous request_id=id", Written(TimeSpan.FromMicroseconds(42)));
        Assert.Equal("GET /healthz 200 12.305 ms caller=anonymous request_id=id", Written(TimeSpan.FromMicroseconds(12_305)));
        Assert.Equal("GET /healthz 200 3600000.000 ms caller=anonymous request_id=id", Written(TimeSpan.FromHours(1)));
    }
}
