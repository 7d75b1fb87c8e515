using System.Collections.Concurrent;

namespace CloudProviders.Http;

/// <summary>
/// At most one act per team in each period, on this instance: a team's next act is refused until
/// the period since its last one has passed. Kept in memory, bounded by the teams active within
/// one period.
/// </summary>
internal sealed class TeamCooldown(TimeProvider time, TimeSpan period)
{
    /// <summary>How often a team may test a key against its provider: the service is no way to hammer the provider, or to probe keys.</summary>
    public static readonly TimeSpan KeyTestPeriod = TimeSpan.FromSeconds(10);

    /// <summary>Past this many teams, those whose period is over are forgotten.</summary>
    private const int PruneAbove = 10_000;

    private readonly ConcurrentDictionary<Guid, long> _last = new();

    public TimeSpan Period => period;

    /// <returns>Whether the team may act now (its turn is taken: <paramref name="turn"/>); if not, how long until it may.</returns>
    public bool TryStart(Guid teamId, out long turn, out TimeSpan retryAfter)
    {
        var now = time.GetTimestamp();
        var periodTicks = (long)(period.TotalSeconds * time.TimestampFrequency);
        while (true)
        {
            if (_last.TryGetValue(teamId, out var last))
            {
                var elapsed = now - last;
                if (elapsed < periodTicks)
                {
                    retryAfter = TimeSpan.FromSeconds((double)(periodTicks - elapsed) / time.TimestampFrequency);
                    turn = 0;
                    return false;
                }
                if (!_last.TryUpdate(teamId, now, last))
                {
                    continue;
                }
            }
            else if (!_last.TryAdd(teamId, now))
            {
                continue;
            }
            break;
        }
        if (_last.Count > PruneAbove)
        {
            foreach (var (team, last) in _last)
            {
                if (now - last >= periodTicks)
                {
                    _last.TryRemove(new KeyValuePair<Guid, long>(team, last));
                }
            }
        }
        retryAfter = TimeSpan.Zero;
        turn = now;
        return true;
    }

    /// <summary>Gives a turn back that was not used (the act never happened), unless a later one took its place.</summary>
    public void Release(Guid teamId, long turn) => _last.TryRemove(new KeyValuePair<Guid, long>(teamId, turn));
}
