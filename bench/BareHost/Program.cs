// A bare host answering the status path with a constant: what any service on this stack pays
// before its own start-up work. Listens where --urls says.
var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
builder.Configuration.AddCommandLine(args);
builder.WebHost.UseKestrelCore();
builder.Services.AddRoutingCore();
var app = builder.Build();
app.UseRouting();
app.MapGet("/api/v1/cloud-providers/comfy-cloud", () => "{}");
app.Run();
