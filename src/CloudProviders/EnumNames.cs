using System.Runtime.CompilerServices;
using System.Text;

namespace CloudProviders;

/// <summary>
/// How an enum's values are written wherever they leave the code (the wire, metric labels, the
/// command line, the database, the audit trail): the member's name in snake_case, so
/// <c>UnknownKey</c> is <c>unknown_key</c>. One spelling per value, made in one place.
/// </summary>
/// <remarks>The enums named this way number their members 0, 1, 2, ... (checked once per enum).</remarks>
internal static class EnumNames<TEnum> where TEnum : struct, Enum
{
    /// <summary>Every value's name, in the order of the values.</summary>
    public static readonly string[] All = Load();

    public static string Of(TEnum value) => All[Unsafe.As<TEnum, int>(ref value)];

    public static TEnum? Parse(string? name) => name is null ? null : Parse(name.AsSpan());

    /// <summary>Without allocating: the request path reads a key's kind off every key it sees.</summary>
    public static TEnum? Parse(ReadOnlySpan<char> name)
    {
        for (var i = 0; i < All.Length; i++)
        {
            if (name.SequenceEqual(All[i]))
            {
                return Unsafe.As<int, TEnum>(ref i);
            }
        }
        return null;
    }

    private static string[] Load()
    {
        var values = Enum.GetValues<TEnum>();
        for (var i = 0; i < values.Length; i++)
        {
            if (Unsafe.SizeOf<TEnum>() != sizeof(int) || Unsafe.As<TEnum, int>(ref values[i]) != i)
            {
                throw new InvalidOperationException($"{typeof(TEnum).Name} must number its members 0, 1, 2, ... to be named by {nameof(EnumNames<TEnum>)}.");
            }
        }
        return [.. Enum.GetNames<TEnum>().Select(SnakeCase)];
    }

    private static string SnakeCase(string member)
    {
        var name = new StringBuilder(member.Length + 4);
        foreach (var c in member)
        {
            if (char.IsUpper(c) && name.Length > 0)
            {
                name.Append('_');
            }
            name.Append(char.ToLowerInvariant(c));
        }
        return name.ToString();
    }
}

internal static class EnumNameExtensions
{
    /// <summary>The value's name as it leaves the code (<see cref="EnumNames{TEnum}"/>).</summary>
    public static string Name<TEnum>(this TEnum value) where TEnum : struct, Enum => EnumNames<TEnum>.Of(value);
}
