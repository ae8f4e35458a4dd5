# Shared start of the load scripts (scripts/bench.sh, scripts/soak.sh); source it from the repo root.
# Sets OTELCOL (the real Collector), WORK (a temporary directory with the assistant-otel and loadgen
# binaries), PIDS (append every process started: they are killed on exit), and defines free_port.

OTELCOL=${ASSISTANT_OTEL_OTELCOL:-$(scripts/tools.sh --print-bin)/otelcol-assistant}
[[ -x $OTELCOL ]] || { echo "no Collector at $OTELCOL: run scripts/tools.sh (or set ASSISTANT_OTEL_OTELCOL)" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$WORK/ports" free 1; } # a port free on 127.0.0.1 now (internal/cmd/ports)

go build -o "$WORK/assistant-otel" ./cmd/assistant-otel
go build -o "$WORK/loadgen" ./cmd/loadgen
go build -o "$WORK/ports" ./internal/cmd/ports
