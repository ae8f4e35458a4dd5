#!/usr/bin/env bash
# The test command: static checks, unit and integration tests (with the race
# detector), then the end-to-end run against the real Collector, Jaeger,
# VictoriaLogs and Prometheus. Installs what it needs; safe to run repeatedly.
#
#   scripts/test.sh           everything
#   scripts/test.sh --quick   skip the end-to-end run (no downloads beyond Go modules)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"

quick=false
[[ "${1:-}" == "--quick" ]] && quick=true

STATICCHECK_VERSION=v0.8.2
step() { printf '\n=== %s\n' "$*"; }

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

# The durability tests run the real Collector between the service and a test sink.
otelcol="$(bash scripts/tools.sh --print-bin 2>/dev/null)/otelcol-assistant"
if [[ -x "$otelcol" ]]; then export ASSISTANT_OTEL_OTELCOL="$otelcol"; fi

step "go test -race"
go test -race -count=1 ./...

if ! $quick; then
  step "fuzzing: every target for a bounded time (FUZZTIME, default 20s each)"
  bash scripts/fuzz.sh

  step "alert rules: promtool check rules + promtool test rules"
  bash scripts/promtool-test.sh

  step "deployment files validated by the real programs"
  (cd deploy/composetest && go vet ./...)
  bash scripts/validate-deploy.sh

  step "end-to-end against the real stack"
  bash scripts/e2e.sh
fi
step "all checks passed"
