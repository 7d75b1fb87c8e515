using System.Data.Common;

namespace CloudProviders.Storage;

/// <summary>
/// The storage engine: an embedded SQLite file, or a PostgreSQL database a fleet shares. The
/// stores speak portable SQL through ADO.NET; what differs between engines (how a write is
/// serialised, how other instances hear of it, how the schema is versioned) is said here.
/// </summary>
internal abstract class Database
{
    /// <summary>What an operator knows the database by, in messages: the file's path, or the server and database name. Never a password.</summary>
    public abstract string Name { get; }

    /// <summary>A replica: every connection is read-only, and nothing creates or migrates the database.</summary>
    public virtual bool ReadOnly => false;

    /// <summary>Whether there is anything yet to check a master key against (a SQLite file that does not exist holds nothing).</summary>
    public virtual bool MayHoldData => true;

    /// <summary>Appended to a SELECT whose row a write depends on: locks the row until commit where writers do not already exclude each other.</summary>
    public virtual string ForUpdate => "";

    /// <summary>Like <see cref="ForUpdate"/>, but other readers that lock the same way may share it.</summary>
    public virtual string ForShare => "";

    /// <summary>A pooled connection, opened. It never creates the database.</summary>
    public abstract DbConnection Open();

    /// <summary>Begins a write: a transaction in which the rows a write reads and then changes stay as read.</summary>
    public abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>Inside a write's transaction, just before it commits: tells every other instance that data changed, if they need telling.</summary>
    public virtual void AnnounceChange(DbConnection connection, DbTransaction transaction) { }

    /// <summary>Just after a write of this process commits: its own next read must see it, whatever other instances hear.</summary>
    public virtual void Committed() { }

    /// <summary>After a request failed on the database: connections that saw the fault are not handed out again.</summary>
    public virtual void AfterFault(DbException fault) { }

    /// <summary>Creates the schema if needed and applies pending migrations, all or none.</summary>
    /// <returns>The version the database had before.</returns>
    /// <exception cref="SchemaException">The database is from a newer binary.</exception>
    public abstract int Migrate();

    /// <summary>The schema version the database has; 0 for an empty one.</summary>
    public abstract int ReadVersion(DbConnection connection, DbTransaction? transaction = null);

    /// <summary>Readiness: the database answers and has exactly this binary's schema version.</summary>
    public bool IsReady(out string problem)
    {
        try
        {
            using var connection = Open();
            var version = ReadVersion(connection);
            problem = version == Schema.Version
                ? ""
                : $"The database schema is version {version}; this binary serves version {Schema.Version}.";
        }
        catch (DbException)
        {
            problem = "The database cannot be opened.";
        }
        return problem.Length == 0;
    }

    /// <summary>How this process learns that the data may have changed, so that its read caches stay exact.</summary>
    public abstract IChangeWatch WatchChanges(TimeProvider time);

    /// <summary>A write from start to commit: open, begin, change, announce, commit.</summary>
    public Write BeginWrite() => new(this);
}

/// <summary>Tells whether the database may have changed since the last look, by any process.</summary>
internal interface IChangeWatch
{
    /// <summary>A number that moves whenever the database may have changed; a cached read is exact while it stays.</summary>
    /// <exception cref="DbException">The database cannot be reached.</exception>
    long CheckForChanges();
}

/// <summary>One write transaction on its own connection. Disposed without <see cref="Commit"/>, it changes nothing.</summary>
internal sealed class Write : IDisposable
{
    public Write(Database database)
    {
        Database = database;
        Connection = database.Open();
        try
        {
            Transaction = database.BeginWrite(Connection);
        }
        catch
        {
            Connection.Dispose();
            throw;
        }
    }

    public Database Database { get; }

    public DbConnection Connection { get; }

    public DbTransaction Transaction { get; }

    public DbCommand Command(string sql) => Connection.Command(sql, Transaction);

    public void Commit()
    {
        Database.AnnounceChange(Connection, Transaction);
        Transaction.Commit();
        Database.Committed();
    }

    /// <summary>
    /// Commits a write that changes nothing a read cache holds (when a key was last used): no
    /// instance is told, and no cache is dropped.
    /// </summary>
    public void CommitUnannounced() => Transaction.Commit();

    public void Dispose()
    {
        Transaction.Dispose();
        Connection.Dispose();
    }
}

/// <summary>ADO.NET without a provider's own types: every parameter is named <c>@name</c>, which both engines accept.</summary>
internal static class Sql
{
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }
}
