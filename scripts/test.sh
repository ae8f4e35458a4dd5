#!/usr/bin/env bash
# The test command: static checks, unit and integration tests (with the race
# detector), then the end-to-end run against the real Collector, Jaeger,
# VictoriaLogs and Prometheus. Builds the programs it runs into the project's
# tools cache (scripts/tools.sh); installs nothing system-wide, starts no system
# service, needs no sudo. Safe to run repeatedly.
#
# It runs with the ports developers usually have taken (a local Collector,
# Prometheus, Alertmanager, Jaeger, Grafana, a web server) held busy by decoys
# (internal/cmd/ports), so it proves that nothing depends on them being free.
# A port another program already uses is simply left as it is.
#
#   scripts/test.sh           everything
#   scripts/test.sh --quick   skip the end-to-end run (no downloads beyond Go modules)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"
bash scripts/prereqs.sh

# The usual ports of a developer's machine, plus every port the end-to-end run once used.
USUAL_PORTS=(3000 4317 4318 8080 8888 8889 9090 9093 9428 13133 13134 14317 14318 16685 16686 18080 18888)
step() { printf '\n=== %s\n' "$*"; }
step "holding the usual ports busy: ${USUAL_PORTS[*]}"
PORTS_TMP=$(mktemp -d)
trap 'rm -rf "$PORTS_TMP"' EXIT
go build -o "$PORTS_TMP/ports" ./internal/cmd/ports
# The holder's stdin is this script's pipe: it lets the ports go when this script ends, however it ends.
coproc HOLDER { exec "$PORTS_TMP/ports" hold "${USUAL_PORTS[@]}"; }
while IFS= read -r line <&"${HOLDER[0]}"; do
	echo "  $line"
	[[ $line == holding* ]] && break
done

quick=false
[[ "${1:-}" == "--quick" ]] && quick=true

STATICCHECK_VERSION=v0.8.2

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tools/*'))
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
if ! command -v staticcheck >/dev/null || [[ "$(staticcheck -version)" != *"(${STATICCHECK_VERSION#v})"* ]]; then
  go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi
staticcheck ./...

if ! $quick; then
  # First, so that tests using promtool find it.
  step "real tools (Collector, Jaeger, VictoriaLogs, Prometheus + promtool; cached after the first run)"
  bash scripts/tools.sh
fi

# Tests that run real programs find them here: the durability tests run the real Collector between the
# service and a test sink; the rule tests run promtool.
TOOLS_BIN=$(bash scripts/tools.sh --print-bin 2>/dev/null)
if [[ -x "$TOOLS_BIN/otelcol-assistant" ]]; then export ASSISTANT_OTEL_OTELCOL="$TOOLS_BIN/otelcol-assistant"; fi
if [[ -x "$TOOLS_BIN/promtool" ]]; then export ASSISTANT_OTEL_PROMTOOL="$TOOLS_BIN/promtool"; fi
if [[ -x "$TOOLS_BIN/prometheus" ]]; then export ASSISTANT_OTEL_PROMETHEUS="$TOOLS_BIN/prometheus"; fi
if [[ -x "$TOOLS_BIN/jaeger" ]]; then export ASSISTANT_OTEL_JAEGER="$TOOLS_BIN/jaeger"; fi

step "go test -race"
go test -race -count=1 ./...

if ! $quick; then
  step "fuzzing: every target for a bounded time (FUZZTIME, default 20s each)"
  bash scripts/fuzz.sh

  step "alert rules: promtool check rules + promtool test rules"
  bash scripts/promtool-test.sh

  step "deployment files validated by the real programs"
  (cd deploy/composetest && go vet ./...)
  (cd scripts/e2e/browser && go vet ./... && staticcheck ./...)
  bash scripts/validate-deploy.sh

  step "end-to-end against the real stack"
  bash scripts/e2e.sh

  step "benchmarks' smoke run (a few seconds each, so they never rot; figures in docs/performance.md)"
  bash scripts/bench-smoke.sh
fi
step "all checks passed"
