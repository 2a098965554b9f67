# syntax=docker/dockerfile:1
# Ledgerbot's image: the release binary on a slim Debian. Everything it serves (the
# migrations, the Mini App) is compiled into the binary; files go to /var/lib/ledgerbot.
#   docker build -t ledgerbot .
#   docker run --rm ledgerbot config        # the effective settings
# The same binary runs every part: `serve` (API, bot), `relay`, `workers`, `migrate`.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the build folder are cached between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin ledgerbot \
 && install -D target/release/ledgerbot /out/ledgerbot

FROM debian:bookworm-slim
# curl for the health check; tini reaps and forwards signals (graceful stop on SIGTERM).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/ledgerbot --create-home ledgerbot
COPY --from=build /out/ledgerbot /usr/local/bin/ledgerbot
# The files folder exists, owned by the service, so an empty volume mounted on it
# takes that ownership.
RUN install -d -o ledgerbot -g ledgerbot /var/lib/ledgerbot/files
USER ledgerbot
WORKDIR /var/lib/ledgerbot
ENV LEDGERBOT_HTTP_ADDR=0.0.0.0:8080 \
    LEDGERBOT_FILES_DIR=/var/lib/ledgerbot/files \
    LEDGERBOT_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health/ready >/dev/null || exit 1
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/ledgerbot"]
CMD ["serve"]
