# syntax=docker/dockerfile:1
# Two flavours from one file: the default edge image (SQLite only), or, with
# --build-arg POSTGRES=true, the fleet image that also speaks PostgreSQL.
ARG POSTGRES=false

# Build: the .NET AOT SDK image compiles one native executable.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble-aot AS build
ARG POSTGRES
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props NativeStartup.props NativeStartup.c NativeStartup.rd.xml NativeStartup.order .editorconfig ./
COPY src/CloudProviders/CloudProviders.csproj src/CloudProviders/
RUN dotnet restore src/CloudProviders -r linux-x64 -p:Postgres=${POSTGRES}
COPY src/ src/
# The API description the executable serves.
COPY docs/openapi/ docs/openapi/
RUN dotnet publish src/CloudProviders -c Release -r linux-x64 --no-restore -p:Postgres=${POSTGRES} -o /app \
    && rm -f /app/*.dbg \
    && mkdir -p /owned/data

# Run: chiseled runtime-deps (no shell, no package manager), non-root.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled AS runtime
COPY --from=build /app/ /app/
# SQLite's WAL needs the database folder writable by the app user. Copying the folder that
# holds data/ (not data/ itself) gives /data its owner too.
COPY --from=build --chown=1654:1654 /owned/ /
USER 1654
WORKDIR /data
ENV ASPNETCORE_URLS=http://+:8080 \
    Logging__Console__FormatterName=json
EXPOSE 8080
ENTRYPOINT ["/app/cloud-providers"]
CMD ["serve"]

# The edge image keeps its SQLite file in the /data volume.
FROM runtime AS final-false
ENV Database__Path=/data/cloud-providers.db
VOLUME /data

# The fleet image is told its database: Database__Engine=postgres and Database__ConnectionString.
FROM runtime AS final-true

FROM final-${POSTGRES}
