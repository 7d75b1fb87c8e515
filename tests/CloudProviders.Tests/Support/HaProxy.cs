using System.Diagnostics;

namespace CloudProviders.Tests.Support;

/// <summary>
/// A throwaway HAProxy (Debian's, which <c>tests/run.sh</c> installs) in front of servers on the
/// given loopback ports, configured as docs/operations.md says a fleet's balancer should be: an
/// active health check on <c>/readyz</c> every 100 ms, a server taken out after two failed checks
/// and put back after two passed ones, no request tried again elsewhere (as a Kubernetes Service
/// does not: only the instances' drain keeps a request from an instance that stopped), and, when
/// no server is ready (the shared database is down), requests still sent to the live ones, which
/// answer 503 with <c>Retry-After</c> themselves.
/// </summary>
internal sealed class HaProxy : ServerProcess
{
    public HaProxy(IReadOnlyList<int> serverPorts) : base("haproxy")
    {
        var servers = string.Join("\n", serverPorts.Select((port, i) => $"    server s{i} 127.0.0.1:{port} check"));
        var check = "    default-server inter 100ms fall 2 rise 2";
        var config = Path.Combine(Folder, "haproxy.cfg");
        File.WriteAllText(config, $$"""
            global
                maxconn 1000

            defaults
                mode http
                timeout connect 1s
                timeout client 30s
                timeout server 30s
                retries 0

            frontend fleet
                bind 127.0.0.1:{{Port}}
                use_backend ready if { nbsrv(ready) gt 0 }
                default_backend live

            backend ready
                balance roundrobin
                option httpchk GET /readyz
                http-check expect status 200
            {{check}}
            {{servers}}

            backend live
                balance roundrobin
                option httpchk GET /healthz
                http-check expect status 200
            {{check}}
            {{servers}}

            """);
        Start(new ProcessStartInfo("haproxy", ["-f", config, "-db"]));
    }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");
}
