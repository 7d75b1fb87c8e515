using System.Text;
using CloudProviders.Upstream;

namespace CloudProviders.Tests.Unit;

/// <summary>The key check's HTTP: the status line it accepts, and the header values it will send as they are.</summary>
public sealed class OneShotHttpTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 OK", 200)]
    [InlineData("HTTP/1.0 401 Unauthorized", 401)]
    [InlineData("HTTP/1.1 503", 503)]
    public void A_status_line_gives_its_code(string line, int status) =>
        Assert.Equal(status, OneShotHttp.ParseStatusLine(Encoding.ASCII.GetBytes(line)));

    [Theory]
    [InlineData("HTTP/2 200 OK")]
    [InlineData("HTTP/1.1 2000 OK")]
    [InlineData("HTTP/1.1 20 OK")]
    [InlineData("HTTP/1.1 +20 OK")]
    [InlineData("HTTP/1.1 099 Nope")]
    [InlineData("SSH-2.0-OpenSSH_9.2")]
    [InlineData("")]
    public void Anything_else_is_no_HTTP_answer(string line) =>
        Assert.Throws<IOException>(() => OneShotHttp.ParseStatusLine(Encoding.ASCII.GetBytes(line)));

    [Theory]
    [InlineData("comfyui-0123456789abcdef", true)]
    [InlineData("with space", true)]
    [InlineData("key\r\nX-Injected: 1", false)]
    [InlineData("key\n", false)]
    [InlineData("k\u00e9y", false)]
    [InlineData("", false)]
    public void Only_visible_ASCII_and_spaces_are_sent_as_a_header_value(string value, bool safe) =>
        Assert.Equal(safe, OneShotHttp.IsHeaderSafe(value));
}
