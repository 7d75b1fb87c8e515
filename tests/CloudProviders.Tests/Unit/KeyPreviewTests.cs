using CloudProviders.Domain;

namespace CloudProviders.Tests.Unit;

public sealed class KeyPreviewTests
{
    [Fact]
    public void A_real_ComfyUI_key_shows_its_prefix_and_last_four()
    {
        Assert.Equal("comfyui-...89ab", KeyPreview.For(Support.ServiceFactory.ComfyKey));
    }

    [Theory]
    [InlineData("12345678901234567890", "12345678...7890")]
    [InlineData("abcdefghijklmnopqrstu", "abcdefgh...rstu")]
    public void Keys_of_twenty_characters_or_more_get_a_preview(string key, string preview)
    {
        Assert.Equal(preview, KeyPreview.For(key));
    }

    [Theory]
    [InlineData("")]
    [InlineData("k")]
    [InlineData("1234567890123456789")]
    public void Keys_shorter_than_twenty_characters_get_no_preview(string key)
    {
        Assert.Null(KeyPreview.For(key));
    }

    [Fact]
    public void The_preview_counts_and_cuts_by_Unicode_scalar_never_splitting_a_surrogate_pair()
    {
        // 20 scalars, 23 UTF-16 units: the emoji (U+1F600) sit on both cut points.
        var key = "\U0001F600abcdefghijklmnopq\U0001F600\U0001F600";
        Assert.Equal(20, KeyPreview.ScalarCount(key));
        Assert.Equal("\U0001F600abcdefg...pq\U0001F600\U0001F600", KeyPreview.For(key));
        Assert.Null(KeyPreview.For("\U0001F600abcdefghijklmnop\U0001F600"));
    }
}
