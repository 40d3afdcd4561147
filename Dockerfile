# leadey-scan as a container image: for GitLab CI (templates/gitlab/leadey-scan.gitlab-ci.yml),
# Jenkins, Buildkite or anything else that runs containers.
#
#   docker build -t leadey-scan .
#   docker run --rm -v "$PWD:/scan:ro" leadey-scan .            # scan the current directory
#   docker run --rm -v "$PWD:/scan:ro" leadey-scan --history .  # and its whole git history
#
# Stage 1 builds a static binary (musl, as the release archives); stage 2 is a small Alpine
# image holding it, running as an unprivileged user. Alpine rather than scratch: CI systems
# (GitLab's `script:`, Jenkins' `sh`) run their steps with the image's shell.

FROM rust:1-alpine AS build
# Alpine's packages are not pinned (DL3018): a pin breaks the build when Alpine drops the version.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY rules ./rules
COPY README.md ./
# Without the line tables the release profile keeps for backtraces: 53 MB -> 12 MB.
ENV CARGO_PROFILE_RELEASE_STRIP=debuginfo
RUN cargo build --release --locked \
 && cp target/release/leadey-scan /leadey-scan \
 && /leadey-scan --version

FROM alpine:3
# ca-certificates: --verify talks HTTPS to the Leadey API.
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates \
 && adduser -D -H -u 10001 leadey
COPY --from=build /leadey-scan /usr/local/bin/leadey-scan
USER 10001:10001
WORKDIR /scan
ENTRYPOINT ["leadey-scan"]
CMD ["."]
