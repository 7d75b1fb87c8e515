using System.Net.Sockets;
using Npgsql;

namespace CloudProviders.Storage;

/// <summary>A PostgreSQL fault, told to an operator in plain words: what is wrong, and what to do. Never the server's own text, which may quote input.</summary>
internal static class PostgresErrors
{
    public static string Describe(NpgsqlException exception) => exception switch
    {
        PostgresException { SqlState: "28P01" or "28000" } =>
            "PostgreSQL refused the user name or password; check Username in Database:ConnectionString and the password (Database:PasswordFile).",
        PostgresException { SqlState: "3D000" } =>
            "The database in Database:ConnectionString does not exist on the PostgreSQL server; create it (createdb), owned by the service's user.",
        PostgresException { SqlState: "42501" } =>
            "The PostgreSQL user lacks a permission the service needs; it must own the service's database (or its schema).",
        PostgresException { SqlState: "53300" } =>
            "The PostgreSQL server has no connection slot free; raise max_connections or lower Maximum Pool Size, then try again.",
        PostgresException { SqlState: ['0', '8', ..] or ['5', '7', 'P', ..] } =>
            "The connection to PostgreSQL was lost; try again when the server is back.",
        PostgresException { SqlState: "57014" } or { InnerException: TimeoutException } =>
            "PostgreSQL did not answer in time; check that the server is up and not overloaded, then try again.",
        { InnerException: SocketException } or { InnerException: IOException } =>
            "The PostgreSQL server cannot be reached; check that it is running and that Host and Port in Database:ConnectionString point at it.",
        _ when exception.InnerException is System.Security.Authentication.AuthenticationException =>
            "TLS to PostgreSQL failed: the server's certificate was not accepted; check SSL Mode and Root Certificate in Database:ConnectionString.",
        _ => "The PostgreSQL database could not be used; check the server and Database:ConnectionString, then try again.",
    };
}
