#!/usr/bin/env bash
# Installs / builds, with caching, the real programs that scripts/e2e.sh runs:
#   otelcol-assistant  OpenTelemetry Collector built by the Collector builder from tools/otelcol/builder.yaml
#   jaeger             Jaeger v2 (built in a throwaway module under the cache dir, never in the repo)
#   victoria-logs      VictoriaLogs (logs backend standing in for Loki; OTLP over HTTP)
#   prometheus, promtool  Prometheus 3 (the major version docker-compose.yml ships), built from its Go module
#                         in a throwaway module under the cache dir, never in the repo
#   helm               Helm 3 (helm lint / helm template of deploy/helm/assistant-otel; no cluster needed)
#   alertmanager, amtool  Alertmanager, the version docker-compose.yml ships (v0.34 does not build; keep <= v0.31)
#
# It installs nothing system-wide, starts no service and never needs sudo. What it needs from the system
# (Go, a C compiler, curl, jq, openssl) is checked first; a missing one is reported with the command that
# installs it (scripts/prereqs.sh).
#
# Cache: ${ASSISTANT_OTEL_TOOLS:-$HOME/.cache/assistant-otel/tools}; binaries in $CACHE/bin.
# A tool is rebuilt only when its stamp (pinned version + config hash + Go version) changed, so a second run
# takes seconds. The two slow builds (Collector, Jaeger) run in parallel in the background.
# Usage: scripts/tools.sh          (prints what it did and how long each step took)
#        scripts/tools.sh --print-bin   (only prints the bin directory)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ASSISTANT_OTEL_TOOLS:-$HOME/.cache/assistant-otel/tools}
BIN=$CACHE/bin

if [[ ${1:-} == --print-bin ]]; then
	echo "$BIN"
	exit 0
fi

# Pinned versions. Keep every Collector module at one release (see tools/otelcol/builder.yaml).
OTELCOL_BUILDER_VERSION=v0.161.0
JAEGER_MODULE_VERSION=v1.76.0 # Jaeger v2.13.0 (the v1.x module tag of the same release)
VLOGS_VERSION=v1.52.1
# Prometheus' Go module is tagged v0.3xx.y for Prometheus 3.xx.y: v0.305.0 = Prometheus 3.5.0, the version of
# the prom/prometheus image in docker-compose.yml (deploy/composetest checks that the two agree).
PROMETHEUS_MODULE_VERSION=v0.305.0
PROMETHEUS_VERSION=3.5.0
HELM_VERSION=v3.19.0
# The Kubernetes version helm template and helm lint assume without a cluster: Helm's Makefile derives it from
# its k8s.io/client-go (v0.34.0 in v3.19.0 = Kubernetes 1.34); `go install` alone leaves it at 1.20, which
# refuses charts that require a newer kubeVersion.
HELM_K8S_VERSION=1.34
# The prom/alertmanager image tag in docker-compose.yml (deploy/composetest checks that the two agree).
ALERTMANAGER_VERSION=v0.31.0
BUILDER_CONFIG=$ROOT/tools/otelcol/builder.yaml

bash "$ROOT/scripts/prereqs.sh" || exit 1

mkdir -p "$BIN" "$CACHE/logs" "$CACHE/stamps" "$CACHE/src"
# One run at a time per cache: a second one (say, scripts/promtool-test.sh while scripts/test.sh builds) waits
# here for the first, then finds everything up to date, instead of rebuilding in the same directories.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	echo "[tools] another scripts/tools.sh is building in $CACHE: waiting for it"
	flock 9
fi
export GOWORK=off
GO_VERSION=$(go env GOVERSION)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[tools] %s\n' "$*"; }

# stamp_ok NAME KEY BINARY...: true when the stamp matches KEY and every binary exists
stamp_ok() {
	local name=$1 key=$2
	shift 2
	[[ -f $CACHE/stamps/$name && $(cat "$CACHE/stamps/$name") == "$key" ]] || return 1
	local b
	for b in "$@"; do [[ -x $b ]] || return 1; done
}
stamp_write() { printf '%s\n' "$2" >"$CACHE/stamps/$1"; }

T0=$(now)
declare -A PIDS=() STARTS=()

# ---- Collector builder + Collector -------------------------------------------------------------
build_collector() {
	set -euo pipefail
	if ! stamp_ok builder "$OTELCOL_BUILDER_VERSION $GO_VERSION" "$BIN/builder"; then
		GOBIN=$BIN go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_BUILDER_VERSION"
		stamp_write builder "$OTELCOL_BUILDER_VERSION $GO_VERSION"
	fi
	local src=$CACHE/src/otelcol
	rm -rf "$src"
	mkdir -p "$src"
	cd "$src"
	# output_path in builder.yaml is ./otelcol-dist, relative to this directory.
	"$BIN/builder" --config "$BUILDER_CONFIG"
	install -m 0755 "$src/otelcol-dist/otelcol-assistant" "$BIN/otelcol-assistant"
}

# ---- Jaeger v2 -----------------------------------------------------------------------------------
build_jaeger() {
	set -euo pipefail
	local src=$CACHE/src/jaeger
	rm -rf "$src"
	mkdir -p "$src"
	cd "$src"
	# `go install` of cmd/jaeger fails (the module has replace directives), so use a throwaway module.
	go mod init assistant-otel-tools/jaeger
	go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION"
	go build -trimpath -ldflags='-s -w' -o "$BIN/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
}

# ---- VictoriaLogs --------------------------------------------------------------------------------
build_vlogs() {
	set -euo pipefail
	GOBIN=$BIN go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VLOGS_VERSION"
}

# ---- Prometheus 3 + promtool ---------------------------------------------------------------------
build_prometheus() {
	set -euo pipefail
	local src=$CACHE/src/prometheus mod=github.com/prometheus/prometheus gomod
	rm -rf "$src"
	mkdir -p "$src"
	cd "$src"
	# `go install` of cmd/prometheus fails (its go.mod has a replace directive): require the module from a
	# throwaway module and copy its replace directives, so that the build uses what Prometheus' own go.mod says.
	go mod init assistant-otel-tools/prometheus
	go mod edit -require="$mod@$PROMETHEUS_MODULE_VERSION"
	gomod=$(go mod download -json "$mod@$PROMETHEUS_MODULE_VERSION" | awk -F'"' '$2 == "GoMod" { print $4 }')
	awk '/^replace \(/ { block = 1; print; next } block { print; if ($0 ~ /^\)/) block = 0; next } /^replace / { print }' \
		"$gomod" >>go.mod
	go get -tool "$mod/cmd/prometheus@$PROMETHEUS_MODULE_VERSION" "$mod/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
	local ldflags="-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
	go build -trimpath -ldflags="$ldflags" -o "$BIN/prometheus" "$mod/cmd/prometheus"
	go build -trimpath -ldflags="$ldflags" -o "$BIN/promtool" "$mod/cmd/promtool"
}

# ---- Helm 3 ---------------------------------------------------------------------------------------
build_helm() {
	set -euo pipefail
	# The same -X flags as Helm's release Makefile: the version `helm version` prints, and the default
	# Kubernetes version (see HELM_K8S_VERSION).
	local major=${HELM_K8S_VERSION%%.*} minor=${HELM_K8S_VERSION#*.} pkg=helm.sh/helm/v3/pkg
	GOBIN=$BIN go install -trimpath \
		-ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
			-X $pkg/lint/rules.k8sVersionMajor=$major -X $pkg/lint/rules.k8sVersionMinor=$minor \
			-X $pkg/chartutil.k8sVersionMajor=$major -X $pkg/chartutil.k8sVersionMinor=$minor" \
		"helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

# ---- Alertmanager + amtool -----------------------------------------------------------------------
build_alertmanager() {
	set -euo pipefail
	local mod=github.com/prometheus/alertmanager
	GOBIN=$BIN go install -trimpath \
		-ldflags="-s -w -X github.com/prometheus/common/version.Version=${ALERTMANAGER_VERSION#v}" \
		"$mod/cmd/alertmanager@$ALERTMANAGER_VERSION" "$mod/cmd/amtool@$ALERTMANAGER_VERSION"
}

start() { # start NAME FUNCTION: run in the background, output to $CACHE/logs/NAME.log
	local name=$1 fn=$2
	STARTS[$name]=$(now)
	(
		set +e
		("$fn")
		rc=$?
		now >"$CACHE/logs/$name.end"
		exit "$rc"
	) >"$CACHE/logs/$name.log" 2>&1 &
	PIDS[$name]=$!
	log "$name: building in background (log: $CACHE/logs/$name.log)"
}

COLLECTOR_KEY="builder=$OTELCOL_BUILDER_VERSION config=$(sha256sum "$BUILDER_CONFIG" | cut -c1-16) $GO_VERSION"
JAEGER_KEY="jaeger=$JAEGER_MODULE_VERSION $GO_VERSION"
VLOGS_KEY="victoria-logs=$VLOGS_VERSION $GO_VERSION"
PROMETHEUS_KEY="prometheus=$PROMETHEUS_MODULE_VERSION $GO_VERSION"
HELM_KEY="helm=$HELM_VERSION k8s=$HELM_K8S_VERSION $GO_VERSION"
ALERTMANAGER_KEY="alertmanager=$ALERTMANAGER_VERSION $GO_VERSION"

declare -A KEYS=([collector]=$COLLECTOR_KEY [jaeger]=$JAEGER_KEY [victoria-logs]=$VLOGS_KEY [prometheus]=$PROMETHEUS_KEY [helm]=$HELM_KEY [alertmanager]=$ALERTMANAGER_KEY)

if stamp_ok collector "$COLLECTOR_KEY" "$BIN/otelcol-assistant"; then
	log "collector: up to date ($COLLECTOR_KEY)"
else
	start collector build_collector
fi
if stamp_ok jaeger "$JAEGER_KEY" "$BIN/jaeger"; then
	log "jaeger: up to date ($JAEGER_KEY)"
else
	start jaeger build_jaeger
fi
if stamp_ok victoria-logs "$VLOGS_KEY" "$BIN/victoria-logs"; then
	log "victoria-logs: up to date ($VLOGS_KEY)"
else
	start victoria-logs build_vlogs
fi
if stamp_ok prometheus "$PROMETHEUS_KEY" "$BIN/prometheus" "$BIN/promtool"; then
	log "prometheus: up to date ($PROMETHEUS_KEY)"
else
	start prometheus build_prometheus
fi
if stamp_ok helm "$HELM_KEY" "$BIN/helm"; then
	log "helm: up to date ($HELM_KEY)"
else
	start helm build_helm
fi
if stamp_ok alertmanager "$ALERTMANAGER_KEY" "$BIN/alertmanager" "$BIN/amtool"; then
	log "alertmanager: up to date ($ALERTMANAGER_KEY)"
else
	start alertmanager build_alertmanager
fi

failed=0
for name in collector jaeger victoria-logs prometheus helm alertmanager; do
	[[ -n ${PIDS[$name]:-} ]] || continue
	if wait "${PIDS[$name]}"; then
		stamp_write "$name" "${KEYS[$name]}"
		log "$name: built in $(awk -v a="${STARTS[$name]}" -v b="$(cat "$CACHE/logs/$name.end")" 'BEGIN { printf "%.1f", b - a }')s"
	else
		failed=1
		log "$name: FAILED; last lines of $CACHE/logs/$name.log:"
		tail -n 30 "$CACHE/logs/$name.log" >&2
	fi
done
((failed == 0)) || exit 1

log "versions:"
log "  $("$BIN/otelcol-assistant" --version 2>&1 | head -n1)"
log "  jaeger $(go version -m "$BIN/jaeger" | awk '$1 == "mod" { print $3 }') (= Jaeger v2.13.0): $BIN/jaeger"
log "  victoria-logs $(go version -m "$BIN/victoria-logs" | awk '$1 == "mod" { print $3 }'): $BIN/victoria-logs"
log "  $("$BIN/prometheus" --version 2>&1 | head -n1): $BIN/prometheus (+ promtool)"
log "  helm $("$BIN/helm" version --short 2>&1): $BIN/helm"
log "  $("$BIN/alertmanager" --version 2>&1 | head -n1): $BIN/alertmanager (+ amtool)"
log "bin: $BIN"
log "total: $(elapsed "$T0")s"
