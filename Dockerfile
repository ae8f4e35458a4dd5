# syntax=docker/dockerfile:1
# assistant-otel container image: one static binary on an empty base, running as a non-root user.
#   docker build -t assistant-otel .
#   docker run -e ASSISTANT_OTEL_SECRET=... -p 8080:8080 assistant-otel

# ---- build stage ----
FROM golang:1.26.8-trixie AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version the binary reports (`assistant-otel version`, service.version on its telemetry). A build from
# this copied tree has no VCS information, so without it the binary says "(devel)":
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t assistant-otel .
ARG VERSION=unreleased
RUN go build -trimpath -ldflags="-s -w -X main.stampedVersion=${VERSION}" -o /out/assistant-otel ./cmd/assistant-otel \
	&& mkdir -p /out/spool

# ---- final stage ----
# Empty base: no shell, no package manager, nothing but the static binary and CA certificates
# (for OTLP over TLS to a vendor backend). Runs as uid/gid 65532 ("nonroot"), as distroless does.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/assistant-otel /assistant-otel
# The spool directory exists in the image, owned by the service's user, so a named volume mounted on it
# (docker-compose.yml) starts out writable.
COPY --from=build --chown=65532:65532 /out/spool /var/lib/assistant-otel/spool
USER 65532:65532
EXPOSE 8080
# No shell or curl in the image: the health check runs the binary (see docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["/assistant-otel", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/assistant-otel", "serve"]
