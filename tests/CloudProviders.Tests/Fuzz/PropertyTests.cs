using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudProviders.Auth;
using CloudProviders.Domain;
using CloudProviders.Http;
using CsCheck;

namespace CloudProviders.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing of the parsers that see attacker input first. CI runs a short budget;
/// set FUZZ_ITERATIONS (for example 1000000) for a longer run on demand.
/// </summary>
public sealed partial class PropertyTests
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 3_000;

    private static readonly HashSet<string> Algorithms = ["HS256", "RS256", "PS256", "ES256"];

    [GeneratedRegex("^(sk|dk)-[0-9A-Za-z]{43}$")]
    private static partial Regex KeyShape();

    /// <summary>Strings from the characters that matter to these parsers, and any character at all.</summary>
    private static readonly Gen<string> Hostile = Gen.OneOf(
        Gen.String,
        Gen.Char["0123456789abcdefABCDEF-{}(), \t\r\n\0%./+=_~skdSKD\"\\"].Array[0, 60].Select(c => new string(c)),
        Gen.Guid.Select(g => g.ToString("D")),
        Gen.Guid.Select(g => g.ToString("D").ToUpperInvariant()),
        Gen.Guid.Select(g => g.ToString("B")),
        Gen.Guid.Select(g => g.ToString("N")));

    [Fact]
    public void The_team_id_parser_accepts_exactly_the_canonical_form_and_never_throws()
    {
        Hostile.Sample(text =>
        {
            var ok = TeamId.TryParse(text, out var id);
            return !ok || (text.Length == 36 && string.Equals(TeamId.Format(id), text, StringComparison.OrdinalIgnoreCase));
        }, iter: Iterations);
        Gen.Guid.Sample(g => TeamId.TryParse(g.ToString("D"), out var id) && id == g
            && TeamId.TryParse(g.ToString("D").ToUpperInvariant(), out var upper) && upper == g
            && !TeamId.TryParse(g.ToString("B"), out _) && !TeamId.TryParse(g.ToString("N"), out _), iter: Iterations);
    }

    [Fact]
    public void The_token_classifier_calls_a_string_a_key_only_when_it_has_a_keys_exact_shape()
    {
        var keyish = Gen.OneOf(Hostile, Gen.Char["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"].Array[40, 46]
            .Select(c => (Gen.OneOf(Gen.Const("sk-"), Gen.Const("dk-"), Gen.Const("SK-"), Gen.Const("ak-")), c))
            .SelectMany(t => t.Item1.Select(prefix => prefix + new string(t.c))));
        keyish.Sample(text =>
        {
            var isKey = BearerToken.Classify(text) == TokenKind.ApiKey;
            return isKey == KeyShape().IsMatch(text);
        }, iter: Iterations);
        Hostile.Sample(header =>
        {
            var read = BearerToken.TryRead(new Microsoft.Extensions.Primitives.StringValues(header), out var slice);
            var token = slice.ToString();
            return !read || (header.EndsWith(token, StringComparison.Ordinal) && token.Length > 0 && !token.Any(char.IsWhiteSpace));
        }, iter: Iterations);
    }

    [Fact]
    public void The_jwt_pre_check_never_throws_and_passes_only_tokens_with_a_subject()
    {
        var segment = Gen.OneOf(
            Gen.Byte.Array[0, 80].Select(b => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_')),
            JsonObjects.Select(j => Convert.ToBase64String(Encoding.UTF8.GetBytes(j)).TrimEnd('=').Replace('+', '-').Replace('/', '_')),
            Hostile);
        Gen.Select(segment, segment, segment, Gen.Int[0, 4]).Sample((a, b, c, dots) =>
        {
            var token = dots switch
            {
                0 => a,
                1 => $"{a}.{b}",
                2 => $"{a}.{b}.{c}",
                _ => $"{a}.{b}.{c}.{a}",
            };
            var ok = JwtPrecheck.TryCheck(token, Algorithms, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 30, out var subject, out _, out _);
            return !ok || subject.Length > 0;
        }, iter: Iterations);
    }

    /// <summary>JSON-ish objects built from the member names the parsers care about.</summary>
    private static Gen<string> JsonObjects =>
        Gen.Select(
            Gen.OneOf(Gen.Const("alg"), Gen.Const("sub"), Gen.Const("exp"), Gen.Const("api_key"), Gen.Const("cloud_fallback"), Gen.Const("crit"), Gen.String[0, 8]),
            Gen.OneOf(Gen.Const("\"HS256\""), Gen.Const("\"alice\""), Gen.Const("1e300"), Gen.Const("true"), Gen.Const("null"), Gen.Const("[]"), Gen.Const("{}"), Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        .Array[0, 6]
        .Select(members => "{" + string.Join(",", members.Select(m => $"\"{m.Item1}\":{m.Item2}")) + "}");

    [Fact]
    public void The_put_body_reader_never_throws_and_accepts_only_what_the_contract_allows()
    {
        var bodies = Gen.OneOf(
            Gen.Byte.Array[0, 300].Select(b => b),
            JsonObjects.Select(j => Encoding.UTF8.GetBytes(j)),
            Hostile.Select(s => Encoding.UTF8.GetBytes(s)));
        bodies.Sample(json =>
        {
            var ok = SetCredentialRequest.TryParse(json, out var request, out var problem);
            return ok
                ? request is { ApiKey.Length: > 0 } && Domain.KeyPreview.ScalarCount(request.ApiKey) <= Domain.ProviderKey.MaxLength
                : request is null && problem.Length > 0;
        }, iter: Iterations);
    }

    [Fact]
    public void Any_valid_key_and_fallback_round_trip_through_the_put_body_reader()
    {
        Gen.Select(Gen.String[1, 512].Where(s => !s.Any(char.IsSurrogate) && Printable.IsSafe(s)), Gen.Bool).Sample((key, fallback) =>
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("api_key", key);
                writer.WriteBoolean("cloud_fallback", fallback);
                writer.WriteEndObject();
            }
            return SetCredentialRequest.TryParse(buffer.ToArray(), out var request, out _)
                && request!.ApiKey == key && request.CloudFallback == fallback;
        }, iter: Iterations);
    }
}
