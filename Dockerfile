# shardcast images, one Dockerfile with a target per binary:
#
#   docker build --target controller -t ghcr.io/shardcast/shardcast-controller:0.1.0 .
#   docker build --target agent      -t ghcr.io/shardcast/shardcast-agent:0.1.0 .
#   docker build --target cli        -t ghcr.io/shardcast/shardcast:0.1.0 .
#
# The build stage compiles with Debian's -dev packages; each runtime stage installs only
# the shared libraries its binaries link (tests/helm/image_libs_test.py checks every
# library `ldd` reports against these package lists, since there is no container engine
# in CI to build the images).

ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
# doctest and python3 are needed by the CMake configure step even without tests.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates python3 \
      libcpprest-dev libssl-dev nlohmann-json3-dev doctest-dev libzstd-dev \
      libcurl4-openssl-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build -j"$(nproc)" --target shardcast-controller shardcast-agent shardcast \
 && strip /build/bin/shardcast-controller /build/bin/shardcast-agent /build/bin/shardcast

# Libraries every binary links (libcurl, OpenSSL, zstd) and the CA bundle for TLS
# origins. libc6, libstdc++6 and libgcc-s1 come with debian:12-slim.
FROM ${DEBIAN_IMAGE} AS runtime-base
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libssl3 libzstd1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 shardcast \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin shardcast

FROM runtime-base AS controller
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcpprest2.10 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/shardcast-controller /usr/local/bin/shardcast-controller
# The controller needs no privilege: its only writable path is the journal volume
# (made writable by the pod's fsGroup 65532).
USER 65532:65532
EXPOSE 7400
ENTRYPOINT ["shardcast-controller"]

FROM runtime-base AS agent
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/shardcast-agent /usr/local/bin/shardcast-agent
COPY --from=build /build/bin/shardcast /usr/local/bin/shardcast
# The agent runs as root: its data and socket directories are hostPaths that the kubelet
# creates root-owned (DirectoryOrCreate) and that survive agent upgrades, and it sets the
# socket's group (chown) for the inference pods that mount it. The chart drops every
# capability except CHOWN and forbids privilege escalation.
USER 0:0
EXPOSE 7401
ENTRYPOINT ["shardcast-agent"]

FROM runtime-base AS cli
COPY --from=build /build/bin/shardcast /usr/local/bin/shardcast
# The CLI talks to the agent's socket (0660 by default): pods that run it as this user
# need the socket's group as a supplemental group.
USER 65532:65532
ENTRYPOINT ["shardcast"]
