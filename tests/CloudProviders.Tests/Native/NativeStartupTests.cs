using System.Buffers.Binary;
using System.Collections;
using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using CloudProviders.Domain;
using CloudProviders.Storage;
using CloudProviders.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CloudProviders.Tests.Native;

/// <summary>
/// The start-up work that <c>NativeStartup.props</c> takes off the executable: the zero-filled data
/// populated in one system call (<c>NativeStartup.c</c>), the generic types the container makes at
/// start compiled ahead of time (<c>NativeStartup.rd.xml</c>), and the managed code laid out in the
/// order start-up runs it (<c>NativeStartup.order</c>).
/// </summary>
[Trait(TestEngine.Trait, TestEngine.SqliteOnly)]
public sealed partial class NativeStartupTests
{
    private const int PageSize = 4096;

    [Fact]
    public void A_start_takes_fewer_page_faults_than_the_runtime_data_has_pages()
    {
        var zeroFilled = ZeroFilledPages(NativeBinary.DefaultPath);
        // Several MB of runtime data: a range this test can tell from the process's other faults.
        Assert.True(zeroFilled > 256, $"{zeroFilled} zero-filled pages");

        // Each of those pages is written at start; faulted one by one, they alone would be more.
        var faults = PageFaults(NativeBinary.DefaultPath, "--version");
        Assert.True(faults < zeroFilled, $"--version took {faults} page faults; the zero-filled data has {zeroFilled} pages");
    }

    [Fact]
    public async Task The_code_a_start_runs_up_to_the_first_answer_lies_together()
    {
        var (codeAddress, codeSize) = Section(NativeBinary.DefaultPath, "__managedcode");
        var codePages = codeSize / PageSize;
        // Megabytes of managed code: a test that found a few pages would tell nothing.
        Assert.True(codePages > 512, $"{codePages} pages of managed code");

        using var bin = new NativeBinary(NativeBinary.DefaultPath);
        var sk = bin.SeedTeam(Guid.NewGuid().ToString());
        var server = await bin.ServeAsync();
        try
        {
            using var client = server.Client(sk);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(HttpAssert.StatusPath)).StatusCode);

            // The kernel maps the pages around each page a process touches (fault-around), so code
            // spread over the image makes nearly all of it resident; laid out in the order start-up
            // runs it, the pages a start maps are the few it runs, and the rest stay on disk.
            var resident = ResidentPages(server.Process.Id, NativeBinary.DefaultPath, codeAddress, codePages);
            Assert.True(resident * 2 < codePages,
                $"{resident} of the {codePages} pages of managed code are resident after the first answer: more than half. " +
                "NativeStartup.order no longer matches what start-up runs; write it again with `bash bench/startup-order.sh`.");
        }
        finally
        {
            await server.StopAsync();
        }
    }

    [Fact]
    public async Task The_generic_types_the_container_makes_up_to_the_first_answer_are_the_ones_compiled_ahead()
    {
        var made = await GenericTypesMadeUpToTheFirstAnswer();
        // The host, Kestrel and routing make some at every start: a test that found none would see nothing.
        Assert.Contains("Microsoft.Extensions.Options.OptionsFactory`1[[Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions,Microsoft.AspNetCore.Server.Kestrel.Core]]", made);

        var listed = ListedTypes().Select(m => m.Groups["type"].Value).ToHashSet();
        Assert.True(made.SetEquals(listed),
            "NativeStartup.rd.xml does not match the generic types the container makes at start. " +
            $"Missing: {string.Join(", ", made.Except(listed))}. Not made any more: {string.Join(", ", listed.Except(made))}.");
    }

    /// <summary>
    /// The real app on Kestrel with the in-process tests' settings (on the JIT, where the container's
    /// call sites can be read), started and asked for a status with an <c>sk-</c> key, as the
    /// benchmark's cold start is; its database checked for secrets when the settings go. Then every
    /// service the container built from an open generic registration, by its implementation type.
    /// </summary>
    private static async Task<HashSet<string>> GenericTypesMadeUpToTheFirstAnswer()
    {
        using var settings = new ServiceFactory();
        var app = App.Build([.. settings.Arguments, "--urls=http://127.0.0.1:0"]);
        try
        {
            App.Initialize(app.Services);
            var team = Guid.NewGuid();
            app.Services.GetRequiredService<TeamStore>().AddTeam(team, "start");
            var key = app.Services.GetRequiredService<ApiKeyStore>().Create(team, ApiKeyKind.Sk, null, null)!;
            SecretLedger.Record(key);
            app.Services.GetRequiredService<CredentialStore>().Set(team, Provider.ComfyCloud, ServiceFactory.ComfyKey, cloudFallback: false, Actor.Cli);
            await app.StartAsync();
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(HttpAssert.StatusPath)).StatusCode);
            return MadeFromOpenGenerics(app.Services);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>The container's call-site cache, read by reflection: it has no public view of what it built.</summary>
    private static HashSet<string> MadeFromOpenGenerics(IServiceProvider services)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var factory = services.GetType().GetProperty("CallSiteFactory", Any)?.GetValue(services)
            ?? throw new InvalidOperationException("The container's CallSiteFactory is not where it was: update this test for the new version.");
        var cache = factory.GetType().GetField("_callSiteCache", Any)?.GetValue(factory) as IDictionary
            ?? throw new InvalidOperationException("The container's call-site cache is not where it was: update this test for the new version.");
        var made = new HashSet<string>(StringComparer.Ordinal);
        foreach (var callSite in cache.Values)
        {
            if (callSite!.GetType().Name == "ConstructorCallSite"
                && callSite.GetType().GetProperty("ImplementationType", Any)?.GetValue(callSite) is Type { IsConstructedGenericType: true } type)
            {
                made.Add(RdXmlName(type));
            }
        }
        return made;
    }

    /// <summary>A type's name as the runtime directives spell it: generic arguments as [[name,assembly]].</summary>
    private static string RdXmlName(Type type) => type.IsConstructedGenericType
        ? $"{type.GetGenericTypeDefinition().FullName}[{string.Join(",", type.GetGenericArguments().Select(a => $"[{RdXmlName(a)},{a.Assembly.GetName().Name}]"))}]"
        : type.FullName!;

    private static MatchCollection ListedTypes() =>
        TypeEntry().Matches(File.ReadAllText(Path.Combine(Repository.Root, "NativeStartup.rd.xml")));

    [GeneratedRegex("<Type Name=\"(?<type>[^\"]+)\"")]
    private static partial Regex TypeEntry();

    /// <summary>The pages of the executable's writable segments that the file does not hold (its .bss and .hydrated data), from its ELF program headers.</summary>
    private static long ZeroFilledPages(string path)
    {
        var image = File.ReadAllBytes(path);
        Assert.Equal("\u007fELF"u8.ToArray(), image[..4]);
        var headers = (long)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(0x20));
        var size = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x36));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x38));
        long pages = 0;
        for (var i = 0; i < count; i++)
        {
            var header = image.AsSpan((int)(headers + (i * size)), size);
            const uint Load = 1, Writable = 2;
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Load || (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) & Writable) == 0)
            {
                continue;
            }
            var address = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
            var inFile = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
            var inMemory = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[40..]);
            var start = (address + inFile + PageSize - 1) / PageSize;
            var end = (address + inMemory + PageSize - 1) / PageSize;
            pages += Math.Max(0, end - start);
        }
        return pages;
    }

    /// <summary>A section's address and size, from the executable's ELF section headers.</summary>
    private static (long Address, long Size) Section(string path, string name)
    {
        var image = File.ReadAllBytes(path);
        var headers = (long)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(0x28));
        var size = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x3A));
        var count = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x3C));
        var names = image.AsSpan((int)(headers + (BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x3E)) * size)), size);
        var strings = (int)BinaryPrimitives.ReadUInt64LittleEndian(names[24..]);
        for (var i = 0; i < count; i++)
        {
            var header = image.AsSpan((int)(headers + (i * size)), size);
            var start = strings + (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
            var end = Array.IndexOf(image, (byte)0, start);
            if (System.Text.Encoding.ASCII.GetString(image, start, end - start) == name)
            {
                return ((long)BinaryPrimitives.ReadUInt64LittleEndian(header[16..]), (long)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]));
            }
        }
        throw new InvalidOperationException($"{path} has no {name} section");
    }

    /// <summary>
    /// How many of the pages from the address (in the executable's terms) are mapped in the
    /// process: /proc/PID/pagemap's present bit, at the executable's load address from /proc/PID/maps.
    /// </summary>
    private static long ResidentPages(int pid, string executable, long address, long pages)
    {
        var name = "/" + Path.GetFileName(executable);
        var mapping = File.ReadLines($"/proc/{pid}/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .First(fields => fields.Length >= 6 && fields[5].EndsWith(name, StringComparison.Ordinal) && fields[2] == "00000000");
        var loadAddress = Convert.ToInt64(mapping[0][..mapping[0].IndexOf('-', StringComparison.Ordinal)], 16);
        var entries = new byte[pages * 8];
        using (var pagemap = File.OpenRead($"/proc/{pid}/pagemap"))
        {
            pagemap.Position = (loadAddress + address) / PageSize * 8;
            pagemap.ReadExactly(entries);
        }
        long resident = 0;
        for (var i = 0; i < pages; i++)
        {
            resident += (long)(BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(i * 8)) >> 63);
        }
        return resident;
    }

    /// <summary>
    /// The page faults one run takes, as <c>perf stat</c> counts them: the faults the processor
    /// raised. (The kernel's own per-process count, in /proc and getrusage, also counts the pages
    /// a populate call fills, so it cannot tell the two apart.)
    /// </summary>
    private static long PageFaults(string path, string argument)
    {
        using var perf = Process.Start(new ProcessStartInfo("perf", ["stat", "-x", ",", "-e", "page-faults", "--", path, argument])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _ = perf.StandardOutput.ReadToEnd();
        var counts = perf.StandardError.ReadToEnd();
        perf.WaitForExit();
        Assert.Equal(0, perf.ExitCode);
        var line = counts.Split('\n').Single(l => l.Contains(",page-faults", StringComparison.Ordinal));
        return long.Parse(line[..line.IndexOf(',', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }
}
