using System.Security.Cryptography;
using CloudProviders.Tests.Support;
using Microsoft.Data.Sqlite;

namespace CloudProviders.Tests.Unit;

/// <summary>The suite's leak detector must itself be able to fail: each shape of secret, caught.</summary>
public sealed class SecretLedgerTests
{
    [Fact]
    public void An_api_keys_secret_part_is_a_leak_and_its_public_id_is_not()
    {
        var key = "sk-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(22));
        SecretLedger.Record(key);
        SecretLedger.AssertClean("a log", $"caller=sk actor={key[..12]}");
        Assert.Throws<SecretLeakException>(() => SecretLedger.AssertClean("a log", $"token {key[12..]}"));
    }

    [Fact]
    public void A_comfyui_key_may_show_as_its_preview_but_not_what_the_preview_hides()
    {
        var key = "comfyui-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        SecretLedger.Record(key);
        SecretLedger.AssertClean("a body", $$"""{"key_preview":"{{key[..8]}}...{{key[^4..]}}"}""");
        Assert.Throws<SecretLeakException>(() => SecretLedger.AssertClean("a body", key[8..^4]));
    }

    [Fact]
    public void A_jwts_signature_in_an_authorization_value_is_a_leak()
    {
        var token = TestKeys.Hs256("ledger-" + Guid.NewGuid().ToString("N"));
        SecretLedger.RecordAuthorization("Bearer " + token);
        var error = Assert.Throws<SecretLeakException>(() => SecretLedger.AssertClean("a log", "sig=" + token.Split('.')[2]));
        Assert.DoesNotContain(token.Split('.')[2], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_stored_in_plain_form_in_a_database_file_is_found()
    {
        var folder = Directory.CreateTempSubdirectory("cloud-providers-ledger-");
        try
        {
            var path = Path.Combine(folder.FullName, "plain.db");
            var key = "comfyui-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            SecretLedger.Record(key);
            using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE t(v TEXT); INSERT INTO t VALUES ($v);";
                command.Parameters.AddWithValue("$v", key);
                command.ExecuteNonQuery();
                Assert.Throws<SecretLeakException>(() => SecretLedger.AssertDatabaseClean(path));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
