# Multi-stage build of the `sluice` binary on Debian 12 with Debian's libraries (the
# same packages ./dev installs; Node and npm bundle the console's page from web/). Not exercised by CI: no Docker engine runs there.
FROM debian:12.8-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      librdkafka-dev libavro-dev libboost-dev libboost-system-dev libsimdjson-dev libfmt-dev \
      libspdlog-dev libcli11-dev libre2-dev libbenchmark-dev libcurl4-openssl-dev liblz4-dev \
      libyaml-cpp-dev libssl-dev nlohmann-json3-dev libgtest-dev googletest \
      nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build --target sluice

FROM debian:12.8-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      librdkafka++1 librdkafka1 libavro23 libboost-system1.74.0 libsimdjson14 libfmt9 \
      libspdlog1.10 libre2-9 libcurl4 liblz4-1 libyaml-cpp0.7 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/sluice /usr/local/bin/sluice
COPY contract /opt/sluice/contract
ENV SLUICE_HOME=/opt/sluice
ENTRYPOINT ["sluice"]
