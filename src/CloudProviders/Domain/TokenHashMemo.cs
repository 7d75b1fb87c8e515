using System.Runtime.InteropServices;

namespace CloudProviders.Domain;

/// <summary>
/// The hash of the last token one connection presented. A client on a keep-alive connection sends
/// the same Authorization header with every request, and the server hands over the same string
/// for it each time (Kestrel keeps a header's string while its bytes repeat), so the token is
/// hashed once per connection rather than once per request. Only the hash is remembered, which
/// the token alone determines: whatever the hash identifies (a key's row, a validated JWT) is
/// looked up as before, so a revocation or an expiry is seen at the next request all the same.
/// </summary>
/// <remarks>
/// A token is recognised by the very string it is a slice of, never by its characters: a string
/// cannot change, so the same string and range are the same token. Requests on one connection
/// may overlap (HTTP/2), so the last entry is replaced whole and read once.
/// </remarks>
internal sealed class TokenHashMemo
{
    private sealed record Entry(string Text, int Start, int Length, TokenHash Hash);

    private volatile Entry? _last;

    public TokenHash Of(ReadOnlyMemory<char> token)
    {
        if (!MemoryMarshal.TryGetString(token, out var text, out var start, out var length))
        {
            return TokenHash.Of(token.Span);
        }
        if (_last is { } last && ReferenceEquals(last.Text, text) && last.Start == start && last.Length == length)
        {
            return last.Hash;
        }
        var hash = TokenHash.Of(token.Span);
        _last = new Entry(text, start, length, hash);
        return hash;
    }
}
