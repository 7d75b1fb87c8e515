using System.Text.RegularExpressions;
using CloudProviders.Storage;

namespace CloudProviders.Tests.Unit;

/// <summary>
/// SQLite's and PostgreSQL's schemas are written in two dialects, version by version: these tests
/// hold them to the same rules, so that an invariant added to one engine and not the other fails
/// here. Types differ by dialect and are left out; every CHECK, key, reference and index counts.
/// </summary>
public sealed partial class SchemaParityTests
{
    [Fact]
    public void Both_engines_have_the_same_versions() =>
        Assert.Equal(Schema.Migrations.Length, PostgresSchema.Migrations.Length);

    [Fact]
    public void Every_version_has_the_same_checks_keys_and_indexes_on_both_engines()
    {
        var differences = new List<string>();
        for (var version = 0; version < Schema.Migrations.Length; version++)
        {
            differences.AddRange(Differences(Sqlite(Schema.Migrations[version]), PostgresSchema.Migrations[version]).Select(d => $"version {version + 1}, {d}"));
        }
        Assert.Empty(differences);
    }

    [Theory]
    [InlineData("role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer'))", "role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member'))")]
    [InlineData("prefix TEXT NOT NULL UNIQUE", "prefix TEXT NOT NULL")]
    [InlineData("team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE", "team_id TEXT NOT NULL REFERENCES teams (id)")]
    [InlineData("name TEXT NOT NULL", "name TEXT")]
    public void A_rule_missing_on_one_side_is_seen(string sqlite, string postgres) =>
        Assert.NotEmpty(Differences(Sqlite($"CREATE TABLE t (\n    {sqlite}\n);"), $"CREATE TABLE t (\n    {postgres}\n);"));

    [Fact]
    public void An_index_missing_on_one_side_is_seen() =>
        Assert.Equal(["only SQLite: CREATE INDEX t_a ON t (a)"], Differences("CREATE TABLE t (a text);\nCREATE INDEX t_a ON t (a);", "CREATE TABLE t (a text);"));

    /// <summary>
    /// SQLite's spelling of what PostgreSQL's types say: a boolean is an integer held to 0 and 1,
    /// and the schema version is a pragma rather than a table.
    /// </summary>
    private static string Sqlite(string ddl) => ddl
        .Replace("CHECK (cloud_fallback IN (0, 1))", "", StringComparison.Ordinal)
        .Replace("cloud_fallback = 0", "NOT cloud_fallback", StringComparison.Ordinal);

    private static List<string> Differences(string sqlite, string postgres)
    {
        var (left, right) = (Rules(sqlite), Rules(postgres));
        return [.. left.Except(right).Select(rule => $"only SQLite: {rule}"), .. right.Except(left).Select(rule => $"only PostgreSQL: {rule}")];
    }

    /// <summary>Every rule of every table and index, one line each, without the columns' types.</summary>
    private static SortedSet<string> Rules(string ddl)
    {
        var rules = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var statement in ddl.Split(';'))
        {
            if (AddColumn().Match(statement) is { Success: true } added)
            {
                rules.Add(ColumnRule(added.Groups["table"].Value, Normalize(added.Groups["column"].Value)));
                continue;
            }
            if (CreateTable().Match(statement) is not { Success: true } table)
            {
                continue;
            }
            var name = table.Groups["name"].Value;
            if (EngineOwn.Contains(name))
            {
                continue;
            }
            foreach (var item in TopLevelItems(table.Groups["body"].Value))
            {
                var words = Normalize(item);
                if (words.StartsWith("PRIMARY KEY", StringComparison.Ordinal) || words.StartsWith("CHECK", StringComparison.Ordinal) || words.StartsWith("UNIQUE", StringComparison.Ordinal))
                {
                    rules.Add($"{name}: {words}");
                    continue;
                }
                rules.Add(ColumnRule(name, words));
            }
        }
        foreach (Match index in CreateIndex().Matches(ddl))
        {
            rules.Add(Normalize(index.Value));
        }
        return rules;
    }

    /// <summary>
    /// Each engine's own bookkeeping: PostgreSQL's version table (SQLite keeps the version in
    /// PRAGMA user_version), and SQLite's count of the changes its change watch reads (PostgreSQL
    /// announces changes with NOTIFY instead).
    /// </summary>
    private static readonly string[] EngineOwn = ["schema_version", "data_changes"];

    /// <summary>A column: its name, then its constraints without its type (the first word or two).</summary>
    private static string ColumnRule(string table, string definition)
    {
        var column = definition.Split(' ', 2);
        var constraints = TypeWords().Replace(column.Length > 1 ? column[1] : "", "").Trim();
        // A primary key is not null on both engines, whether it says so or not.
        if (constraints.Contains("PRIMARY KEY", StringComparison.Ordinal))
        {
            constraints = constraints.Replace("NOT NULL", "", StringComparison.Ordinal);
        }
        return $"{table}.{column[0]}: {Normalize(constraints)}";
    }

    /// <summary>The comma-separated items of a table's body, commas inside parentheses kept.</summary>
    private static IEnumerable<string> TopLevelItems(string body)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < body.Length; i++)
        {
            depth += body[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (body[i] == ',' && depth == 0)
            {
                yield return body[start..i];
                start = i + 1;
            }
        }
        yield return body[start..];
    }

    private static string Normalize(string text) => Spaces().Replace(text, " ").Trim();

    /// <summary>A table's name and body: everything between the first parenthesis and the last.</summary>
    [GeneratedRegex(@"CREATE TABLE (?<name>\w+) \((?<body>.*)\)", RegexOptions.Singleline)]
    private static partial Regex CreateTable();

    [GeneratedRegex(@"ALTER TABLE (?<table>\w+) ADD COLUMN (?<column>[^;]+)")]
    private static partial Regex AddColumn();

    [GeneratedRegex(@"CREATE INDEX [^;]+")]
    private static partial Regex CreateIndex();

    /// <summary>The dialects' column types, and PostgreSQL's identity, which SQLite's INTEGER PRIMARY KEY is.</summary>
    [GeneratedRegex(@"^(TEXT|INTEGER|BLOB|text|bigint|integer|bytea|boolean)\b( GENERATED BY DEFAULT AS IDENTITY)?")]
    private static partial Regex TypeWords();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
