# syntax=docker/dockerfile:1
# One image holds all five Kursi binaries; the container's command picks one:
#   docker run kursi auth-svc serve | reservation-svc | catalog-svc | order-svc | edge
# docker-compose.yml builds and runs it. Build: docker build -t kursi .

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---- build: everything compiles with cargo alone (protox, no protoc; no libpq)
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target/ between builds, so a code change
# does not recompile every dependency. target/ is a cache, not a layer, so the
# binaries are copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
        -p auth-svc -p reservation-svc -p catalog-svc -p order-svc -p edge \
 && mkdir -p /out \
 && for bin in auth-svc reservation-svc catalog-svc order-svc edge; do \
        cp "target/release/$bin" /out/; \
    done

# ---- runtime: slim Debian of the same release (same glibc), non-root
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: catalog-svc calls TheMovieDB over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# /var/lib/kursi/keys is created here, owned by kursi, so that a named volume
# mounted on it starts with that owner and the non-root user can write keys.
RUN useradd --system --user-group --uid 10001 --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin kursi \
 && install -d -o kursi -g kursi -m 0700 /var/lib/kursi/keys
COPY --from=builder /out/ /usr/local/bin/
USER kursi:kursi
WORKDIR /var/lib/kursi
ENV RUST_LOG=info \
    LOG_FORMAT=json
EXPOSE 50051 50052 50053 50054 8080
CMD ["edge"]
