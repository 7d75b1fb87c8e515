# syntax=docker/dockerfile:1
# Build: the .NET AOT SDK image compiles one native executable.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble-aot AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props NativeStartup.props .editorconfig ./
COPY src/CloudProviders/CloudProviders.csproj src/CloudProviders/
RUN dotnet restore src/CloudProviders -r linux-x64
COPY src/ src/
RUN dotnet publish src/CloudProviders -c Release -r linux-x64 --no-restore -o /app \
    && rm -f /app/*.dbg \
    && mkdir -p /owned/data

# Run: chiseled runtime-deps (no shell, no package manager), non-root.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled AS final
COPY --from=build /app/ /app/
# SQLite's WAL needs the database folder writable by the app user. Copying the folder that
# holds data/ (not data/ itself) gives /data its owner too.
COPY --from=build --chown=1654:1654 /owned/ /
USER 1654
WORKDIR /data
ENV ASPNETCORE_URLS=http://+:8080 \
    Logging__Console__FormatterName=json \
    Database__Path=/data/cloud-providers.db
EXPOSE 8080
VOLUME /data
ENTRYPOINT ["/app/cloud-providers"]
CMD ["serve"]
