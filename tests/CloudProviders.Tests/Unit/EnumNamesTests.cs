using CloudProviders.Auth;
using CloudProviders.Domain;
using CloudProviders.Metrics;
using CloudProviders.Storage;

namespace CloudProviders.Tests.Unit;

/// <summary>
/// The words an enum's values are written as outside the code are a public interface (the
/// database, metric labels, the command line, the audit trail): they come from one mechanism,
/// and these are they.
/// </summary>
public sealed class EnumNamesTests
{
    [Fact]
    public void Every_public_word_is_the_snake_case_of_its_member()
    {
        Assert.Equal(["sk", "dk"], EnumNames<ApiKeyKind>.All);
        Assert.Equal(["owner", "admin", "member", "viewer"], EnumNames<Role>.All);
        Assert.Equal(["jwt", "sk", "dk", "cli"], EnumNames<ActorKind>.All);
        Assert.Equal(["missing", "malformed", "unknown_key", "expired", "revoked", "bad_signature", "bad_claims"], EnumNames<Refusal>.All);
        Assert.Equal(["set", "replace", "revoke", "test"], EnumNames<AuditAction>.All);
        Assert.Equal(["valid", "rejected", "unreachable"], EnumNames<KeyCheckResult>.All);
        Assert.Equal(["active", "expired", "revoked"], EnumNames<ApiKeyState>.All);
        Assert.Equal(["key", "role", "status"], EnumNames<ServiceMetrics.Cache>.All);
    }

    [Fact]
    public void A_name_parses_back_to_its_value() =>
        Assert.Equal(Refusal.UnknownKey, EnumNames<Refusal>.Parse("unknown_key"));

    [Fact]
    public void A_word_of_another_case_is_no_name() =>
        Assert.Null(EnumNames<Role>.Parse("Owner"));

    private enum Sparse { First = 1, Second = 2 }

    [Fact]
    public void An_enum_that_does_not_number_from_zero_is_refused() =>
        Assert.Throws<TypeInitializationException>(() => EnumNames<Sparse>.All);
}
