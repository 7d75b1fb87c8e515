using System.Net;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CloudProviders.Tests.Api;

/// <summary>
/// When each API key last authenticated a request: noted in memory by the request path, written
/// at most once a minute in one statement, and never a reason for any cache to be dropped.
/// </summary>
public sealed class KeyUseTests : IDisposable
{
    private readonly TestClock _clock = new();
    private readonly ServiceFactory _app;

    public KeyUseTests()
    {
        _app = new ServiceFactory(null, services => services.AddSingleton<TimeProvider>(_clock));
        _app.SeedTeamA();
    }

    public void Dispose() => _app.Dispose();

    /// <summary>
    /// The watch's number once it holds still: on PostgreSQL the fixture's own writes come back
    /// as notifications a little after their commits, and each moves it. One that never holds
    /// still (a watch that hears nothing, and so trusts nothing) fails the test.
    /// </summary>
    private static async Task<long> Settled(IChangeWatch watch)
    {
        var last = watch.CheckForChanges();
        for (var attempt = 0; attempt < 25; attempt++)
        {
            await Task.Delay(200);
            var now = watch.CheckForChanges();
            if (now == last)
            {
                return now;
            }
            last = now;
        }
        Assert.Fail("The change watch's number never held still for 200 ms.");
        return last;
    }

    private ApiKeyInfo Listed(string key) => _app.Get<ApiKeyStore>().List(ServiceFactory.TeamA).Single(k => k.Prefix == key[..12]);

    private async Task Use(string key)
    {
        using var client = _app.ClientWith(key);
        await HttpAssert.Json(await client.GetAsync(HttpAssert.StatusPath), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_use_is_written_to_the_minute_when_the_notes_are_flushed_and_not_before()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        await Use(key);
        Assert.Null(Listed(key).LastUsedAt);
        Assert.Equal(1, _app.Get<KeyUses>().Flush());
        var minute = DateTimeOffset.FromUnixTimeSeconds(_clock.GetUtcNow().ToUnixTimeSeconds() / 60 * 60);
        Assert.Equal(minute, Listed(key).LastUsedAt);
    }

    [Fact]
    public async Task Stopping_ends_the_minute_flushes_without_an_exception()
    {
        // A cancelled timer wait ends in an exception whose stack trace is formatted at once: on
        // the native build, every method's name looked up and sorted, at every stop.
        var raised = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Record(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (e.Exception is OperationCanceledException && e.Exception.StackTrace?.Contains(nameof(KeyUses), StringComparison.Ordinal) == true)
            {
                raised.Enqueue(e.Exception.StackTrace);
            }
        }
        AppDomain.CurrentDomain.FirstChanceException += Record;
        try
        {
            var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
            await Use(key); // the first note starts the flushes
            _app.Get<KeyUses>().FlushOnStop();
            Assert.NotNull(Listed(key).LastUsedAt);
            await Task.Delay(1000); // the wait ends on the thread pool
            Assert.Empty(raised);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Record;
        }
    }

    [Fact]
    public async Task Many_uses_in_a_minute_are_one_note()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Dk);
        for (var i = 0; i < 5; i++)
        {
            await Use(key);
        }
        Assert.Equal(1, _app.Get<KeyUses>().Flush());
        Assert.Equal(0, _app.Get<KeyUses>().Flush());
    }

    [Fact]
    public async Task A_later_use_moves_the_time_forward()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        await Use(key);
        _app.Get<KeyUses>().Flush();
        var first = Listed(key).LastUsedAt;
        _clock.Advance(TimeSpan.FromMinutes(3));
        await Use(key);
        _app.Get<KeyUses>().Flush();
        Assert.Equal(first + TimeSpan.FromMinutes(3), Listed(key).LastUsedAt);
    }

    [Fact]
    public async Task Writing_the_uses_drops_no_cache()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        await Use(key);
        var watch = _app.Get<IChangeWatch>();
        var before = await Settled(watch);
        Assert.Equal(1, _app.Get<KeyUses>().Flush());
        // Long enough for another instance's notification to arrive, were there one.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(before, watch.CheckForChanges());
    }

    [Fact]
    public async Task A_change_to_a_key_still_drops_the_caches()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        await Use(key);
        var watch = _app.Get<IChangeWatch>();
        var before = watch.CheckForChanges();
        Assert.True(_app.Get<ApiKeyStore>().Revoke(key[..12]));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (watch.CheckForChanges() == before)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "The revocation was not seen within 10 s.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public void A_key_is_idle_from_its_creation_until_it_is_used()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        Assert.False(Listed(key).IdleFor(TimeSpan.FromDays(1), _clock.GetUtcNow()));
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.True(Listed(key).IdleFor(TimeSpan.FromDays(1), _clock.GetUtcNow()));
    }

    [Fact]
    public async Task A_used_key_is_idle_only_once_the_period_has_passed_since_its_last_use()
    {
        var key = _app.CreateKey(ServiceFactory.TeamA, ApiKeyKind.Sk);
        _clock.Advance(TimeSpan.FromDays(5));
        await Use(key);
        _app.Get<KeyUses>().Flush();
        Assert.False(Listed(key).IdleFor(TimeSpan.FromDays(1), _clock.GetUtcNow()));
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.True(Listed(key).IdleFor(TimeSpan.FromDays(1), _clock.GetUtcNow()));
    }
}
