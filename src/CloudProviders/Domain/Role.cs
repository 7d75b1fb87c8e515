namespace CloudProviders.Domain;

/// <summary>A member's role in a team, strongest first. Every role may read the status; owners and admins may change it.</summary>
internal enum Role { Owner, Admin, Member, Viewer }

internal static class Roles
{
    /// <summary>Owners and admins may set and revoke the provider key.</summary>
    public static bool MayManageCredentials(this Role role) => role is Role.Owner or Role.Admin;
}
