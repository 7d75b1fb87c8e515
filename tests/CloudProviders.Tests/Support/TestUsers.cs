namespace CloudProviders.Tests.Support;

/// <summary>The users the tests seed, named by the role each holds (<see cref="ServiceFactory.SeedTeamA"/>, and the native tests' teams alike).</summary>
internal static class TestUsers
{
    public const string Owner = "alice";
    public const string Admin = "dave";
    public const string Member = "bob";
    public const string Viewer = "carol";

    /// <summary>The owner of team B, who is in no other team.</summary>
    public const string OtherTeamOwner = "erin";
}
