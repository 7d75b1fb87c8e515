namespace CloudProviders.Domain;

/// <summary>A member's role in a team. Every role may read the status; owners and admins may change it.</summary>
/// <remarks>In the order of <see cref="Roles.Names"/>.</remarks>
internal enum Role { Owner, Admin, Member, Viewer }

internal static class Roles
{
    /// <summary>Every role by its name, strongest first: the words the command line and the database use.</summary>
    public static readonly string[] Names = ["owner", "admin", "member", "viewer"];

    public static string Name(this Role role) => Names[(int)role];

    public static Role? Parse(string? name) => Array.IndexOf(Names, name) is var index and >= 0 ? (Role)index : null;

    /// <summary>Owners and admins may set and revoke the provider key.</summary>
    public static bool MayManageCredentials(this Role role) => role is Role.Owner or Role.Admin;
}
