# sluice on Debian 12: build stage with the -dev packages, runtime stage with the libraries.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config git ca-certificates \
      libsnappy-dev libzstd-dev liblz4-dev zlib1g-dev libmicrohttpd-dev libcurl4-openssl-dev \
      libcmocka-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSL_TESTS=OFF && cmake --build build -j"$(nproc)"

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsnappy1v5 libzstd1 liblz4-1 zlib1g libmicrohttpd12 libcurl4 curl ca-certificates \
      && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/sluice /usr/local/bin/sluice
RUN useradd --system --home /data sluice && mkdir -p /data && chown sluice /data
USER sluice
VOLUME /data
EXPOSE 8080
ENV SLUICE_LISTEN=0.0.0.0:8080 SLUICE_DATA_DIR=/data
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sluice", "serve"]
